import { readNumber } from '../ml/row';
import { align, countStatistics } from './categorical-computer';
import { histogramSorted, jensenShannonDistance, ksAndWasserstein, lowerBound, sturgesEdges, sumOf, upperBound } from './distances';
import type { DriftMethod } from '../shared/monitoring';
import type { CategoricalSide, Computed, Computer, NumericSide } from './drift-computer';
import { applicableMethods } from './drift-config';
import { ksPValue } from './kolmogorov';
import { psiFromCounts } from './psi';
import { sortedSample, VALUE_BINNING_MAX_DISTINCT, type ColumnKind, type NumericDriftReference } from './reference';

/**
 * The drift statistics of a numeric column against a reference of values, a sample or a profile
 * (KS, Wasserstein, PSI, and chi², z, Jensen–Shannon by value or by bins). Over 300 lines because
 * it is one computer whose statistics share the reference points and the one KS/Wasserstein merge.
 */

export class NumericComputer implements Computer {
  /** The reference distribution as sorted points with counts (null weights: one each), if known. */
  private readonly points: { values: Float64Array; weights: Float64Array | null; exact: boolean; note?: string } | null;

  constructor(
    private readonly reference: NumericDriftReference,
    private readonly side: NumericSide | CategoricalSide,
    private readonly kind: ColumnKind,
  ) {
    const present = reference.rows - reference.missing;
    if (reference.values) {
      this.points = {
        values: Float64Array.from(reference.values, (v) => v.value),
        weights: Float64Array.from(reference.values, (v) => v.count),
        exact: true,
      };
    } else if (reference.sample) {
      const complete = reference.sample.of === present && reference.sample.values.length === present;
      this.points = {
        values: sortedSample(reference.sample.values),
        weights: null,
        exact: complete,
        note: complete ? undefined : `against a uniform sample of ${reference.sample.values.length} of the ${present} reference values`,
      };
    } else {
      this.points = null;
    }
  }

  private merged: ReturnType<typeof ksAndWasserstein> | null = null;

  /** KS statistic and Wasserstein distance against the reference points, one merge for both. */
  private get walk(): ReturnType<typeof ksAndWasserstein> {
    this.merged ??= ksAndWasserstein(this.points!.values, this.numeric.sorted, this.points!.weights ?? undefined);
    return this.merged;
  }

  private get numeric(): NumericSide {
    if (this.side.kind !== 'numeric') throw new Error('numeric statistics need numeric current values');
    return this.side;
  }

  uniqueUpTo(cap: number): number | null {
    if (!this.reference.values) return null;
    const seen = new Set<number | string>(this.reference.values.filter((v) => v.count > 0).map((v) => v.value));
    if (this.side.kind === 'categorical') {
      for (const key of this.side.counts.keys()) {
        seen.add(Number.isNaN(Number(key)) ? key : Number(key));
        if (seen.size >= cap) return cap;
      }
      return Math.min(cap, seen.size);
    }
    const sorted = this.side.sorted;
    for (let i = 0; i < sorted.length && seen.size < cap; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) seen.add(sorted[i]);
    return Math.min(cap, seen.size);
  }

  applicable(): DriftMethod[] {
    return applicableMethods(this.kind, (cap) => this.uniqueUpTo(cap));
  }

  compute(method: DriftMethod): Computed {
    switch (method) {
      case 'ks':
        return this.ks();
      case 'wasserstein':
        return this.wasserstein();
      case 'psi':
        return this.psi();
      default:
        return this.byCounts(method);
    }
  }

  private ks(): Computed {
    const current = this.numeric.sorted;
    if (this.points) {
      const { statistic } = this.walk;
      const n1 = this.points.weights ? sumOf(this.points.weights) : this.points.values.length;
      const ks = ksPValue(statistic, n1, current.length);
      return { statistics: { ks }, exact: this.points.exact, ...(this.points.note ? { approximation: this.points.note } : {}) };
    }
    // Profile only: the reference ECDF is known at a few points; the supremum over them is a
    // lower bound of the statistic (so the p-value errs towards "no drift").
    let d = 0;
    for (const point of this.reference.cdf ?? []) {
      const f = (point.inclusive ? upperBound(current, point.value) : lowerBound(current, point.value)) / current.length;
      d = Math.max(d, Math.abs(point.share - f));
    }
    const ks = ksPValue(d, this.reference.rows - this.reference.missing, current.length);
    return {
      statistics: { ks },
      exact: false,
      approximation: `reference ECDF known at ${this.reference.cdf?.length ?? 0} points (profile): the statistic is a lower bound`,
    };
  }

