import type { ImportResult } from '../registry/import-onnx';
import type { diffVersions, FeaturePipelineSummary, VersionLineage } from '../registry/lineage';
import type { ModelContract } from '../shared/model-contract';

/** How `keel models` writes a model version, its lineage and a diff of two versions as text. */

/** The first sample outputs of an import, per task. */
export function sampleSummary(sample: ImportResult['sample']): string {
  switch (sample.task) {
    case 'binary':
      return `probabilities ${sample.probabilities
        .slice(0, 5)
        .map((p) => p.toFixed(3))
        .join(', ')}`;
    case 'multiclass':
      return `labels ${sample.labels.slice(0, 5).join(', ')}`;
    case 'regression':
      return `predictions ${sample.predictions
        .slice(0, 5)
        .map((p) => fmt(p))
        .join(', ')}`;
  }
}

export function formatLineage(view: VersionLineage): string {
  const metrics = view.metrics as Record<string, unknown>;
  const params = view.params as Record<string, unknown>;
  const lines = [
    `${view.model}@${view.version}  ${view.status}${view.aliases.length ? `  [${view.aliases.join(', ')}]` : ''}  (${view.source})`,
    `  created     ${view.createdAt.toISOString()} by ${view.creator}`,
  ];
  if (view.description) lines.push(`  description ${view.description}`);
  if (Object.keys(view.tags).length)
    lines.push(
      `  tags        ${Object.entries(view.tags)
        .map(([k, x]) => `${k}=${x}`)
        .join(' ')}`,
    );
  lines.push(
    `  artifact    ${view.artifact.sha256} (${view.artifact.bytes} B) ${view.artifact.check === 'ok' ? 'sha256 verified' : view.artifact.check}`,
  );
  lines.push('', Object.keys(metrics).length ? 'Metrics' : 'Metrics: none recorded');
  for (const [k, x] of Object.entries(metrics)) lines.push(`  ${k.padEnd(16)} ${typeof x === 'number' ? fmt(x) : JSON.stringify(x)}`);
  lines.push('', 'Params');
  for (const [k, x] of Object.entries(params)) lines.push(`  ${k.padEnd(16)} ${JSON.stringify(x)}`);
  const contract = view.contract as Partial<Pick<ModelContract, 'task' | 'inputs' | 'outputs' | 'classes' | 'treeEnsemble'>>;
  const outputs = (contract.outputs ?? []).map((o) => o.name).join(', ');
  lines.push(
    '',
    `Contract      ${contract.task ?? 'binary'}: ${(contract.inputs ?? []).map((i) => `${i.name}:${i.type}`).join(', ')} -> ${outputs}`,
  );
  if (contract.classes) lines.push(`  classes     ${contract.classes.join(', ')}`);
  if (contract.treeEnsemble) {
    const { op, mlOpset, categoricalSplits } = contract.treeEnsemble;
    lines.push(`  trees       ${op} (ai.onnx.ml opset ${mlOpset}), native categorical splits as ${categoricalSplits}`);
  }
  if (view.featurePipeline) {
    lines.push('Feature pipeline (inside the ONNX graph)');
    for (const f of view.featurePipeline.features) {
      lines.push(`  ${f.name.padEnd(14)} ${describeFeature(f)}`);
    }
  }
  lines.push('', 'Dataset');
  if (!view.dataset) lines.push('  (none recorded: an imported model)');
  else if (view.dataset.missing) lines.push(`  ${view.dataset.id} (content hash ${view.dataset.contentHash}) — no longer in the database`);
  else {
    const d = view.dataset;
    lines.push(`  ${d.name} ${d.id}`);
    lines.push(`  content hash ${d.contentHash}; ${d.rowCount} rows (${d.quarantinedCount} quarantined of ${d.rowsRead} read)`);
    if (d.profile) {
      for (const [column, s] of Object.entries(d.profile)) {
        const nulls = `${s.nulls} null`;
        const detail =
          s.type === 'number'
            ? `min ${fmt(s.min as number)} max ${fmt(s.max as number)} mean ${fmt(s.mean)} std ${fmt(s.std)}`
            : s.type === 'string'
              ? `${s.distinct} distinct; top ${(s.top as string[]).join(', ')}`
              : `${s.min} .. ${s.max}`;
        lines.push(`    ${column.padEnd(12)} ${String(s.type).padEnd(8)} ${nulls.padEnd(9)} ${detail}`);
      }
    } else lines.push('    (no profile)');
  }
  lines.push('', 'Code');
  lines.push(`  ${shortCommit(view.code.gitCommit, view.code.gitDirty, true)}`);
  lines.push('', 'Produced by');
  if (view.run) {
    lines.push(`  workflow ${view.run.workflowId}  run ${view.run.runId}`);
    lines.push(`  ${view.run.url}`);
  } else lines.push('  (imported; no workflow run)');
  if (view.trainingRun) {
    lines.push(
      `  training run: ${view.trainingRun.iterations} iterations in ${view.trainingRun.trainSeconds.toFixed(1)} s; model json ${view.trainingRun.modelArtifactSha256.slice(0, 16)}`,
    );
    const report = view.trainingRun.report;
    lines.push(
      report
        ? `  run report: ${report.location} (keel report run ${view.model}@${view.version} --stored)`
        : `  run report: none stored (keel report run ${view.model}@${view.version} renders one)`,
    );
  }
  if (view.aliasMoves.length) {
    lines.push('', 'Alias history');
    for (const m of view.aliasMoves)
      lines.push(
        `  ${m.at.toISOString()}  ${m.alias} ${versionLabel(m.fromVersion)} -> ${versionLabel(m.toVersion)}  ${m.action} by ${m.actor}: ${m.reason}`,
      );
  }
  if (view.events.length) {
    lines.push('', 'Events');
    for (const e of view.events) lines.push(`  ${e.at.toISOString()}  ${e.action} by ${e.actor}${e.reason ? `: ${e.reason}` : ''}`);
  }
  return lines.join('\n');
}

