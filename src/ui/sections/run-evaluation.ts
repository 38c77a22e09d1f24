import type { EvaluationCurves } from '../../ml/evaluation-curves';
import type { LearningCurve } from '../../ml/trained-model';
import type { ModelMetrics, MulticlassMetrics } from '../../shared/model-metrics';
import { calibrationSpec } from '../charts/calibration';
import { binaryConfusion, confusionMatrixSpec } from '../charts/confusion-matrix';
import { learningCurveSpec } from '../charts/learning-curve';
import { perClassSpec } from '../charts/per-class';
import { residualsSpec } from '../charts/residuals';
import { prSpec, rocSpec } from '../charts/roc-pr';
import { chart } from '../html/chart';
import { formatNumber, formatSeconds } from '../html/format';
import { h, type Html } from '../html/template';

/** What the evaluation section shows of one training run (the evaluated candidate of a pipeline run). */
export interface RunEvaluationView {
  trainingRunId: string;
  trial: string;
  trainer: Record<string, unknown>;
  trainSeconds: number;
  learningCurve: LearningCurve;
  validationMetrics: ModelMetrics | null;
  /** The test-split evaluation; null for a trial that was not evaluated (it lost the tuning). */
  evaluation: {
    metrics: ModelMetrics;
    curves?: EvaluationCurves;
    testRows?: number;
    production?: { version: number; metrics: ModelMetrics };
  } | null;
  gate: { passed: boolean; reasons: string[] } | null;
}

/** Scalar metrics of any task, by name (matrices and per-class lists are drawn instead). */
export function scalarMetrics(metrics: ModelMetrics | null | undefined): Record<string, number> {
  if (!metrics) return {};
  return Object.fromEntries(Object.entries(metrics).filter((e): e is [string, number] => typeof e[1] === 'number'));
}

/**
 * The evaluation of a run: learning curve, metrics against production, the gate, and the
 * evaluation plots of its task. No server needed: a report renders it the same way.
 */
export function runEvaluationSection(view: RunEvaluationView): Html {
  const evaluation = view.evaluation;
  const metrics = evaluation?.metrics;
  const production = evaluation?.production;
  const candidate = scalarMetrics(metrics);
  const baseline = scalarMetrics(production?.metrics);
  const names = Object.keys(candidate);
  const curves = evaluation?.curves;
  const binary = curves?.task === 'binary' ? curves : undefined;
  return h`<section class="evaluation">
  <h2>Training</h2>
  <p>Trainer <code>${JSON.stringify(view.trainer)}</code>, trial <code>${view.trial}</code>, ${formatSeconds(view.trainSeconds)}, ${view.learningCurve.train.length} iterations.</p>
  <div class="charts">${view.learningCurve.train.length ? chart('learning-curve', learningCurveSpec(view.learningCurve)) : h`<p class="note">No learning curve recorded (an external trainer).</p>`}</div>
  <h2>Evaluation on the test split${evaluation?.testRows ? h` (${evaluation.testRows.toLocaleString('en')} rows)` : ''}</h2>
  ${
    view.gate
      ? h`<p>Gate: <span class="status ${view.gate.passed ? 'passed' : 'rejected'}">${view.gate.passed ? 'passed' : 'rejected'}</span> ${view.gate.reasons.join('; ')}</p>`
      : ''
  }
  ${
    metrics
      ? h`<table class="metrics"><thead><tr><th>metric</th><th>candidate</th>${production ? h`<th>production v${production.version}</th><th>change</th>` : ''}</tr></thead><tbody>${names.map(
          (name) =>
            h`<tr><td>${name}</td><td class="num">${formatNumber(candidate[name])}</td>${
              production
                ? h`<td class="num">${formatNumber(baseline[name])}</td><td class="num">${baseline[name] === undefined ? '–' : formatNumber(candidate[name] - baseline[name])}</td>`
                : ''
            }</tr>`,
        )}</tbody></table>`
      : h`<p class="note">Not evaluated: a tuning trial that lost, or a run that stopped before evaluation.</p>`
  }
  <div class="charts">
    ${binary ? chart('roc', rocSpec(binary, metrics && 'rocAuc' in metrics ? metrics.rocAuc : undefined), `Red: the decision threshold ${binary.operatingPoint.threshold.toFixed(3)} chosen on the validation split.`) : ''}
    ${binary ? chart('pr', prSpec(binary)) : ''}
    ${binary ? chart('calibration', calibrationSpec(binary.calibration)) : ''}
    ${metrics && (metrics.task === undefined || metrics.task === 'binary') ? chart('confusion-matrix', confusionMatrixSpec(binaryConfusion(metrics.confusionMatrix))) : ''}
    ${metrics?.task === 'multiclass' ? multiclassCharts(metrics) : ''}
    ${curves?.task === 'regression' ? chart('residuals', residualsSpec(curves.residuals)) : ''}
  </div>
  ${metrics && !curves ? h`<p class="note">No curve points stored with this evaluation (runs evaluated before keel stored them): ROC, PR, calibration and residuals cannot be drawn.</p>` : ''}
</section>`;
}

function multiclassCharts(metrics: MulticlassMetrics): Html {
  return h`${chart('confusion-matrix', confusionMatrixSpec({ classes: metrics.classes, counts: metrics.confusionMatrix }))}${chart('per-class', perClassSpec(metrics.perClass))}`;
}

/** One tuning trial as the trials table shows it. */
export interface TrialView {
  trainingRunId: string;
  trial: string;
  trainer: Record<string, unknown>;
  trainSeconds: number;
  validationMetrics: ModelMetrics | null;
  /** The trial the pipeline evaluated (the winner). */
  chosen: boolean;
}

/** The trials as a table sortable by any metric or parameter (a click on its header). */
export function tuningTrialsSection(trials: TrialView[]): Html {
  if (trials.length <= 1) return h``;
  const metricNames = [...new Set(trials.flatMap((t) => Object.keys(scalarMetrics(t.validationMetrics))))].filter(
    (n) => n !== 'n' && n !== 'positives',
  );
  const paramNames = [...new Set(trials.flatMap((t) => Object.keys(t.trainer)))].filter((n) => n !== 'kind');
  return h`<section class="trials">
  <h2>Tuning trials (${trials.length}; validation metrics; click a header to sort)</h2>
  <table class="sortable" id="trials"><thead><tr><th>trial</th>${paramNames.map((p) => h`<th>${p}</th>`)}${metricNames.map((m) => h`<th>${m}</th>`)}<th>seconds</th></tr></thead>
  <tbody>${trials.map((t) => {
    const m = scalarMetrics(t.validationMetrics);
    return h`<tr${t.chosen ? h` class="chosen"` : ''}><td>${t.trial}${t.chosen ? ' ★' : ''}</td>${paramNames.map((p) => h`<td class="num">${formatParam(t.trainer[p])}</td>`)}${metricNames.map(
      (name) => h`<td class="num" data-value="${m[name] ?? ''}">${formatNumber(m[name])}</td>`,
    )}<td class="num" data-value="${t.trainSeconds}">${formatSeconds(t.trainSeconds)}</td></tr>`;
  })}</tbody></table>
  <p class="muted">★ the trial the pipeline evaluated on the test split.</p>
</section>`;
}

function formatParam(value: unknown): string {
  return typeof value === 'number' ? formatNumber(value, 6) : typeof value === 'string' ? value : JSON.stringify(value);
}
