import type { VersionDiff, VersionLineage } from '../../registry/lineage';
import type { ModelSummary } from '../../registry/model-registry';
import type { ModelMetrics } from '../../shared/model-metrics';
import { headlineMetric } from '../../shared/task-metrics';
import { aliasIntervals, aliasTimelineSpec } from '../charts/alias-timeline';
import { chart } from '../html/chart';
import { formatDate, formatNumber, short } from '../html/format';
import { h, type Html } from '../html/template';
import { paths, type TemporalLinks, temporalWorkflowsUrl, temporalWorkflowUrl } from '../links';
import type { ModelDetail } from '../loaders/models';
import { scalarMetrics } from '../sections/run-evaluation';
import { badge, layout } from './layout';

const aliasList = (aliases: Record<string, number>) =>
  Object.entries(aliases)
    .map(([alias, v]) => `${alias} → v${v}`)
    .join(', ') || '–';

export function modelsPage(models: ModelSummary[], links: TemporalLinks): Html {
  const body = models.length
    ? h`<table class="sortable" id="models"><thead><tr><th>model</th><th>versions</th><th>latest</th><th>aliases</th><th>registered</th></tr></thead><tbody>${models.map(
        (m) =>
          h`<tr><td><a href="${paths.model(m.name)}">${m.name}</a></td><td class="num">${m.versions}</td><td class="num">${m.latestVersion ? h`<a href="${paths.version(m.name, m.latestVersion)}">v${m.latestVersion}</a>` : '–'}</td><td>${aliasList(m.aliases)}</td><td>${formatDate(m.createdAt)}</td></tr>`,
      )}</tbody></table>`
    : h`<p class="note">No registered models yet.</p>`;
  return layout({
    title: 'Models',
    section: 'models',
    temporal: { href: temporalWorkflowsUrl(links, 'trainingPipeline'), label: 'Pipelines that register' },
    body,
  });
}

export function modelPage(detail: ModelDetail, links: TemporalLinks, now: Date): Html {
  const { name, versions } = detail;
  const newest = versions[0]?.version;
  const previous = versions[1]?.version;
  const served = detail.servedAt;
  const body = h`<p>Aliases: ${aliasList(detail.aliases)}</p>
<div class="charts">${detail.moves.length ? chart('alias-timeline', aliasTimelineSpec(aliasIntervals(detail.moves, now))) : h`<p class="note">No alias was ever set.</p>`}</div>
<form class="filters" method="get" action="${paths.model(name)}">
  <label>What served at <input type="datetime-local" step="1" name="at" value="${served ? served.at.toISOString().slice(0, 19) : ''}"> (UTC)</label>
  <button type="submit">ask</button>
</form>
${
  served
    ? h`<div class="panel" id="served-at">At ${formatDate(served.at)}, <code>${served.alias}</code> ${
        served.version
          ? h`pointed to <a href="${paths.version(name, served.version.version)}">v${served.version.version}</a> (since ${formatDate(served.since?.at)}, ${served.since?.action} by ${served.since?.actor}: ${served.since?.reason}${served.until ? h`; until ${formatDate(served.until.at)}` : ''})`
          : 'pointed to no version'
      }.</div>`
    : ''
}
<h2>Versions</h2>
<table class="sortable" id="versions"><thead><tr><th>version</th><th>created</th><th>status</th><th>source</th><th>headline metric</th><th>dataset hash</th><th>code</th><th>run</th></tr></thead><tbody>${versions.map(
    (v) => {
      const headline = headlineMetric(v.metrics as ModelMetrics);
      return h`<tr><td data-value="${v.version}"><a href="${paths.version(name, v.version)}">v${v.version}</a></td><td>${formatDate(v.createdAt)}</td><td>${badge(v.status)}</td><td>${v.source}</td><td>${headline ?? '–'}</td><td><code>${short(v.datasetHash, 12)}</code></td><td><code>${short(v.gitCommit, 10)}${v.gitDirty ? ' (dirty)' : ''}</code></td><td>${
        v.workflowId ? h`<a href="${paths.run(`${v.workflowId}/${v.runId}`)}">${short(v.workflowId, 36)}</a>` : '–'
      }</td></tr>`;
    },
  )}</tbody></table>
${
  newest && previous
    ? h`<form class="filters" method="get" action="/models/${encodeURIComponent(name)}/diff">
  <label>diff <select name="a">${versions.map((v) => h`<option${v.version === previous ? h` selected` : ''}>${v.version}</option>`)}</select></label>
  <label>against <select name="b">${versions.map((v) => h`<option${v.version === newest ? h` selected` : ''}>${v.version}</option>`)}</select></label>
  <button type="submit">compare</button></form>`
    : ''
}`;
  return layout({
    title: `Model ${name}`,
    section: 'models',
    temporal: { href: temporalWorkflowsUrl(links, 'trainingPipeline'), label: 'Pipelines' },
    body,
  });
}