/** One fitted feature as the graph applies it (see FeaturePipelineSummary). */
function describeFeature(f: FeaturePipelineSummary['features'][number]): string {
  switch (f.kind) {
    case 'numeric':
      return f.mean === undefined
        ? 'numeric: passed to the trees as is (missing stays missing)'
        : `numeric: impute mean ${fmt(f.mean)}, scale by std ${fmt(f.std)}`;
    case 'categorical':
      return `categorical: ${f.encoding ?? 'one-hot'} over ${f.categories} categories (${f.top.join(', ')}${f.categories > f.top.length ? ', ...' : ''})`;
    case 'boolean':
      return `boolean: 1 true / 0 false${f.share === undefined ? ', missing stays missing' : `, missing = ${fmt(f.share)} (training share of true)`}`;
    case 'datetime':
      return `datetime (UTC): ${f.parts.map((p) => (p.values ? `${p.part} one-hot over ${p.values} values` : p.encoding ? `${p.part} ${p.encoding}` : p.part)).join(', ')}`;
  }
}

export function formatDiff(diff: ReturnType<typeof diffVersions>): string {
  const lines = [`${diff.a} vs ${diff.b}`, '', 'Metrics (b - a)'];
  for (const m of diff.metrics) {
    const delta = m.delta === null ? '' : `  ${m.delta >= 0 ? '+' : ''}${fmt(m.delta)}`;
    lines.push(`  ${m.name.padEnd(24)} ${fmt(m.a).padStart(12)} ${fmt(m.b).padStart(12)}${delta}`);
  }
  lines.push('', diff.params.length ? 'Params' : 'Params: identical');
  for (const p of diff.params) lines.push(`  ${p.path}: ${JSON.stringify(p.a)} -> ${JSON.stringify(p.b)}`);
  lines.push('', `Data: ${diff.data.same ? 'same dataset version' : 'different dataset versions'}`);
  for (const [side, d] of [
    ['a', diff.data.a],
    ['b', diff.data.b],
  ] as const) {
    lines.push(
      `  ${side}: ${d ? `${d.name ?? '?'} ${d.id.slice(0, 16)} (${d.rowCount ?? '?'} rows, content ${d.contentHash.slice(0, 16)})` : 'none'}`,
    );
  }
  lines.push('', `Code: ${diff.code.same ? 'same' : 'different'}`);
  lines.push(
    `  a: ${shortCommit(diff.code.a.gitCommit, diff.code.a.gitDirty)}`,
    `  b: ${shortCommit(diff.code.b.gitCommit, diff.code.b.gitDirty)}`,
  );
  lines.push(
    '',
    `Artifact: ${diff.artifact.same ? 'identical bytes' : `${diff.artifact.a.slice(0, 16)} -> ${diff.artifact.b.slice(0, 16)}`}`,
  );
  if (diff.contract.length) {
    lines.push('', 'Contract');
    for (const c of diff.contract) lines.push(`  ${c.path}: ${JSON.stringify(c.a)} -> ${JSON.stringify(c.b)}`);
  }
  if (diff.featurePipeline.length) {
    lines.push('', 'Feature pipeline');
    for (const c of diff.featurePipeline) lines.push(`  ${c.path}: ${JSON.stringify(c.a)} -> ${JSON.stringify(c.b)}`);
  }
  return lines.join('\n');
}

export function paddedColumns(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}

export function formatAliases(aliases: Record<string, number>): string {
  const entries = Object.entries(aliases);
  return entries.length ? entries.map(([a, n]) => `${a}=v${n}`).join(' ') : '-';
}

export function versionLabel(version: number | null): string {
  return version === null ? '(none)' : `v${version}`;
}

function fmt(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 1000 ? value.toFixed(1) : value.toPrecision(4);
}

export function shortCommit(commit: string | null, dirty: boolean | null, long = false): string {
  if (!commit) return 'unknown (not a git checkout)';
  return `git ${long ? commit : commit.slice(0, 12)}${dirty ? ' (dirty work tree)' : dirty === false ? ' (clean)' : ''}`;
}
