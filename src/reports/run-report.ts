import { html } from 'hono/html';
import type { BinaryMetrics, ModelMetrics, MulticlassMetrics } from '../shared/pipeline-result';
import { calibrationSpec } from '../ui/charts/calibration';
import { binaryConfusion, confusionMatrixSpec } from '../ui/charts/confusion-matrix';
import { learningCurveSpec } from '../ui/charts/learning-curve';
import { perClassSpec } from '../ui/charts/per-class';
import { residualsSpec } from '../ui/charts/residuals';
import { prSpec, rocSpec } from '../ui/charts/roc-pr';
import type { Html, ReportChart, ReportContent, ReportSection } from './html-document';
import { facts, num, table, verdict } from './html-parts';
import type { RunReportView } from './run-view';

/** `keel report run <id>`: one pipeline run's training, evaluation, gate and lineage. */
export function runReportContent(view: RunReportView, options: { temporalUi?: string; namespace?: string } = {}): ReportContent {
  const { run, gate, version } = view;
  return {
    kind: 'run',
    title: `Run report: ${run.model}${version ? ` v${version.version}` : ''}`,
    facts: [
      ['training run', run.id],
      ['trainer', String(run.trainer.kind ?? 'unknown')],
      ['gate', gate ? `${gate.passed ? 'passed' : 'rejected'}: ${gate.reasons.join('; ')}` : 'not evaluated'],
      ['registered', version ? `v${version.version}${version.aliases.length ? ` [${version.aliases.join(', ')}]` : ''}` : 'no'],
      ['trained', `${run.createdAt} in ${num(run.trainSeconds)} s`],
    ],
    sections: [
      summarySection(view),
      learningSection(view),
      evaluationSection(view),
      trialsSection(view),
      gateSection(view),
      lineageSection(view, options),
    ],
  };
}

function summarySection({ evaluation, validationMetrics }: RunReportView): ReportSection {
  const metrics = evaluation?.metrics;
  return {
    title: 'Summary',
    charts: [],
    body: html`${metricsTable([
      ...(metrics ? [{ split: `test (${num(evaluation.testRows ?? metrics.n)} rows)`, metrics }] : []),
      ...(validationMetrics ? [{ split: 'validation', metrics: validationMetrics }] : []),
      ...(evaluation?.production ? [{ split: `production v${evaluation.production.version}, same test rows`, metrics: evaluation.production.metrics }] : []),
    ])}${
      evaluation?.maxOnnxDeviation !== undefined
        ? html`<p>The ONNX model (what serving runs) reproduced the trained model on the test split within ${num(evaluation.maxOnnxDeviation)}.</p>`
        : ''
    }` as Html,
  };
}

/** The scalar metrics of each split side by side (matrices and per-class rows have charts of their own). */
function metricsTable(rows: { split: string; metrics: ModelMetrics }[]): Html {
  if (rows.length === 0) return html`<p class="empty">No metrics were recorded.</p>` as Html;
  const names = [...new Set(rows.flatMap((r) => Object.entries(r.metrics).filter(([, v]) => typeof v === 'number').map(([k]) => k)))];
  return table(
    [{ header: 'split', value: (r: { split: string; metrics: ModelMetrics }) => r.split }, ...names.map((name) => ({ header: name, numeric: true, value: (r: { metrics: ModelMetrics }) => (r.metrics as unknown as Record<string, number>)[name] }))],
    rows,
  );
}

function learningSection({ learningCurve, run }: RunReportView): ReportSection {
  return {
    title: 'Learning curves',
    empty: 'No learning curve was recorded (a bring-your-own trainer reports none).',
    charts: learningCurve.train.length ? [{ title: 'Learning curves', spec: learningCurveSpec(learningCurve), caption: `${learningCurve.metric} per iteration on the train rows and the validation split.` }] : [],
    body: run.resumedFromIteration !== null ? (html`<p>Training resumed from a checkpoint at iteration ${run.resumedFromIteration}.</p>` as Html) : undefined,
  };
}