export function versionPage(lineage: VersionLineage, links: TemporalLinks): Html {
  const metrics = scalarMetrics(lineage.metrics as ModelMetrics);
  const run = lineage.run;
  const body = h`<dl class="facts" id="lineage">
  <dt>status</dt><dd>${badge(lineage.status)} ${lineage.aliases.length ? h`aliases: <strong>${lineage.aliases.join(', ')}</strong>` : ''}</dd>
  <dt>created</dt><dd>${formatDate(lineage.createdAt)} by ${lineage.creator}</dd>
  <dt>dataset</dt><dd>${lineage.dataset ? h`<a href="${paths.dataset(lineage.dataset.id)}">${lineage.dataset.name ?? lineage.dataset.id}</a> hash <code>${lineage.dataset.contentHash}</code>${lineage.dataset.missing ? ' (no longer stored)' : ''}` : 'imported (no keel dataset)'}</dd>
  <dt>code version</dt><dd><code>${lineage.code.gitCommit ?? 'unknown'}</code>${lineage.code.gitDirty ? ' with uncommitted changes' : ''}</dd>
  <dt>pipeline run</dt><dd>${run ? h`<a href="${paths.run(`${run.workflowId}/${run.runId}`)}">${run.workflowId}</a> (<a href="${run.url}" target="_blank" rel="noopener">Temporal</a>)` : '–'}</dd>
  <dt>training run</dt><dd>${lineage.trainingRun ? h`<code>${lineage.trainingRun.id}</code>, ${lineage.trainingRun.iterations} iterations` : '–'}</dd>
  <dt>artifact</dt><dd><code>${lineage.artifact.sha256}</code> (${formatNumber(lineage.artifact.bytes)} bytes)</dd>
</dl>
<h2>Metrics (test split)</h2>
<table><tbody>${Object.entries(metrics).map(([name, value]) => h`<tr><td>${name}</td><td class="num">${formatNumber(value)}</td></tr>`)}</tbody></table>
<h2>Parameters</h2>
<pre class="mono">${JSON.stringify(lineage.params, null, 2)}</pre>
<h2>Alias moves</h2>
<table id="alias-moves"><thead><tr><th>at</th><th>alias</th><th>move</th><th>by</th><th>reason</th></tr></thead><tbody>${lineage.aliasMoves.map(
    (m) =>
      h`<tr><td>${formatDate(m.at)}</td><td>${m.alias}</td><td>${m.action}: v${m.fromVersion ?? '–'} → v${m.toVersion ?? '–'}</td><td>${m.actor}</td><td>${m.reason}</td></tr>`,
  )}</tbody></table>
<h2>Events</h2>
<table><tbody>${lineage.events.map((e) => h`<tr><td>${formatDate(e.at)}</td><td>${e.action}</td><td>${e.actor}</td><td>${e.reason}</td></tr>`)}</tbody></table>`;
  return layout({
    title: `${lineage.model} v${lineage.version}`,
    section: 'models',
    temporal: {
      href: run ? temporalWorkflowUrl(links, run.workflowId, run.runId) : temporalWorkflowsUrl(links),
      label: 'The run that made it',
    },
    body,
  });
}

export function diffPage(name: string, diff: VersionDiff, links: TemporalLinks): Html {
  const rows = (list: { path: string; a: unknown; b: unknown }[]) =>
    list.length
      ? h`${list.map((c) => h`<tr><td><code>${c.path}</code></td><td>${JSON.stringify(c.a)}</td><td>${JSON.stringify(c.b)}</td></tr>`)}`
      : h`<tr><td colspan="3" class="muted">no differences</td></tr>`;
  const body = h`<p><a href="${paths.model(name)}">← ${name}</a></p>
<dl class="facts"><dt>data</dt><dd>${diff.data.same ? 'same dataset version' : h`<code>${diff.data.a?.contentHash ?? '–'}</code> → <code>${diff.data.b?.contentHash ?? '–'}</code>`}</dd>
<dt>code</dt><dd>${diff.code.same ? 'same code version' : h`<code>${diff.code.a.gitCommit ?? '–'}</code> → <code>${diff.code.b.gitCommit ?? '–'}</code>`}</dd>
<dt>artifact</dt><dd>${diff.artifact.same ? 'identical bytes' : 'different'}</dd></dl>
<h2>Metrics</h2>
<table id="diff-metrics"><thead><tr><th>metric</th><th>${diff.a}</th><th>${diff.b}</th><th>change</th></tr></thead><tbody>${diff.metrics.map(
    (m) =>
      h`<tr><td>${m.name}</td><td class="num">${formatNumber(m.a)}</td><td class="num">${formatNumber(m.b)}</td><td class="num">${formatNumber(m.delta)}</td></tr>`,
  )}</tbody></table>
<h2>Parameters</h2><table><thead><tr><th>path</th><th>${diff.a}</th><th>${diff.b}</th></tr></thead><tbody>${rows(diff.params)}</tbody></table>
<h2>Contract</h2><table><thead><tr><th>path</th><th>${diff.a}</th><th>${diff.b}</th></tr></thead><tbody>${rows(diff.contract)}</tbody></table>
<h2>Feature pipeline</h2><table><thead><tr><th>path</th><th>${diff.a}</th><th>${diff.b}</th></tr></thead><tbody>${rows(diff.featurePipeline)}</tbody></table>`;
  return layout({
    title: `${diff.a} against ${diff.b}`,
    section: 'models',
    temporal: { href: temporalWorkflowsUrl(links, 'trainingPipeline'), label: 'Pipelines' },
    body,
  });
}