  private wasserstein(): Computed {
    const current = this.numeric.sorted;
    const norm = Math.max(this.reference.std, 0.001);
    if (this.points) {
      const distance = this.walk.wasserstein;
      return {
        statistics: { wasserstein: { distance, normed: distance / norm } },
        exact: this.points.exact,
        ...(this.points.note ? { approximation: this.points.note } : {}),
      };
    }
    const { distance, bound } = interpolatedWasserstein(this.reference.quantiles ?? [], current);
    return {
      statistics: { wasserstein: { distance, normed: distance / norm } },
      exact: false,
      approximation: `reference quantile function interpolated between ${this.reference.quantiles?.length ?? 0} profile points`,
      bound: bound / norm,
    };
  }

  private psi(): Computed {
    const bins = this.reference.bins;
    const counts = new Float64Array(bins.edges.length + 1);
    let missing: number;
    if (this.side.kind === 'numeric') {
      const sorted = this.side.sorted;
      let below = 0;
      for (let i = 0; i < bins.edges.length; i++) {
        const upTo = upperBound(sorted, bins.edges[i]);
        counts[i] = upTo - below;
        below = upTo;
      }
      counts[bins.edges.length] = sorted.length - below;
      missing = this.side.missing;
    } else {
      missing = this.side.missing;
      for (const [label, n] of this.side.counts) {
        const v = readNumber(label);
        if (Number.isNaN(v)) missing += n;
        else counts[upperBound(bins.edges, v)] += n;
      }
    }
    const result = psiFromCounts(bins, counts, missing);
    return { statistics: { psi: result.psi }, bins: result.bins, exact: true };
  }

  /** chi², z and Jensen–Shannon: by value when the reference lists its values, else Sturges bins (JS) or the PSI bins. */
  private byCounts(method: DriftMethod): Computed {
    const referencePresent = this.reference.rows - this.reference.missing;
    // Categories by value; numbers by value for chi²/z, and for JS up to 20 distinct values (Evidently).
    const byValue =
      this.reference.values &&
      (this.kind === 'categorical' || method !== 'jensenshannon' || this.reference.values.length <= VALUE_BINNING_MAX_DISTINCT);
    if (byValue && this.reference.values) {
      const current = this.currentByValue();
      const aligned = align(
        this.reference.values.map((v) => String(v.value)),
        this.reference.values.map((v) => v.count),
        0,
        current,
      );
      const result = countStatistics(method, aligned, referencePresent, this.side.present, (label) => Number(label));
      if (!result) throw new Error(`${method} does not apply`);
      return result;
    }
    if (method === 'jensenshannon' && this.points && this.side.kind === 'numeric') {
      // Evidently: Sturges bins over both samples for numbers with more than 20 distinct values.
      const current = this.side.sorted;
      const edges = sturgesEdges(this.points.values, current);
      const referenceCounts = this.points.weights
        ? weightedHistogram(this.points.values, this.points.weights, edges)
        : histogramSorted(this.points.values, edges);
      const currentCounts = histogramSorted(current, edges);
      return {
        statistics: { jensenshannon: jensenShannonDistance(referenceCounts, currentCounts, 2) },
        exact: this.points.exact,
        ...(this.points.note ? { approximation: this.points.note } : {}),
      };
    }
    // The reference's PSI bins as categories (profile without values or sample).
    const bins = this.reference.bins;
    const presentShare = 1 - bins.missing;
    const labels = bins.proportions.map((_, i) => `bin ${i}`);
    const referenceCounts = bins.proportions.map((p) => (p / presentShare) * referencePresent);
    const currentCounts = new Map<string, number>();
    if (this.side.kind === 'numeric') {
      const sorted = this.side.sorted;
      let below = 0;
      for (let i = 0; i <= bins.edges.length; i++) {
        const upTo = i < bins.edges.length ? upperBound(sorted, bins.edges[i]) : sorted.length;
        if (upTo > below) currentCounts.set(labels[i], upTo - below);
        below = upTo;
      }
    } else {
      for (const [label, n] of this.side.counts) {
        const v = readNumber(label);
        if (Number.isNaN(v)) continue;
        const bin = labels[upperBound(bins.edges, v)];
        currentCounts.set(bin, (currentCounts.get(bin) ?? 0) + n);
      }
    }
    const aligned = align(labels, referenceCounts, 0, currentCounts);
    const result = countStatistics(method, aligned, referencePresent, sumMap(currentCounts), (label) => Number(label.slice(4)));
    if (!result) throw new Error(`${method} does not apply`);
    return {
      ...result,
      exact: false,
      approximation: `by the reference's ${labels.length} quantile bins (the profile has no per-value counts)`,
    };
  }

