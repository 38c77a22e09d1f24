import { z } from 'zod';
import { jensenShannonDistance } from './distances';
import { sortFloat64 } from './sort';

/**
 * A numeric column too large to keep whole, summarised as a fine histogram with exact counts:
 * edges are the quantiles of the first SKETCH_PILOT present values (about SKETCH_BINS bins of
 * equal mass there), and every value — pilot included — is counted exactly into them. The
 * empirical CDF is then known exactly at every edge, and the statistics computed from two
 * histograms on the same edges (the reference's, and the window counted into them) carry a bound
 * computed from the bin masses (docs/monitoring.md, "Drift at scale"):
 *
 * - KS: the statistic lies in [max over edges |ΔF|, max over bins of the largest |ΔF| the bin allows];
 * - Wasserstein-1: CDFs taken linear inside each bin; the error is at most Σ width·(p_ref + p_cur)/2;
 * - Jensen–Shannon on the Sturges bins: the counts of a Sturges bin are interpolated from the fine
 *   bins; with δ the mass of the fine bins cut by a Sturges edge, the distance is within √δ_ref + √δ_cur.
 *
 * Bin j holds edges[j−1] < x ≤ edges[j] (bin 0: x ≤ edges[0]; the last bin: x > the last edge),
 * as the PSI bins do. Pure: no I/O, no Temporal.
 */

/** Bins aimed at (ties in the pilot merge some). */
const SKETCH_BINS = 1024;
/** Present values whose quantiles fix the edges. */
export const SKETCH_PILOT = 16_384;

export const histogramSketchSchema = z
  .object({
    edges: z
      .array(z.number())
      .min(1)
      .describe('Bin edges, increasing: bin j holds edges[j-1] < x <= edges[j]; the first bin x <= edges[0], the last x > the last edge'),
    counts: z.array(z.number().min(0)).describe('Present values counted exactly in each of the edges.length + 1 bins'),
  })
  .refine((s) => s.counts.length === s.edges.length + 1, 'a sketch needs one count more than edges');

export type HistogramSketch = z.infer<typeof histogramSketchSchema>;