function evaluationSection({ evaluation }: RunReportView): ReportSection {
  if (!evaluation) return { title: 'Evaluation on the test split', empty: 'This run was not evaluated (a tuning trial that lost, or the run is still going).', charts: [] };
  const { metrics, curves } = evaluation;
  const charts: ReportChart[] = [];
  const task = metrics.task ?? 'binary';
  if (curves?.task === 'binary') {
    charts.push(
      { title: 'ROC curve', spec: rocSpec(curves, (metrics as BinaryMetrics).rocAuc), caption: `The point marks the chosen threshold ${num(curves.operatingPoint.threshold)}.` },
      { title: 'Precision–recall curve', spec: prSpec(curves) },
      { title: 'Calibration', spec: calibrationSpec(curves.calibration), caption: 'Mean predicted probability against the observed positive share, per bin.' },
    );
  }
  if (task === 'binary') charts.push({ title: 'Confusion matrix', spec: confusionMatrixSpec(binaryConfusion((metrics as BinaryMetrics).confusionMatrix)) });
  if (task === 'multiclass') {
    const m = metrics as MulticlassMetrics;
    charts.push({ title: 'Confusion matrix', spec: confusionMatrixSpec({ classes: m.classes, counts: m.confusionMatrix }) }, { title: 'Per-class metrics', spec: perClassSpec(m.perClass) });
  }
  if (curves?.task === 'regression') charts.push({ title: 'Residuals', spec: residualsSpec(curves.residuals), caption: 'Residual (observed − predicted) against the prediction, for evenly spaced test rows.' });
  const perClass =
    task === 'multiclass'
      ? table(
          [
            { header: 'class', value: (c: MulticlassMetrics['perClass'][number]) => c.class },
            { header: 'support', value: (c) => c.support, numeric: true },
            { header: 'precision', value: (c) => c.precision, numeric: true },
            { header: 'recall', value: (c) => c.recall, numeric: true },
            { header: 'f1', value: (c) => c.f1, numeric: true },
          ],
          (metrics as MulticlassMetrics).perClass,
        )
      : undefined;
  return {
    title: 'Evaluation on the test split',
    empty: 'No curves were stored with this evaluation (it predates them).',
    charts,
    body: html`${curves === undefined && task !== 'multiclass' ? html`<p class="empty">No curves were stored with this evaluation (it predates them).</p>` : ''}${perClass ?? ''}` as Html,
  };
}

function trialsSection({ trials }: RunReportView): ReportSection {
  const metric = trials.find((t) => t.metric)?.metric ?? 'metric';
  const params = [...new Set(trials.flatMap((t) => Object.keys(t.params)))].filter((p) => new Set(trials.map((t) => String(t.params[p]))).size > 1 || trials.length === 1);
  return {
    title: `Tuning trials (${trials.length})`,
    charts: [],
    body: html`<p>Sorted by the validation ${metric}; the chosen trial is marked.</p>${table(
      [
        { header: 'trial', value: (t: RunReportView['trials'][number]) => (t.chosen ? (html`<strong>${t.trial} ✓</strong>` as Html) : t.trial) },
        { header: `validation ${metric}`, value: (t) => t.value, numeric: true },
        ...params.map((p) => ({ header: p, value: (t: RunReportView['trials'][number]) => t.params[p] as string | number })),
        { header: 'iterations', value: (t) => t.iterations, numeric: true },
        { header: 'seconds', value: (t) => t.seconds, numeric: true },
      ],
      sortTrials(trials),
    )}` as Html,
  };
}

/** Best first by the primary metric's direction (errors ascending), trials without a value last. */
function sortTrials(trials: RunReportView['trials']): RunReportView['trials'] {
  const lowerIsBetter = (metric: string | null) => metric === 'rmse' || metric === 'mae' || metric === 'logLoss';
  return [...trials].sort((a, b) => {
    if (a.value === null || b.value === null) return a.value === null ? (b.value === null ? 0 : 1) : -1;
    return lowerIsBetter(a.metric) ? a.value - b.value : b.value - a.value;
  });
}

function gateSection({ gate }: RunReportView): ReportSection {
  return {
    title: 'Gate decision',
    charts: [],
    body: gate
      ? (html`<p>${verdict(gate.passed, 'Passed', 'Rejected')}</p><ul>${gate.reasons.map((reason) => html`<li>${reason}</li>`)}</ul>` as Html)
      : (html`<p class="empty">No gate decision recorded.</p>` as Html),
  };
}

function lineageSection({ run, version, dataset }: RunReportView, options: { temporalUi?: string; namespace?: string }): ReportSection {
  // A link would make the file reach for a server; the address is given as text to copy.
  const temporal = options.temporalUi
    ? `${options.temporalUi.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(options.namespace ?? 'default')}/workflows/${encodeURIComponent(run.workflowId)}/${encodeURIComponent(run.runId)}/history`
    : undefined;
  return {
    title: 'Lineage',
    charts: [],
    body: facts([
      ['model version', version ? `${run.model}@${version.version} (${version.status})` : 'not registered'],
      ['ONNX artifact', version ? `sha256 ${version.artifactSha256} (${num(version.artifactBytes)} B)` : '-'],
      ['dataset', dataset ? `${dataset.name} ${dataset.id}` : run.id],
      ['dataset content hash', dataset?.contentHash],
      ['dataset rows', dataset ? `${num(dataset.rowCount)} accepted of ${num(dataset.rowsRead)} read (${num(dataset.quarantinedCount)} quarantined, ${num(dataset.duplicateCount)} duplicates)` : '-'],
      ['code', version?.gitCommit ? `${version.gitCommit}${version.gitDirty ? ' (uncommitted changes)' : ''}` : 'not recorded'],
      ['workflow', `${run.workflowId} run ${run.runId}`],
      ['Temporal UI', temporal],
      ['trainer', JSON.stringify(run.trainer)],
    ]),
  };
}
