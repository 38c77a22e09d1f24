import type { VersionPerformance } from './live-performance-types';

/**
 * The concept-drift verdict of a live metric against bounds, for the multiclass and regression
 * monitors (the binary monitor keeps its own, older code in live-performance.ts, with the same
 * rule). A bound is crossed only when the metric is beyond it by more than `z` standard errors:
 * for a higher-is-better metric, value + z·se < floor; for a lower-is-better one (an error),
 * value − z·se > ceiling. The binding bound reported is the strictest one.
 */
export interface Bound {
  value: number;
  /** How the bound came about, for the reasons ("its test-split rmse 41.2 × 1.1"). */
  why: string;
}

/** A bound's figure in its `why` ("its test-split rmse 41.2 × 1.1"): four significant digits. */
export function boundFigure(x: number): string {
  return String(Number(x.toPrecision(4)));
}

export function judgeConcept(options: {
  metric: string;
  direction: 'higher' | 'lower';
  value: number | null;
  standardError: number | null;
  labelled: number;
  minLabelled: number;
  bounds: Bound[];
  z: number;
}): Pick<VersionPerformance, 'concept'>['concept'] {
  const { metric, direction, value, standardError, labelled, minLabelled, bounds, z } = options;
  const binding = bounds.length ? (direction === 'higher' ? Math.max : Math.min)(...bounds.map((b) => b.value)) : null;
  const shape = direction === 'higher' ? { floor: binding } : { floor: null, ceiling: binding };
  if (labelled < minLabelled || value === null || !Number.isFinite(value)) {
    return { status: 'insufficient_labels', ...shape, reasons: [`${labelled} labelled predictions, ${minLabelled} needed`] };
  }
  if (binding === null) {
    const missing = direction === 'higher' ? 'no minimum configured' : 'no maximum configured';
    return { status: 'no_reference', ...shape, reasons: [`no bound: ${missing} and no test-split ${metric} for this version`] };
  }
  const margin = z * (standardError ?? 0);
  const reasons: string[] = [];
  for (const bound of bounds) {
    const crossed = direction === 'higher' ? value + margin < bound.value : value - margin > bound.value;
    if (!crossed) continue;
    reasons.push(
      `live ${metric} ${fmt(value)} (± ${fmt(standardError ?? 0)}, ${labelled} labels) is ${direction === 'higher' ? 'below' : 'above'} ${bound.why} = ${fmt(bound.value)}` +
        (margin > 0 ? ` by more than ${z} standard errors` : ''),
    );
  }
  return { status: reasons.length ? 'drift' : 'ok', ...shape, reasons };
}

export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return String(x);
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(2) : String(Number(x.toPrecision(4)));
}
