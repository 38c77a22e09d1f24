import type { DriftMethod } from '../shared/monitoring';
import type { PsiResult } from './psi';

/**
 * The contract between evaluateDrift (drift.ts) and the per-kind computers (numeric-computer.ts,
 * categorical-computer.ts, sketch-computer.ts): the window side a computer receives and the
 * statistics it returns. A module of its own so the computers need not import drift.ts.
 */

interface KsStatistics {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymp';
}

export interface ColumnStatistics {
  ks?: KsStatistics;
  wasserstein?: { distance: number; normed: number };
  jensenshannon?: number;
  chisquare?: { statistic: number; pValue: number; df: number };
  z?: { z: number; pValue: number };
  psi?: number;
}

export interface Computed {
  statistics: ColumnStatistics;
  /** PSI's bins with both shares (psi only). */
  bins?: PsiResult['bins'];
  exact: boolean;
  approximation?: string;
  /** Bound on |score − exact score| (distances from a profile). */
  bound?: number;
}

export interface Computer {
  /** Distinct present values over reference and window, counted up to `cap` (null: unknown). */
  uniqueUpTo(cap: number): number | null;
  applicable(): DriftMethod[];
  compute(method: DriftMethod): Computed;
}

export interface NumericSide {
  kind: 'numeric';
  /** Present values, sorted ascending. */
  sorted: Float64Array;
  present: number;
  missing: number;
}

export interface CategoricalSide {
  kind: 'categorical';
  counts: Map<string, number>;
  present: number;
  missing: number;
}
