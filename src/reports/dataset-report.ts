import { formatDate, formatNumber } from '../ui/html/format';
import { h, type Html } from '../ui/html/template';
import { datasetProfileSection, sourceAccountingSection } from '../ui/sections/dataset-profile';
import type { DatasetReportView } from './dataset-view';
import type { ReportDocument } from './html-document';

/**
 * `keel report dataset <name>[@version]`: where the rows came from (read = accepted + quarantined
 * + duplicates), what they look like, and why records were refused — with the dashboard's sections.
 */
export function datasetReportDocument(view: DatasetReportView): ReportDocument {
  const { profile } = view;
  return {
    kind: 'dataset',
    title: `Dataset report: ${profile.name}`,
    facts: [
      ['version', h`<code>${profile.id}</code>`],
      ['content hash', h`<code>${profile.contentHash}</code>`],
      ['created', formatDate(profile.createdAt)],
      ['rows', `${formatNumber(profile.counts.accepted)} accepted of ${formatNumber(profile.counts.read)} read`],
    ],
    body: h`${sourceAccountingSection(profile)}
${sourcesTable(view)}
${datasetProfileSection(profile)}
${quarantineSection(view)}`,
  };
}

function sourcesTable({ ingest }: DatasetReportView): Html {
  if (!ingest?.sources.length) return h``;
  return h`<table id="sources"><thead><tr><th>source</th><th>scanned</th><th>outside the filter</th><th>read</th><th>accepted</th><th>quarantined</th><th>duplicates</th></tr></thead><tbody>${ingest.sources.map(
    (s) =>
      h`<tr><td>${s.name}</td><td class="num">${formatNumber(s.scanned)}</td><td class="num">${formatNumber(s.filtered)}</td><td class="num">${formatNumber(s.read)}</td><td class="num">${formatNumber(s.accepted)}</td><td class="num">${formatNumber(s.quarantined)}</td><td class="num">${formatNumber(s.duplicates)}</td></tr>`,
  )}</tbody></table>`;
}

function quarantineSection({ profile, quarantineReasons }: DatasetReportView): Html {
  return h`<section class="quarantine"><h2>Quarantine reasons (${formatNumber(profile.counts.quarantined)} records)</h2>${
    quarantineReasons.length
      ? h`<p class="muted">Grouped without the offending value, most frequent first; a record can have several reasons. The example shows one in full.</p>
<table class="sortable" id="quarantine-reasons"><thead><tr><th>source</th><th>reason</th><th>records</th><th>example</th></tr></thead><tbody>${quarantineReasons.map(
          (r) => h`<tr><td>${r.source}</td><td>${r.reason}</td><td class="num">${formatNumber(r.count)}</td><td>${r.example}</td></tr>`,
        )}</tbody></table>`
      : h`<p class="muted">No record was quarantined.</p>`
  }</section>`;
}