/** Index of the bin of `x`: the number of edges below x. */
export function binOf(edges: Float64Array | readonly number[], x: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (edges[middle] < x) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * binOf for many values against fixed edges: a table over equal-width cells of [first edge, last
 * edge] narrows each search to the edges of three cells (a handful, not log2(1 024) steps with a
 * mispredicted branch each — the cost of building a reference of millions of rows).
 */
export class BinIndex {
  private readonly lookup: Int32Array;
  private readonly first: number;
  private readonly last: number;
  private readonly scale: number;
  private readonly cells: number;

  constructor(readonly edges: Float64Array) {
    this.first = edges[0];
    this.last = edges[edges.length - 1];
    this.cells = 4 * edges.length;
    this.scale = this.last > this.first ? this.cells / (this.last - this.first) : 0;
    // lookup[c]: the edges below the start of cell c.
    this.lookup = new Int32Array(this.cells + 3);
    for (let c = 0; c < this.lookup.length; c++) this.lookup[c] = this.scale ? binOf(edges, this.first + c / this.scale) : 0;
  }

  bin(x: number): number {
    if (!(x > this.first)) return 0;
    const edges = this.edges;
    if (x > this.last) return edges.length;
    const c = Math.floor((x - this.first) * this.scale);
    // x lies in cell c up to rounding: search cells c−1 .. c+1.
    let low = this.lookup[c > 0 ? c - 1 : 0];
    let high = this.lookup[c + 2 < this.lookup.length ? c + 2 : this.lookup.length - 1];
    if (high < edges.length) high++;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (edges[middle] < x) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** Edges at the quantiles k/bins of sorted values: distinct and increasing. */
export function quantileEdges(sorted: Float64Array, bins: number): Float64Array {
  const edges = new Float64Array(bins + 1);
  const n = sorted.length;
  let m = 0;
  for (let k = 0; k <= bins; k++) {
    const edge = sorted[Math.round((k * (n - 1)) / bins)];
    if (m === 0 || edge !== edges[m - 1]) edges[m++] = edge;
  }
  return edges.slice(0, m);
}

/** Streams present values into a sketch: buffers the pilot, fixes the edges from it, then counts. */
export class HistogramSketchBuilder {
  private pilot: Float64Array | null = new Float64Array(1024);
  private pilotLength = 0;
  private edges: Float64Array | null = null;
  private index: BinIndex | null = null;
  private counts: Float64Array | null = null;

  add(x: number): void {
    if (this.counts) {
      this.counts[this.index!.bin(x)]++;
      return;
    }
    if (this.pilotLength === this.pilot!.length) {
      const grown = new Float64Array(this.pilot!.length * 2);
      grown.set(this.pilot!);
      this.pilot = grown;
    }
    this.pilot![this.pilotLength++] = x;
    if (this.pilotLength === SKETCH_PILOT) this.fix();
  }

  private fix(): void {
    const sorted = sortFloat64(this.pilot!.slice(0, this.pilotLength));
    this.edges = quantileEdges(sorted, SKETCH_BINS);
    this.index = new BinIndex(this.edges);
    this.counts = new Float64Array(this.edges.length + 1);
    for (let i = 0; i < sorted.length; i++) this.counts[binOf(this.edges, sorted[i])]++;
    this.pilot = null;
  }

  finish(): HistogramSketch | null {
    if (!this.counts && this.pilotLength === 0) return null;
    if (!this.counts) this.fix();
    return { edges: Array.from(this.edges!), counts: Array.from(this.counts!) };
  }
}

/** One side of a comparison: counts on the sketch's bins, with the side's exact extremes. */
export interface BinnedCounts {
  counts: ArrayLike<number>;
  total: number;
  min: number;
  max: number;
}

/** Each bin's span [lo, hi], from the edges and the extremes of both sides. */
function binSpans(edges: ArrayLike<number>, a: BinnedCounts, b: BinnedCounts): { lo: Float64Array; hi: Float64Array } {
  const bins = edges.length + 1;
  const lo = new Float64Array(bins);
  const hi = new Float64Array(bins);
  const min = Math.min(a.min, b.min);
  const max = Math.max(a.max, b.max);
  for (let j = 0; j < bins; j++) {
    lo[j] = j === 0 ? Math.min(min, edges[0]) : edges[j - 1];
    hi[j] = j === bins - 1 ? Math.max(max, edges[edges.length - 1]) : edges[j];
  }
  return { lo, hi };
}

/** Two-sample KS from binned counts: `statistic` (exact CDFs at the edges) ≤ true D ≤ `upper`. */
export function binnedKs(edges: ArrayLike<number>, a: BinnedCounts, b: BinnedCounts): { statistic: number; upper: number } {
  let ra = 0;
  let rb = 0;
  let statistic = 0;
  let upper = 0;
  for (let j = 0; j <= edges.length; j++) {
    const fa = ra + a.counts[j] / a.total;
    const fb = rb + b.counts[j] / b.total;
    statistic = Math.max(statistic, Math.abs(fa - fb));
    upper = Math.max(upper, fa - rb, fb - ra);
    ra = fa;
    rb = fb;
  }
  return { statistic: Math.min(1, statistic), upper: Math.min(1, Math.max(upper, statistic)) };
}

/**
 * Wasserstein-1 (∫|F_a − F_b| dx) with both CDFs linear inside each bin; `bound` ≥ |distance −
 * exact|, since a monotone CDF is within a triangle of area width·mass/2 of its chord.
 */
export function binnedWasserstein(edges: ArrayLike<number>, a: BinnedCounts, b: BinnedCounts): { distance: number; bound: number } {
  const { lo, hi } = binSpans(edges, a, b);
  let ra = 0;
  let rb = 0;
  let distance = 0;
  let bound = 0;
  for (let j = 0; j <= edges.length; j++) {
    const pa = a.counts[j] / a.total;
    const pb = b.counts[j] / b.total;
    const w = Math.max(0, hi[j] - lo[j]);
    const d0 = ra - rb;
    const d1 = ra + pa - (rb + pb);
    if (w > 0) {
      distance += d0 * d1 >= 0 ? (w * (Math.abs(d0) + Math.abs(d1))) / 2 : (w * (d0 * d0 + d1 * d1)) / (2 * (Math.abs(d0) + Math.abs(d1)));
      bound += (w * (pa + pb)) / 2;
    }
    ra += pa;
    rb += pb;
  }
  return { distance, bound };
}

/**
 * Jensen–Shannon distance (base 2) on numpy's Sturges bins over both sides' range, each side's
 * counts spread uniformly inside the fine bins. `bound`: √δ_a + √δ_b, δ the mass of the fine bins
 * a Sturges edge cuts (JS distance is a metric, and JSD ≤ total variation in bits).
 */
export function binnedJensenShannon(edges: ArrayLike<number>, a: BinnedCounts, b: BinnedCounts): { distance: number; bound: number } {
  const { lo, hi } = binSpans(edges, a, b);
  const min = Math.min(a.min, b.min);
  const max = Math.max(a.max, b.max);
  const n = a.total + b.total;
  const width = (max - min) / (Math.log2(n) + 1);
  const bins = width > 0 ? Math.ceil((max - min) / width) : 1;
  const spread = (side: BinnedCounts): { counts: Float64Array; cut: number } => {
    const out = new Float64Array(bins);
    let cut = 0;
    for (let j = 0; j <= edges.length; j++) {
      const count = side.counts[j];
      if (count === 0) continue;
      const from = Math.max(lo[j], side.min);
      const to = Math.min(hi[j], side.max);
      const first = sturgesBin(from, min, width, bins);
      const last = sturgesBin(to, min, width, bins);
      if (first === last || !(to > from)) {
        out[first] += count;
        continue;
      }
      cut += count;
      for (let k = first; k <= last; k++) {
        const start = Math.max(from, min + k * width);
        const end = Math.min(to, k === bins - 1 ? max : min + (k + 1) * width);
        if (end > start) out[k] += (count * (end - start)) / (to - from);
      }
    }
    return { counts: out, cut: cut / side.total };
  };
  const sa = spread(a);
  const sb = spread(b);
  return { distance: jensenShannonDistance(sa.counts, sb.counts, 2), bound: Math.sqrt(sa.cut) + Math.sqrt(sb.cut) };
}

function sturgesBin(x: number, min: number, width: number, bins: number): number {
  if (!(width > 0)) return 0;
  return Math.min(bins - 1, Math.max(0, Math.floor((x - min) / width)));
}

/** Sums sketch counts into the bins of coarser edges that are all sketch edges (the PSI bins). */
export function coarsen(sketchEdges: readonly number[], counts: ArrayLike<number>, coarseEdges: readonly number[]): Float64Array {
  const out = new Float64Array(coarseEdges.length + 1);
  for (let j = 0; j < counts.length; j++) {
    // Bin j's upper end is sketchEdges[j] (the last bin is unbounded).
    const upper = j < sketchEdges.length ? sketchEdges[j] : Infinity;
    out[binOf(coarseEdges, upper)] += counts[j];
  }
  return out;
}
