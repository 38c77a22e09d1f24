import type { Row } from '../../data/columns';
import { sourceAccountingSpec } from '../charts/source-accounting';
import { chart } from '../html/chart';
import { formatDate, formatNumber, short } from '../html/format';
import { h, type Html } from '../html/template';
import { paths, type TemporalLinks, temporalWorkflowsUrl } from '../links';
import type { DatasetListItem, QuarantineFilter, loadQuarantine } from '../loaders/data';
import { datasetProfileSection, type DatasetProfileView, sourceAccountingSection } from '../sections/dataset-profile';
import { layout } from './layout';

const temporal = (links: TemporalLinks) => ({ href: temporalWorkflowsUrl(links, 'trainingPipeline'), label: 'Pipelines that ingest' });

export function dataPage(versions: DatasetListItem[], links: TemporalLinks): Html {
  const shown = versions.slice(0, 30);
  const body = versions.length
    ? h`<div class="charts">${chart(
        'datasets-accounting',
        sourceAccountingSpec(
          shown.map((v) => ({
            source: `${v.name} ${v.contentHash.slice(0, 8)}`,
            accepted: v.rowCount,
            quarantined: v.quarantinedCount,
            duplicates: v.duplicateCount,
          })),
        ),
        versions.length > shown.length ? `The newest ${shown.length} of ${versions.length} versions.` : undefined,
      )}</div>
<table class="sortable" id="datasets"><thead><tr><th>created</th><th>name</th><th>content hash</th><th>read</th><th>accepted</th><th>quarantined</th><th>duplicates</th></tr></thead><tbody>${versions.map(
        (v) =>
          h`<tr><td data-value="${v.createdAt.toISOString()}">${formatDate(v.createdAt)}</td><td><a href="${paths.dataset(v.id)}">${v.name}</a></td><td><code>${short(v.contentHash, 16)}</code></td><td class="num">${formatNumber(v.rowsRead)}</td><td class="num">${formatNumber(v.rowCount)}</td><td class="num">${v.quarantinedCount ? h`<a href="${paths.quarantine(v.id)}">${formatNumber(v.quarantinedCount)}</a>` : '0'}</td><td class="num">${formatNumber(v.duplicateCount)}</td></tr>`,
      )}</tbody></table>`
    : h`<p class="note">No dataset versions yet: a pipeline run ingests one.</p>`;
  return layout({ title: 'Datasets', section: 'data', temporal: temporal(links), body });
}

export function datasetPage(view: DatasetProfileView, links: TemporalLinks): Html {
  const body = h`<dl class="facts">
  <dt>name</dt><dd>${view.name}</dd>
  <dt>version id</dt><dd><code>${view.id}</code></dd>
  <dt>content hash</dt><dd><code>${view.contentHash}</code></dd>
  <dt>created</dt><dd>${formatDate(view.createdAt)}</dd>
  <dt>browse</dt><dd><a href="${paths.rows(view.id)}" id="rows-link">accepted rows</a> · <a href="${paths.quarantine(view.id)}" id="quarantine-link">quarantined records</a> · <a href="${paths.quarantine(view.id)}?kind=duplicate">duplicates</a></dd>
</dl>
${sourceAccountingSection(view)}
${datasetProfileSection(view)}`;
  return layout({ title: `Dataset ${view.name}`, section: 'data', temporal: temporal(links), body });
}

function pager(base: string, params: Record<string, string | undefined>, offset: number, limit: number, total: number | undefined): Html {
  const link = (o: number) => {
    const query = new URLSearchParams(Object.entries({ ...params, offset: String(o) }).filter((e): e is [string, string] => !!e[1]));
    return `${base}?${query.toString()}`;
  };
  return h`<div class="pager">${offset > 0 ? h`<a href="${link(Math.max(0, offset - limit))}">← previous</a>` : ''}<span class="muted">${offset + 1}–${offset + limit}${total === undefined ? '' : ` of ${formatNumber(total)}`}</span>${
    total === undefined || offset + limit < total ? h`<a href="${link(offset + limit)}">next →</a>` : ''
  }</div>`;
}

export function quarantinePage(
  view: DatasetProfileView,
  filter: QuarantineFilter,
  page: Awaited<ReturnType<typeof loadQuarantine>>,
  links: TemporalLinks,
): Html {
  const base = paths.quarantine(view.id);
  const body = h`<p><a href="${paths.dataset(view.id)}">← ${view.name}</a> · ${filter.kind === 'duplicate' ? 'records deduplication dropped' : 'records that failed validation, with every reason'}</p>
<form class="filters" method="get" action="${base}">
  <label>column <select name="column"><option value="">any</option>${view.columns.map((c) => h`<option${c.name === filter.column ? h` selected` : ''}>${c.name}</option>`)}</select></label>
  <label>source <select name="source"><option value="">any</option>${page.sources.map((s) => h`<option${s === filter.source ? h` selected` : ''}>${s}</option>`)}</select></label>
  <label>kind <select name="kind"><option value="invalid"${filter.kind === 'invalid' ? h` selected` : ''}>invalid</option><option value="duplicate"${filter.kind === 'duplicate' ? h` selected` : ''}>duplicate</option></select></label>
  <button type="submit">filter</button>
</form>
<p id="quarantine-total">${formatNumber(page.total)} record${page.total === 1 ? '' : 's'}</p>
<table id="quarantine"><thead><tr><th>source</th><th>source record</th><th>reasons</th><th>raw record</th></tr></thead><tbody>${page.rows.map(
    (r) =>
      h`<tr><td>${r.source}</td><td class="num">${r.recordNumber + 1}</td><td>${(r.reasons as string[]).map((reason) => h`<div>${reason}</div>`)}</td><td><code>${JSON.stringify(r.raw)}</code></td></tr>`,
  )}</tbody></table>
${pager(base, { column: filter.column, source: filter.source, kind: filter.kind }, filter.offset, filter.limit, page.total)}`;
  return layout({ title: `Quarantine of ${view.name}`, section: 'data', temporal: temporal(links), body });
}

export function rowsPage(
  view: DatasetProfileView,
  rows: { index: number; data: Row }[],
  offset: number,
  limit: number,
  links: TemporalLinks,
): Html {
  const names = view.columns.map((c) => c.name);
  const body = h`<p><a href="${paths.dataset(view.id)}">← ${view.name}</a> · the accepted rows, in dataset row order (dataset row numbers, from 1, as in every message)</p>
<table id="rows"><thead><tr><th>row</th>${names.map((n) => h`<th>${n}</th>`)}</tr></thead><tbody>${rows.map(
    (r) =>
      h`<tr><td class="num">${r.index + 1}</td>${names.map((n) => h`<td>${r.data[n] === null || r.data[n] === undefined ? h`<span class="muted">null</span>` : String(r.data[n])}</td>`)}</tr>`,
  )}</tbody></table>
${pager(paths.rows(view.id), {}, offset, limit, view.counts.accepted)}`;
  return layout({ title: `Rows of ${view.name}`, section: 'data', temporal: temporal(links), body });
}
