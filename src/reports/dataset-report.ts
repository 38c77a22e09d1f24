import { html } from 'hono/html';
import type { ColumnProfile } from '../data/profile';
import { columnDistributionSpec, correlationSpec, nullShareSpec } from '../ui/charts/profile';
import { sourceAccountingSpec, type SourceCounts } from '../ui/charts/source-accounting';
import type { DatasetReportView } from './dataset-view';
import type { Html, ReportChart, ReportContent, ReportSection } from './html-document';
import { num, percent, table } from './html-parts';

/** `keel report dataset <name>[@version]`: where the rows came from, what they look like, and what was refused. */
export function datasetReportContent(view: DatasetReportView): ReportContent {
  const v = view.version;
  return {
    kind: 'dataset',
    title: `Dataset report: ${v.name}`,
    facts: [
      ['version', v.id],
      ['content hash', v.contentHash],
      ['created', v.createdAt],
      ['rows', `${num(v.rowCount)} accepted of ${num(v.rowsRead)} read = ${num(v.rowCount)} + ${num(v.quarantinedCount)} quarantined + ${num(v.duplicateCount)} duplicates`],
    ],
    sections: [accountingSection(view), profileSection(view), correlationSection(view), quarantineSection(view)],
  };
}

function accountingSection({ version, ingest }: DatasetReportView): ReportSection {
  const total: SourceCounts = { source: 'all sources', accepted: version.rowCount, quarantined: version.quarantinedCount, duplicates: version.duplicateCount };
  const sources: SourceCounts[] = (ingest?.sources ?? []).map((s) => ({ source: s.name, accepted: s.accepted, quarantined: s.quarantined, duplicates: s.duplicates }));
  return {
    title: 'Source accounting',
    charts: [{ title: 'Records read per source', spec: sourceAccountingSpec(sources.length > 1 ? [...sources, total] : sources.length ? sources : [total]), caption: 'read = accepted + quarantined + duplicates' }],
    body: ingest
      ? table(
          [
            { header: 'source', value: (s: (typeof ingest.sources)[number]) => s.name },
            { header: 'scanned', value: (s) => s.scanned, numeric: true },
            { header: 'outside the filter', value: (s) => s.filtered, numeric: true },
            { header: 'read', value: (s) => s.read, numeric: true },
            { header: 'accepted', value: (s) => s.accepted, numeric: true },
            { header: 'quarantined', value: (s) => s.quarantined, numeric: true },
            { header: 'duplicates', value: (s) => s.duplicates, numeric: true },
          ],
          ingest.sources,
        )
      : undefined,
  };
}

function profileSection({ version, profile }: DatasetReportView): ReportSection {
  if (!profile) return { title: 'Column profile', empty: 'This version has no profile (it was not validated).', charts: [] };
  const columns = version.columns.filter((c) => profile[c.name]);
  const charts: ReportChart[] = [{ title: 'Null share per column', spec: nullShareSpec(profile) }];
  for (const column of columns) {
    const spec = columnDistributionSpec(column.name, profile[column.name]!);
    if (spec) charts.push({ title: `Distribution of ${column.name}`, spec });
  }
  return {
    title: 'Column profile',
    charts,
    body: table(
      [
        { header: 'column', value: (c: (typeof columns)[number]) => c.name },
        { header: 'type', value: (c) => c.type },
        { header: 'present', value: (c) => profile[c.name]!.count, numeric: true },
        { header: 'null share', value: (c) => percent(nullShare(profile[c.name]!)), numeric: true },
        { header: 'summary', value: (c) => describe(profile[c.name]!) },
      ],
      columns,
    ),
  };
}

function nullShare(p: ColumnProfile): number {
  return p.count + p.nulls ? p.nulls / (p.count + p.nulls) : 0;
}

function describe(p: ColumnProfile): string {
  switch (p.type) {
    case 'number':
      return `min ${num(p.min)}, mean ${num(p.mean)}, max ${num(p.max)}, std ${num(p.std)}${p.sampled ? ` (histogram of ${num(p.sampled)} sampled rows)` : ''}`;
    case 'string':
      return `${num(p.distinct)}${p.distinctCapped ? '+' : ''} distinct; top ${p.top.slice(0, 3).map((t) => t.value).join(', ')}`;
    case 'boolean':
      return `${percent(p.count ? p.trueCount / p.count : 0)} true`;
    default:
      return `${p.min ?? '-'} .. ${p.max ?? '-'}`;
  }
}

function correlationSection({ correlations }: DatasetReportView): ReportSection {
  return {
    title: 'Correlations',
    empty: 'Fewer than two numeric columns: nothing to correlate.',
    charts: correlations ? [{ title: 'Correlations', spec: correlationSpec(correlations), caption: `Pearson’s r over ${num(correlations.rows)} rows spread evenly over the version.` }] : [],
  };
}

function quarantineSection({ version, quarantineReasons }: DatasetReportView): ReportSection {
  return {
    title: `Quarantine (${num(version.quarantinedCount)} records)`,
    charts: [],
    body: quarantineReasons.length
      ? (html`<p>Reasons without the offending value, most frequent first (a record may have several); the example shows one in full.</p>${table(
          [
            { header: 'source', value: (r: DatasetReportView['quarantineReasons'][number]) => r.source },
            { header: 'reason', value: (r) => r.reason },
            { header: 'records', value: (r) => r.count, numeric: true },
            { header: 'example', value: (r) => r.example },
          ],
          quarantineReasons,
        )}` as Html)
      : (html`<p class="empty">No record was quarantined.</p>` as Html),
  };
}
