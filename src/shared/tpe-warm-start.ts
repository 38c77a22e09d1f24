import type { ParamSet, SearchDimension } from './search-space';
import type { ModelMetrics } from './model-metrics';
import { metricValue } from './task-metrics';
import type { Observation } from './tpe';

/**
 * Observations for a warm-started study from trials earlier runs recorded: only trials of the same
 * trainer kind whose every searched parameter lies inside today's space (a list value among the
 * listed ones, a range value within it), with a finite value of the tuning metric. Losses are in
 * the study's convention (lower is better).
 */
export function warmStartObservations(
  stored: readonly { trainer: unknown; validationMetrics: unknown }[],
  study: { kind: string; space: Record<string, SearchDimension>; metric: { name: string; higherIsBetter: boolean } },
): Observation[] {
  const names = Object.keys(study.space).sort();
  const observations: Observation[] = [];
  for (const { trainer, validationMetrics } of stored) {
    const t = trainer as { kind?: string; params?: Record<string, unknown> } & Record<string, unknown>;
    if (t?.kind !== study.kind || !validationMetrics) continue;
    const source = study.kind === 'gbdt' ? (t.params ?? {}) : t;
    const params: ParamSet = {};
    for (const name of names) {
      const value = source[name];
      if (typeof value !== 'number' || !inside(study.space[name], value)) break;
      params[name] = value;
    }
    if (Object.keys(params).length !== names.length) continue;
    const value = metricValue(validationMetrics as ModelMetrics, study.metric.name);
    if (!Number.isFinite(value)) continue;
    observations.push({ params, loss: study.metric.higherIsBetter ? -value : value });
  }
  return observations;
}

function inside(dimension: SearchDimension, value: number): boolean {
  return Array.isArray(dimension) ? dimension.includes(value) : value >= dimension.min && value <= dimension.max;
}
