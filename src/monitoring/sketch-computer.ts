import { chiSquareTest, jensenShannonDistance, twoProportionZTest } from './distances';
import type { DriftMethod } from '../shared/monitoring';
import type { Computed } from './drift-computer';
import { applicableMethods } from './drift-config';
import type { BinnedSide } from './drift-window';
import { binnedJensenShannon, binnedKs, binnedWasserstein, coarsen, type BinnedCounts, type HistogramSketch } from './histogram-sketch';
import { ksPValue } from './kolmogorov';
import { psiFromCounts } from './psi';
import type { ColumnKind, NumericDriftReference } from './reference';

/**
 * The drift statistics of a numeric column whose reference is a sketch and whose window was
 * counted into the sketch's bins (drift-window.ts): PSI exactly (its cut points are sketch
 * edges), KS, Wasserstein and Jensen–Shannon within the bounds histogram-sketch.ts states.
 * Same contract (drift-computer.ts) as numeric-computer.ts and categorical-computer.ts.
 */

export class SketchComputer {
  private readonly sketch: HistogramSketch;
  private readonly reference: BinnedCounts;
  private readonly current: BinnedCounts;

  constructor(
    private readonly ref: NumericDriftReference,
    private readonly side: BinnedSide,
    private readonly kind: ColumnKind,
  ) {
    if (!ref.sketch) throw new Error('SketchComputer needs a reference with a sketch');
    this.sketch = ref.sketch;
    this.reference = { counts: this.sketch.counts, total: ref.rows - ref.missing, min: ref.min, max: ref.max };
    this.current = { counts: side.counts, total: side.present, min: side.min, max: side.max };
  }

  private get note(): string {
    return `from the reference sketch (${this.sketch.counts.length} bins, every value counted)`;
  }

  uniqueUpTo(cap: number): number | null {
    if (!this.ref.values) return null;
    if (!this.side.values) return cap;
    const seen = new Set<number>(this.ref.values.filter((v) => v.count > 0).map((v) => v.value));
    for (const value of this.side.values.keys()) {
      seen.add(value);
      if (seen.size >= cap) return cap;
    }
    return Math.min(cap, seen.size);
  }

  applicable(): DriftMethod[] {
    return applicableMethods(this.kind, (cap) => this.uniqueUpTo(cap));
  }

  compute(method: DriftMethod): Computed {
    switch (method) {
      case 'ks': {
        const { statistic, upper } = binnedKs(this.sketch.edges, this.reference, this.current);
        const ks = ksPValue(statistic, this.reference.total, this.current.total);
        // The lower end of the interval: the p-value errs towards "no drift".
        return {
          statistics: { ks },
          exact: false,
          approximation: `${this.note}: the statistic lies in [${round(statistic)}, ${round(upper)}]`,
        };
      }
      case 'wasserstein': {
        const { distance, bound } = binnedWasserstein(this.sketch.edges, this.reference, this.current);
        const norm = Math.max(this.ref.std, 0.001);
        return {
          statistics: { wasserstein: { distance, normed: distance / norm } },
          exact: false,
          approximation: this.note,
          bound: bound / norm,
        };
      }
      case 'psi': {
        const counts = this.psiCounts();
        const result = psiFromCounts(this.ref.bins, counts, this.side.missing);
        return { statistics: { psi: result.psi }, bins: result.bins, exact: true };
      }
      case 'jensenshannon':
        if (this.kind === 'numeric') {
          const { distance, bound } = binnedJensenShannon(this.sketch.edges, this.reference, this.current);
          return {
            statistics: { jensenshannon: distance },
            exact: false,
            approximation: `${this.note}, spread over the Sturges bins`,
            bound,
          };
        }
        return this.byPsiBins(method);
      default:
        return this.byPsiBins(method);
    }
  }

  /** The window's counts in the PSI bins, whose cut points are sketch edges. */
  private psiCounts(): Float64Array {
    const edges = new Set(this.sketch.edges);
    const missing = this.ref.bins.edges.filter((edge) => !edges.has(edge));
    if (missing.length) throw new Error(`the reference's PSI cut points ${missing.join(', ')} are not edges of its sketch`);
    return coarsen(this.sketch.edges, this.current.counts, this.ref.bins.edges);
  }

  /** chi², z and (as categories) Jensen–Shannon over the PSI bins: the window's values are too many to count one by one. */
  private byPsiBins(method: DriftMethod): Computed {
    const referencePresent = this.reference.total;
    const presentShare = 1 - this.ref.bins.missing;
    const reference = this.ref.bins.proportions.map((p) => (p / presentShare) * referencePresent);
    const current = this.psiCounts();
    const approximation = `by the reference's ${reference.length} PSI bins (the window has more than its tracked distinct values)`;
    if (method === 'chisquare') {
      const observed: number[] = [];
      const expected: number[] = [];
      const scale = this.current.total / referencePresent;
      for (let i = 0; i < reference.length; i++) {
        if (reference[i] === 0 && current[i] === 0) continue;
        observed.push(current[i]);
        expected.push(reference[i] * scale);
      }
      const chisquare = observed.length < 2 ? { statistic: 0, pValue: 1, df: 0 } : chiSquareTest(observed, expected);
      return { statistics: { chisquare }, exact: false, approximation };
    }
    if (method === 'z') {
      const z = twoProportionZTest(referencePresent - reference[0], referencePresent, this.current.total - current[0], this.current.total);
      return { statistics: { z }, exact: false, approximation };
    }
    if (method === 'jensenshannon')
      return { statistics: { jensenshannon: jensenShannonDistance(reference, current, 2) }, exact: false, approximation };
    throw new Error(`${method} does not apply to a sketched column`);
  }
}

function round(x: number): number {
  return Number(x.toPrecision(3));
}
