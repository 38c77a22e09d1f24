import type { DriftMethod } from '../shared/monitoring';

/**
 * The statistics that apply to a column, as Evidently chooses them: for categories a z-test when
 * reference and window hold at most two values (else chi-square), then Jensen–Shannon and PSI; for
 * numbers KS, Wasserstein, Jensen–Shannon and PSI. `distinctUpTo(3)` counts distinct values up to
 * 3 (null: unknown, taken as more than two).
 */
export function applicableMethods(kind: 'numeric' | 'categorical', distinctUpTo: (cap: number) => number | null): DriftMethod[] {
  if (kind === 'categorical') return [(distinctUpTo(3) ?? 3) <= 2 ? 'z' : 'chisquare', 'jensenshannon', 'psi'];
  return ['ks', 'wasserstein', 'jensenshannon', 'psi'];
}