  /** Current counts keyed like the reference values (String(number)). */
  private currentByValue(): Map<string, number> {
    const counts = new Map<string, number>();
    if (this.side.kind === 'numeric') {
      const sorted = this.side.sorted;
      let i = 0;
      while (i < sorted.length) {
        let j = i + 1;
        while (j < sorted.length && sorted[j] === sorted[i]) j++;
        counts.set(String(sorted[i]), j - i);
        i = j;
      }
      return counts;
    }
    for (const [label, n] of this.side.counts) {
      const v = readNumber(label);
      const key = Number.isNaN(v) ? label : String(v);
      counts.set(key, (counts.get(key) ?? 0) + n);
    }
    return counts;
  }
}

function weightedHistogram(values: Float64Array, weights: Float64Array, edges: Float64Array): Float64Array {
  const counts = new Float64Array(edges.length - 1);
  const last = edges.length - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < edges[0] || v > edges[last]) continue;
    // numpy: bin k holds edges[k] <= v < edges[k+1], the last bin also v == edges[last].
    let k = upperBound(edges, v) - 1;
    if (k === last) k = last - 1;
    counts[k] += weights[i];
  }
  return counts;
}

function sumMap(map: Map<string, number>): number {
  let sum = 0;
  for (const n of map.values()) sum += n;
  return sum;
}

/**
 * W1 = ∫₀¹ |Q_ref(u) − Q_cur(u)| du with Q_ref linear between the given (q, value) points and
 * Q_cur the current empirical quantile function; `bound` = Σ Δq·ΔQ/2 bounds the error of the
 * interpolation for any monotone reference between the points.
 */
export function interpolatedWasserstein(
  knots: readonly { q: number; value: number }[],
  current: Float64Array,
): { distance: number; bound: number } {
  if (knots.length < 2 || knots[0].q !== 0 || knots[knots.length - 1].q !== 1) {
    throw new Error('interpolatedWasserstein needs quantile points from q = 0 to q = 1');
  }
  const m = current.length;
  let bound = 0;
  for (let k = 0; k + 1 < knots.length; k++) bound += ((knots[k + 1].q - knots[k].q) * (knots[k + 1].value - knots[k].value)) / 2;
  let area = 0;
  let k = 0;
  let j = 0;
  let u = 0;
  while (j < m) {
    while (k < knots.length - 2 && knots[k + 1].q <= u) k++;
    const stepEnd = (j + 1) / m;
    const knotEnd = knots[k + 1].q;
    const end = Math.min(stepEnd, knotEnd);
    if (end > u) {
      const a = knots[k];
      const b = knots[k + 1];
      const width = b.q - a.q;
      const at = (x: number) => (width > 0 ? a.value + ((b.value - a.value) * (x - a.q)) / width : b.value);
      const f0 = at(u) - current[j];
      const f1 = at(end) - current[j];
      const w = end - u;
      area += f0 * f1 >= 0 ? (w * (Math.abs(f0) + Math.abs(f1))) / 2 : (w * (f0 * f0 + f1 * f1)) / (2 * (Math.abs(f0) + Math.abs(f1)));
    }
    u = end;
    if (stepEnd <= knotEnd) j++;
    if (knotEnd <= stepEnd && k < knots.length - 2) k++;
  }
  return { distance: area, bound };
}
