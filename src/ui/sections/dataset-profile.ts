import type { DatasetProfile } from '../../data/profile';
import { columnDistributionSpec, correlationSpec, type CorrelationMatrix, nullShareSpec } from '../charts/profile';
import { sourceAccountingSpec, type SourceCounts } from '../charts/source-accounting';
import { chart } from '../html/chart';
import { formatNumber, formatPercent } from '../html/format';
import { h, type Html } from '../html/template';

/** What the dataset sections show of one version. */
export interface DatasetProfileView {
  id: string;
  name: string;
  contentHash: string;
  createdAt: Date;
  columns: { name: string; type: string }[];
  counts: { read: number; accepted: number; quarantined: number; duplicates: number };
  /** Per source (an ingest report); empty for versions stored before reports. */
  sources: SourceCounts[];
  profile: DatasetProfile | null;
  correlations: CorrelationMatrix | null;
}

/** Source accounting: read = accepted + quarantined + duplicates, per source and in total, as a bar. */
export function sourceAccountingSection(view: DatasetProfileView): Html {
  const { read, accepted, quarantined, duplicates } = view.counts;
  const rows: SourceCounts[] = [
    ...(view.sources.length > 1 ? view.sources : []),
    { source: view.sources.length > 1 ? 'all sources' : (view.sources[0]?.source ?? 'all'), accepted, quarantined, duplicates },
  ];
  return h`<section class="accounting">
  <h2>Source accounting</h2>
  <p><strong>${formatNumber(read)}</strong> records read = <strong>${formatNumber(accepted)}</strong> accepted + <strong>${formatNumber(quarantined)}</strong> quarantined + <strong>${formatNumber(duplicates)}</strong> duplicates${
    read !== accepted + quarantined + duplicates ? h` <span class="status failed">does not add up</span>` : ''
  }</p>
  <div class="charts">${chart('source-accounting', sourceAccountingSpec(rows))}</div>
</section>`;
}

/** Per-column profile: a table of statistics, null share, each column's distribution, correlations. */
export function datasetProfileSection(view: DatasetProfileView): Html {
  const profile = view.profile;
  if (!profile) return h`<p class="note">This version has no stored profile.</p>`;
  const entries = Object.entries(profile);
  return h`<section class="profile">
  <h2>Columns</h2>
  <table class="sortable" id="columns"><thead><tr><th>column</th><th>type</th><th>present</th><th>nulls</th><th>null share</th><th>min</th><th>mean</th><th>max</th><th>distinct</th></tr></thead><tbody>${entries.map(
    ([name, p]) =>
      h`<tr><td>${name}</td><td>${p.type}</td><td class="num">${formatNumber(p.count)}</td><td class="num">${formatNumber(p.nulls)}</td><td class="num" data-value="${p.count + p.nulls ? p.nulls / (p.count + p.nulls) : 0}">${formatPercent(p.count + p.nulls ? p.nulls / (p.count + p.nulls) : 0, 2)}</td><td class="num">${'min' in p ? formatNumber(p.min) : '–'}</td><td class="num">${p.type === 'number' ? formatNumber(p.mean) : '–'}</td><td class="num">${'max' in p ? formatNumber(p.max) : '–'}</td><td class="num">${p.type === 'string' ? `${formatNumber(p.distinct)}${p.distinctCapped ? '+' : ''}` : '–'}</td></tr>`,
  )}</tbody></table>
  <div class="charts">${chart('null-share', nullShareSpec(profile))}${view.correlations ? chart('correlations', correlationSpec(view.correlations)) : ''}</div>
  <h2>Distributions</h2>
  <div class="charts">${entries.map(([name, p], i) => chart(`column-${i}`, columnDistributionSpec(name, p)))}</div>
</section>`;
}
