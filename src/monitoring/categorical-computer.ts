import { chiSquareTest, jensenShannonDistance, twoProportionZTest } from './distances';
import type { DriftMethod } from '../shared/monitoring';
import type { CategoricalSide, Computed, Computer } from './drift-computer';
import { applicableMethods } from './drift-config';
import { psiFromCounts } from './psi';
import type { CategoricalDriftReference } from './reference';

/**
 * The drift statistics of a categorical column (chi², z, Jensen–Shannon, PSI) against its
 * reference counts, and the count alignment they rest on, which numeric-computer.ts reuses for
 * numbers compared by value. Same contract (drift-computer.ts) as the other computers.
 */

/** Reference and current counts on a common list of bins. */
interface AlignedCounts {
  labels: string[];
  reference: Float64Array;
  current: Float64Array;
  /** False when new current categories were lumped into the reference's "other" bin. */
  exact: boolean;
}

/**
 * Aligns reference counts (`labels`/`counts`, plus `other` for categories beyond the list) with
 * current counts: every reference category, then either one "other" bin (when the reference has
 * one: unseen current categories go there) or one bin per unseen current category (reference 0).
 */
export function align(labels: readonly string[], counts: ArrayLike<number>, other: number, current: Map<string, number>): AlignedCounts {
  const index = new Map<string, number>();
  labels.forEach((label, i) => index.set(label, i));
  const outLabels = [...labels];
  const reference: number[] = Array.from(counts);
  const currentCounts = new Array<number>(labels.length).fill(0);
  let otherIndex = -1;
  if (other > 0) {
    otherIndex = outLabels.length;
    outLabels.push('(other)');
    reference.push(other);
    currentCounts.push(0);
  }
  let exact = true;
  for (const [label, n] of current) {
    const i = index.get(label);
    if (i !== undefined) currentCounts[i] += n;
    else if (otherIndex >= 0) {
      currentCounts[otherIndex] += n;
      exact = false;
    } else {
      index.set(label, outLabels.length);
      outLabels.push(label);
      reference.push(0);
      currentCounts.push(n);
    }
  }
  return { labels: outLabels, reference: Float64Array.from(reference), current: Float64Array.from(currentCounts), exact };
}

/** chi², z, Jensen–Shannon on aligned counts, as Evidently computes them. */
export function countStatistics(
  method: DriftMethod,
  aligned: AlignedCounts,
  referencePresent: number,
  currentPresent: number,
  sortKey: (label: string) => string | number,
): Computed | null {
  const { reference, current } = aligned;
  if (method === 'chisquare') {
    const observed: number[] = [];
    const expected: number[] = [];
    const scale = currentPresent / referencePresent;
    for (let i = 0; i < reference.length; i++) {
      if (reference[i] === 0 && current[i] === 0) continue;
      observed.push(current[i]);
      expected.push(reference[i] * scale);
    }
    if (observed.length < 2) return { statistics: { chisquare: { statistic: 0, pValue: 1, df: 0 } }, exact: aligned.exact };
    return { statistics: { chisquare: chiSquareTest(observed, expected) }, exact: aligned.exact };
  }
  if (method === 'z') {
    // Evidently codes the first category (in sort order) 0 and every other one 1.
    let first = 0;
    for (let i = 1; i < aligned.labels.length; i++)
      if (compareKeys(sortKey(aligned.labels[i]), sortKey(aligned.labels[first])) < 0) first = i;
    const refOthers = referencePresent - reference[first];
    const curOthers = currentPresent - current[first];
    return { statistics: { z: twoProportionZTest(refOthers, referencePresent, curOthers, currentPresent) }, exact: aligned.exact };
  }
  if (method === 'jensenshannon') {
    return { statistics: { jensenshannon: jensenShannonDistance(reference, current, 2) }, exact: aligned.exact };
  }
  return null;
}

function compareKeys(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const OTHER_NOTE = 'current categories outside the reference list were counted together as "other"';

export class CategoricalComputer implements Computer {
  private aligned: AlignedCounts | null = null;

  constructor(
    private readonly reference: CategoricalDriftReference,
    private readonly side: CategoricalSide,
  ) {}

  private get counts(): AlignedCounts {
    this.aligned ??= align(
      this.reference.counts.map((c) => c.value),
      this.reference.counts.map((c) => c.count),
      this.reference.other,
      this.side.counts,
    );
    return this.aligned;
  }

  uniqueUpTo(cap: number): number {
    const seen = new Set<string>();
    for (const { value, count } of this.reference.counts) {
      if (count > 0) seen.add(value);
      if (seen.size >= cap) return cap;
    }
    // Categories beyond the reference list are at least one more value.
    if (this.reference.other > 0) seen.add('\u0000other');
    for (const value of this.side.counts.keys()) {
      seen.add(value);
      if (seen.size >= cap) return cap;
    }
    return Math.min(cap, seen.size);
  }

  applicable(): DriftMethod[] {
    return applicableMethods('categorical', (cap) => this.uniqueUpTo(cap));
  }

  compute(method: DriftMethod): Computed {
    const referencePresent = this.reference.rows - this.reference.missing;
    if (method === 'psi') {
      const bins = this.reference.bins;
      const index = new Map(bins.categories.map((c, i) => [c, i]));
      const counts = new Float64Array(bins.categories.length + 1);
      for (const [label, n] of this.side.counts) counts[index.get(label) ?? bins.categories.length] += n;
      const result = psiFromCounts(bins, counts, this.side.missing);
      return { statistics: { psi: result.psi }, bins: result.bins, exact: true };
    }
    const aligned = this.counts;
    const result = countStatistics(method, aligned, referencePresent, this.side.present, (label) => label);
    if (!result) throw new Error(`${method} does not apply to a categorical column`);
    if (!aligned.exact) return { ...result, approximation: OTHER_NOTE };
    if (method === 'chisquare' && this.reference.other > 0) {
      // Same statistic as one bin per category, but fewer degrees of freedom.
      return {
        ...result,
        exact: false,
        approximation: `the reference's categories beyond its ${this.reference.counts.length} listed ones form one bin`,
      };
    }
    return result;
  }
}
