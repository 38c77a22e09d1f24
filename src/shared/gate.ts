import type { ModelTask } from './model-contract';
import { gateCompareMetric, type GateSpec } from './pipeline-input';
import type { ModelMetrics } from './model-metrics';
import { higherIsBetter, metricValue, taskOfMetrics } from './task-metrics';

export interface GateDecision {
  passed: boolean;
  /** Every failed check, or what passed; recorded with the training run. */
  reasons: string[];
}

/**
 * The Evaluator's blessing: absolute thresholds (`min`, `max`, `minRocAuc`), plus "not worse than
 * production by more than X" on the compare metric when a production version of the same task
 * was scored on the same test split (see gateSpecSchema for how X is read). Pure: runs in the
 * workflow.
 */
export function decideGate(
  gate: GateSpec,
  task: ModelTask,
  candidate: ModelMetrics,
  production?: { version: number; metrics: ModelMetrics },
): GateDecision {
  const failures: string[] = [];
  const passes: string[] = [];
  const min = { ...gate.min, ...(gate.minRocAuc !== undefined ? { rocAuc: gate.minRocAuc } : {}) };
  for (const [name, bound] of Object.entries(min)) {
    const value = metricValue(candidate, name);
    (value >= bound ? passes : failures).push(
      value >= bound ? `${name} ${fmt(value)} ≥ ${bound}` : `${name} ${fmt(value)} is below the minimum ${bound}`,
    );
  }
  for (const [name, bound] of Object.entries(gate.max)) {
    const value = metricValue(candidate, name);
    (value <= bound ? passes : failures).push(
      value <= bound ? `${name} ${fmt(value)} ≤ ${bound}` : `${name} ${fmt(value)} is above the maximum ${bound}`,
    );
  }

  const metric = gateCompareMetric({ task, gate });
  if (!production) {
    passes.push('no production version to compare with');
  } else if (taskOfMetrics(production.metrics) !== task) {
    // A model that changes task (e.g. binary → multiclass) cannot be compared metric for metric.
    passes.push(`production v${production.version} is a ${taskOfMetrics(production.metrics)} model: not compared`);
  } else {
    const value = metricValue(candidate, metric);
    const reference = metricValue(production.metrics, metric);
    if (Number.isFinite(reference)) {
      const higher = higherIsBetter(task, metric);
      // Higher-is-better metrics live on a fixed scale: an absolute tolerance. Error metrics are
      // in the target's units: a relative one.
      const limit = higher ? reference - gate.maxDropVsProduction : reference * (1 + gate.maxDropVsProduction);
      const within = higher ? value >= limit : value <= limit;
      const tolerance = higher ? `${gate.maxDropVsProduction}` : `${(gate.maxDropVsProduction * 100).toFixed(2)} %`;
      if (within) passes.push(`${metric} ${fmt(value)} within ${tolerance} of production v${production.version} (${fmt(reference)})`);
      else failures.push(`${metric} ${fmt(value)} trails production v${production.version} (${fmt(reference)}) by more than ${tolerance}`);
    } else {
      passes.push(`production v${production.version} has no ${metric}: not compared`);
    }
  }
  return failures.length ? { passed: false, reasons: failures } : { passed: true, reasons: [passes.join(', ')] };
}

function fmt(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(6))) : String(value);
}
