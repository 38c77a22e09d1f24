import { categoryEntries, countCategory, emptyCategoryCounts } from './category-counts';
import { z } from 'zod';
import { readCategory, readNumber } from '../ml/row';
import { DataValidationError } from '../shared/errors';
import { coarsen, HistogramSketchBuilder, histogramSketchSchema, type HistogramSketch } from './histogram-sketch';
import { categoricalReferenceSchema, numericReferenceFromSorted, numericReferenceSchema } from './psi';
import { sortFloat64 } from './sort';
import { mulberry32 } from '../shared/prng';
import { ReservoirSkips } from './reservoir';

/**
 * Drift references: what the drift statistics compare a window of live values with, per column.
 * JSON-serialisable (they can be stored next to a dataset version or a model version).
 *
 * A numeric reference always has exact summary statistics (count, missing, min, max, mean,
 * population std) and the PSI bins; how exactly KS, Wasserstein and Jensen–Shannon can be
 * computed depends on what else it carries (see docs/monitoring.md):
 *
 * - `sample` holding every present value (`of` = present): exact, equal to SciPy on the raw data;
 * - `sample` of a uniform random subset: the tests run against that sample (a valid test of the
 *   sample against the window, p-values for the sample size); normalisation uses the exact std;
 * - no sample (a reference read from a dataset profile): approximations from the quantile points
 *   and the binned ECDF, flagged `exact: false` in the results with an error bound.
 *
 * `values` lists every distinct value with its count when there are at most
 * MAX_TRACKED_VALUES (low-cardinality numbers: flags, codes, hours): the reference distribution is
 * then known exactly, whatever the sample.
 *
 * Over 300 lines on purpose: every kind of reference is built, merged, stored and read back by the
 * same few code paths, which must agree.
 */

/** Reference sample size kept by the builders: with it every reference of up to 2 000 present values is exact. */
export const REFERENCE_SAMPLE_SIZE = 2_000;
/** Distinct numeric values counted exactly (small integer codes: hours, weekdays, flags). */
const MAX_TRACKED_VALUES = 100;
/** Evidently bins a numeric column by value (not by Sturges bins) when it has at most this many distinct values. */
export const VALUE_BINNING_MAX_DISTINCT = 20;
/** Categories counted per categorical reference (the rest is "other"). */
const MAX_REFERENCE_CATEGORIES = 1_000;
/** Categories in the PSI bins, as in the dataset profile. */
const PSI_CATEGORIES = 50;

const count = z.number().min(0);

const numericDriftReferenceSchema = z
  .object({
    kind: z.literal('numeric'),
    /** Values seen, missing ones included. */
    rows: z.number().int().min(1),
    missing: z.number().int().min(0),
    min: z.number(),
    max: z.number(),
    mean: z.number(),
    /** Population standard deviation (ddof = 0, as numpy.std). */
    std: z.number().min(0),
    values: z.array(z.object({ value: z.number(), count })).optional(),
    /** Present values sorted ascending: all of them when `of` equals rows − missing. */
    sample: z.object({ values: z.array(z.number()), of: z.number().int().min(1) }).optional(),
    /** Points of the empirical CDF: F(value) when inclusive, else F(value−). */
    cdf: z.array(z.object({ value: z.number(), share: z.number().min(0).max(1), inclusive: z.boolean() })).optional(),
    /** Points (q, Q(q)) of the empirical quantile function, from 0 (min) to 1 (max). */
    quantiles: z.array(z.object({ q: z.number().min(0).max(1), value: z.number() })).optional(),
    /** PSI bins (src/monitoring/psi). */
    bins: numericReferenceSchema,
    sketch: histogramSketchSchema
      .optional()
      .describe(
        'Every present value counted into fine bins, when there are more than the sample holds (src/monitoring/histogram-sketch.ts); absent in references stored before it',
      ),
    /** Why the reference is approximate, when it is (e.g. "from a dataset profile"). */
    source: z.string().optional(),
  })
  .refine((r) => r.missing < r.rows, 'a numeric reference needs at least one present value');

const categoricalDriftReferenceSchema = z
  .object({
    kind: z.literal('categorical'),
    rows: z.number().int().min(1),
    missing: z.number().int().min(0),
    /** Present values per category, most frequent first. */
    counts: z.array(z.object({ value: z.string(), count })),
    /** Present values in categories not listed in `counts`. */
    other: count,
    bins: categoricalReferenceSchema,
    source: z.string().optional(),
  })
  .refine((r) => r.missing < r.rows, 'a categorical reference needs at least one present value');

export const driftReferenceSchema = z.union([numericDriftReferenceSchema, categoricalDriftReferenceSchema]);
/**
 * A numeric reference. The builders keep `sample.values` as a sorted Float64Array (no copy into a
 * plain array for large samples); it serialises to a JSON array all the same (see serialisable),
 * and references read back from JSON hold plain arrays.
 */
export type NumericDriftReference = Omit<z.infer<typeof numericDriftReferenceSchema>, 'sample'> & {
  sample?: { values: readonly number[] | Float64Array; of: number };
};
export type CategoricalDriftReference = z.infer<typeof categoricalDriftReferenceSchema>;
export type DriftReference = NumericDriftReference | CategoricalDriftReference;
/** Column name → reference. */
export type DriftReferenceSet = Record<string, DriftReference>;

export type ColumnKind = 'numeric' | 'categorical';

/**
 * The reference does not fit the monitored columns (another schema, a column without reference,
 * a type that cannot be compared). A DataValidationError, so activities do not retry it; the
 * message names every offending column.
 */
export class ReferenceSchemaError extends DataValidationError {
  readonly missing: string[];
  readonly incompatible: Record<string, string>;

  constructor(missing: string[], incompatible: Record<string, string>) {
    super(referenceSchemaMessage(missing, incompatible), 'referenceSchema', { missing, incompatible });
    this.missing = missing;
    this.incompatible = incompatible;
  }
}

function referenceSchemaMessage(missing: string[], incompatible: Record<string, string>): string {
  const parts: string[] = [];
  if (missing.length) parts.push(`no reference for ${missing.map((c) => JSON.stringify(c)).join(', ')}`);
  for (const [column, why] of Object.entries(incompatible)) parts.push(`${JSON.stringify(column)} ${why}`);
  return `the drift reference does not match the monitored columns: ${parts.join('; ')}`;
}

// ---------------------------------------------------------------------------------------------
// Building references from values
// ---------------------------------------------------------------------------------------------

export interface ReferenceOptions {
  /** Present values kept for KS/Wasserstein (uniform reservoir sample beyond). Infinity keeps all. */
  sampleSize?: number;
  /** Seed of the reservoir sampling (deterministic references for the same input). */
  seed?: number;
  /** PSI bins for numbers. */
  bins?: number;
  /** Categories counted (the rest is "other"). */
  maxCategories?: number;
}

/**
 * Reference of a numeric column; missing = null, undefined, NaN, ±Infinity, non-numeric text.
 * The same reference DriftReferenceBuilder makes for one column (same sample for the same seed),
 * computed in bulk: one copy, one sort, two passes.
 */
export function numericDriftReference(values: ArrayLike<unknown>, options: ReferenceOptions = {}): NumericDriftReference {
  const sampleSize = options.sampleSize ?? REFERENCE_SAMPLE_SIZE;
  if (!(sampleSize >= 1)) throw new Error(`sampleSize must be at least 1, got ${sampleSize}`);
  const rows = values.length;
  const all = new Float64Array(rows);
  let n = 0;
  let sum = 0;
  for (let i = 0; i < rows; i++) {
    const raw = values[i];
    const v = typeof raw === 'number' ? (raw - raw === 0 ? raw : Number.NaN) : readNumber(raw);
    if (v === v) {
      all[n++] = v;
      sum += v;
    }
  }
  if (n === 0) throw new ReferenceSchemaError([], { '': 'has no value in the reference data' });
  const present = all.subarray(0, n);
  const mean = sum / n;
  let m2 = 0;
  let compensation = 0;
  for (let i = 0; i < n; i++) {
    const d = present[i] - mean;
    m2 += d * d;
    compensation += d;
  }
  // Two-pass variance with the first-order correction for the rounding of the mean.
  const variance = (m2 - (compensation * compensation) / n) / n;
  let sample: Float64Array;
  let distinct: Map<number, number> | null = null;
  let sketch: HistogramSketch | null = null;
  if (n <= sampleSize) {
    sample = sortFloat64(present);
  } else {
    const skips = new ReservoirSkips(sampleSize, reservoirRandom(options.seed, 0));
    sample = present.slice(0, sampleSize);
    while (skips.next < n) {
      const i = skips.next;
      sample[skips.replace()] = present[i];
    }
    sortFloat64(sample);
    const sketcher = new HistogramSketchBuilder();
    for (let i = 0; i < n; i++) sketcher.add(present[i]);
    sketch = sketcher.finish();
    distinct = new Map();
    for (let i = 0; i < n && distinct; i++) {
      const v = present[i];
      const seen = distinct.get(v);
      if (seen !== undefined) distinct.set(v, seen + 1);
      else if (distinct.size < MAX_TRACKED_VALUES) distinct.set(v, 1);
      else distinct = null;
    }
  }
  let min = sample[0];
  let max = sample[sample.length - 1];
  if (n > sampleSize) {
    for (let i = 0; i < n; i++) {
      if (present[i] < min) min = present[i];
      if (present[i] > max) max = present[i];
    }
  } else {
    // The full sample is sorted: count its distinct values directly.
    let runs = 0;
    for (let i = 0; i < n && runs <= MAX_TRACKED_VALUES; i++) if (i === 0 || sample[i] !== sample[i - 1]) runs++;
    if (runs <= MAX_TRACKED_VALUES) {
      distinct = new Map();
      for (let i = 0; i < n; i++) distinct.set(sample[i], (distinct.get(sample[i]) ?? 0) + 1);
    }
  }
  const reference: NumericDriftReference = {
    kind: 'numeric',
    rows,
    missing: rows - n,
    min,
    max,
    mean,
    std: Math.sqrt(Math.max(0, variance)),
    sample: { values: serialisable(sample), of: n },
    bins: sketch ? sketchBins(sketch, options.bins ?? 10, n, rows) : sampledBins(sample, n, rows, options.bins ?? 10),
  };
  if (sketch) reference.sketch = sketch;
  if (distinct) reference.values = [...distinct].sort(([a], [b]) => a - b).map(([value, count]) => ({ value, count }));
  return reference;
}

/** A Float64Array that JSON.stringify writes as a plain array (as references are stored). */
function serialisable(values: Float64Array): Float64Array {
  Object.defineProperty(values, 'toJSON', { value: () => Array.from(values), enumerable: false });
  return values;
}

/** Sorted Float64Array views of samples read back from JSON, per array: a reference serves many windows. */
const sortedSamples = new WeakMap<readonly number[], Float64Array>();

/** The sample of a numeric reference as a sorted Float64Array (cached; sorted if it was not). */
export function sortedSample(values: readonly number[] | Float64Array): Float64Array {
  if (values instanceof Float64Array) return values;
  let sorted = sortedSamples.get(values);
  if (!sorted) {
    sorted = Float64Array.from(values);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i] < sorted[i - 1]) {
        sortFloat64(sorted);
        break;
      }
    }
    sortedSamples.set(values, sorted);
  }
  return sorted;
}

function reservoirRandom(seed: number | undefined, index: number): () => number {
  return mulberry32(((seed ?? 0x5eed) ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0);
}

/** Reference of a categorical column; missing = null, undefined, ''. Values compare as strings. */
export function categoricalDriftReference(values: ArrayLike<unknown>, options: ReferenceOptions = {}): CategoricalDriftReference {
  const builder = new CategoricalReferenceBuilder(options);
  for (let i = 0; i < values.length; i++) builder.add(values[i]);
  return builder.finish('');
}

/**
 * References for several columns of streamed rows (e.g. a dataset version's train split, or the
 * scores of the evaluation step as the prediction reference). Memory is bounded per column.
 */
export class DriftReferenceBuilder {
  private readonly builders: [string, NumericReferenceBuilder | CategoricalReferenceBuilder][];

  constructor(columns: readonly { name: string; kind: ColumnKind }[], options: ReferenceOptions = {}) {
    this.builders = columns.map((column, i) => [
      column.name,
      column.kind === 'numeric' ? new NumericReferenceBuilder(options, i) : new CategoricalReferenceBuilder(options),
    ]);
  }

  add(row: Readonly<Record<string, unknown>>): void {
    for (let i = 0; i < this.builders.length; i++) {
      const [name, builder] = this.builders[i];
      builder.add(row[name]);
    }
  }

  /** A chunk of `rowCount` rows as columns (no object per row); a column not given is missing in every row. */
  addColumns(columns: Readonly<Record<string, ArrayLike<unknown>>>, rowCount: number): void {
    for (const [name, builder] of this.builders) {
      const column = Object.hasOwn(columns, name) ? columns[name] : null;
      if (column && column.length !== rowCount)
        throw new Error(`column ${JSON.stringify(name)} has ${column.length} values, expected ${rowCount}`);
      for (let i = 0; i < rowCount; i++) builder.add(column ? column[i] : undefined);
    }
  }

  /** Throws a ReferenceSchemaError naming the columns that had no present value at all. */
  finish(): DriftReferenceSet {
    const empty = this.builders.filter(([, builder]) => builder.present === 0).map(([name]) => name);
    if (empty.length) {
      throw new ReferenceSchemaError([], Object.fromEntries(empty.map((name) => [name, 'has no value in the reference data'])));
    }
    return Object.fromEntries(this.builders.map(([name, builder]) => [name, builder.finish(name)]));
  }
}

class NumericReferenceBuilder {
  rows = 0;
  present = 0;
  private min = Infinity;
  private max = -Infinity;
  private values: Map<number, number> | null = new Map();
  private sample: Float64Array;
  private readonly sampleSize: number;
  private readonly skips: ReservoirSkips;
  private readonly bins: number;
  /** Sum and sum of squares of (value − shift), shift the first value: the mean and std without a division per value. */
  private shift = Number.NaN;
  private sum = 0;
  private sumSquares = 0;
  /** Every present value, binned: used when there are more than the sample holds. */
  private readonly sketch: HistogramSketchBuilder;

  constructor(options: ReferenceOptions, index: number) {
    this.sampleSize = options.sampleSize ?? REFERENCE_SAMPLE_SIZE;
    if (!(this.sampleSize >= 1)) throw new Error(`sampleSize must be at least 1, got ${this.sampleSize}`);
    this.sample = new Float64Array(Math.min(1024, this.sampleSize));
    this.skips = new ReservoirSkips(this.sampleSize, reservoirRandom(options.seed, index));
    this.bins = options.bins ?? 10;
    this.sketch = new HistogramSketchBuilder();
  }

  add(raw: unknown): void {
    this.rows++;
    const value = typeof raw === 'number' ? (Number.isFinite(raw) ? raw : Number.NaN) : readNumber(raw);
    if (Number.isNaN(value)) return;
    const i = this.present++;
    this.sketch.add(value);
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (i === 0) this.shift = value;
    const shifted = value - this.shift;
    this.sum += shifted;
    this.sumSquares += shifted * shifted;
    if (this.values) {
      const seen = this.values.get(value);
      if (seen !== undefined) this.values.set(value, seen + 1);
      else if (this.values.size < MAX_TRACKED_VALUES) this.values.set(value, 1);
      else this.values = null;
    }
    if (i < this.sampleSize) {
      if (i === this.sample.length) {
        const grown = new Float64Array(Math.min(this.sampleSize, this.sample.length * 2));
        grown.set(this.sample);
        this.sample = grown;
      }
      this.sample[i] = value;
    } else if (i === this.skips.next) {
      this.sample[this.skips.replace()] = value;
    }
  }

  finish(name: string): NumericDriftReference {
    if (this.present === 0) throw new ReferenceSchemaError([], { [name]: 'has no value in the reference data' });
    const sorted = sortFloat64(this.sample.slice(0, Math.min(this.present, this.sampleSize)));
    const reference: NumericDriftReference = {
      kind: 'numeric',
      rows: this.rows,
      missing: this.rows - this.present,
      min: this.min,
      max: this.max,
      mean: this.shift + this.sum / this.present,
      std: Math.sqrt(Math.max(0, this.sumSquares / this.present - (this.sum / this.present) ** 2)),
      sample: { values: serialisable(sorted), of: this.present },
      bins: sampledBins(sorted, this.present, this.rows, this.bins),
    };
    if (this.present > this.sampleSize) {
      const sketch = this.sketch.finish()!;
      reference.sketch = sketch;
      reference.bins = sketchBins(sketch, this.bins, this.present, this.rows);
    }
    if (this.values) reference.values = [...this.values].sort(([a], [b]) => a - b).map(([value, n]) => ({ value, count: n }));
    return reference;
  }
}

/**
 * PSI bins from a sketch: the cut point of decile k is the sketch edge that closes the bin holding
 * the value numericReferenceFromSorted would cut at, so the proportions are exact sums of counts.
 */
function sketchBins(sketch: HistogramSketch, bins: number, present: number, rows: number) {
  const edges: number[] = [];
  let cumulative = 0;
  let j = 0;
  for (let k = 1; k < bins; k++) {
    const rank = Math.ceil((k * present) / bins);
    while (j < sketch.edges.length && cumulative + sketch.counts[j] < rank) cumulative += sketch.counts[j++];
    if (j < sketch.edges.length && sketch.edges[j] !== edges[edges.length - 1]) edges.push(sketch.edges[j]);
  }
  const counts = coarsen(sketch.edges, sketch.counts, edges);
  return { kind: 'numeric' as const, edges, proportions: Array.from(counts, (c) => c / rows), missing: (rows - present) / rows };
}

/** PSI bins from a sorted sample of the present values, scaled to the share of present values. */
function sampledBins(sorted: Float64Array, present: number, rows: number, bins: number) {
  const fromSample = numericReferenceFromSorted(sorted, sorted.length, bins);
  const presentShare = present / rows;
  return { ...fromSample, proportions: fromSample.proportions.map((p) => p * presentShare), missing: 1 - presentShare };
}

class CategoricalReferenceBuilder {
  rows = 0;
  present = 0;
  private readonly tally = emptyCategoryCounts();
  private untracked = 0;
  private readonly maxTracked: number;
  private readonly maxCategories: number;

  constructor(options: ReferenceOptions) {
    this.maxCategories = options.maxCategories ?? MAX_REFERENCE_CATEGORIES;
    // Like the dataset profile: count up to 100 000 distinct values, later new ones are "other".
    this.maxTracked = Math.max(this.maxCategories, 100_000);
  }

  add(raw: unknown): void {
    this.rows++;
    const category = typeof raw === 'string' ? (raw === '' ? null : raw) : readCategory(raw);
    if (category === null) return;
    this.present++;
    if (!countCategory(this.tally, category, this.maxTracked)) this.untracked++;
  }

  private get counts(): [string, number][] {
    return categoryEntries(this.tally);
  }

  finish(name: string): CategoricalDriftReference {
    if (this.present === 0) throw new ReferenceSchemaError([], { [name]: 'has no value in the reference data' });
    const ranked = this.counts.sort(([a, countA], [b, countB]) => countB - countA || (a < b ? -1 : a > b ? 1 : 0));
    const kept = ranked.slice(0, this.maxCategories);
    let other = this.untracked;
    for (let i = this.maxCategories; i < ranked.length; i++) other += ranked[i][1];
    const psiKept = ranked.slice(0, PSI_CATEGORIES);
    const psiOther = this.present - psiKept.reduce((sum, [, n]) => sum + n, 0);
    return {
      kind: 'categorical',
      rows: this.rows,
      missing: this.rows - this.present,
      counts: kept.map(([value, n]) => ({ value, count: n })),
      other,
      bins: {
        kind: 'categorical',
        categories: psiKept.map(([category]) => category),
        proportions: [...psiKept.map(([, n]) => n), psiOther].map((n) => n / this.rows),
        missing: (this.rows - this.present) / this.rows,
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------
// References from a stored dataset profile (src/data/profile.ts)
// ---------------------------------------------------------------------------------------------

const profileNumberSchema = z.object({
  type: z.literal('number'),
  count: z.number().int().min(0),
  nulls: z.number().int().min(0),
  min: z.number().nullable(),
  max: z.number().nullable(),
  mean: z.number().nullable(),
  std: z.number().nullable(),
  quantiles: z.array(z.object({ q: z.number(), value: z.number() })).optional(),
  histogram: z.object({ edges: z.array(z.number()), counts: z.array(z.number()) }).optional(),
  sampled: z.number().optional(),
  /** Proposed for src/data/profile.ts: a sorted reservoir sample of the present values. */
  sample: z.object({ values: z.array(z.number()), of: z.number().int().min(1) }).optional(),
  /** Proposed: every distinct value with its count when there are at most MAX_TRACKED_VALUES. */
  values: z.array(z.object({ value: z.number(), count })).optional(),
  reference: numericReferenceSchema.nullable(),
});

const profileCategoricalSchema = z.object({
  type: z.enum(['string', 'boolean']),
  count: z.number().int().min(0),
  nulls: z.number().int().min(0),
  reference: categoricalReferenceSchema.nullable(),
});

/**
 * Drift references for `columns` from a dataset profile (the training data's, stored with its
 * dataset version). Throws a ReferenceSchemaError naming every column that the profile lacks or
 * cannot serve (dates, columns without values, an unreadable entry).
 *
 * Without the proposed `sample` in the profile, numeric KS and Wasserstein are approximated from
 * the profile's quantiles, decile bins and histogram (docs/monitoring.md says how well).
 */
export function driftReferencesFromProfile(profile: unknown, columns: readonly string[]): DriftReferenceSet {
  if (profile === null || typeof profile !== 'object') throw new ReferenceSchemaError([...columns], {});
  const entries = profile as Record<string, unknown>;
  const missing: string[] = [];
  const incompatible: Record<string, string> = {};
  const references: DriftReferenceSet = {};
  for (const column of columns) {
    const entry = entries[column];
    if (entry === undefined) {
      missing.push(column);
      continue;
    }
    const type = typeof entry === 'object' && entry !== null && 'type' in entry ? entry.type : undefined;
    if (type === 'number') {
      const parsed = profileNumberSchema.safeParse(entry);
      if (!parsed.success) incompatible[column] = `has an unreadable profile entry (${parsed.error.issues[0]?.message})`;
      else if (!parsed.data.reference || parsed.data.count === 0) incompatible[column] = 'has no value in the reference data';
      else references[column] = numericFromProfile(parsed.data);
    } else if (type === 'string' || type === 'boolean') {
      const parsed = profileCategoricalSchema.safeParse(entry);
      if (!parsed.success) incompatible[column] = `has an unreadable profile entry (${parsed.error.issues[0]?.message})`;
      else if (!parsed.data.reference || parsed.data.count === 0) incompatible[column] = 'has no value in the reference data';
      else references[column] = categoricalFromProfile(parsed.data);
    } else if (type === 'datetime' || type === 'date') {
      incompatible[column] = `is a ${type} column in the reference (no drift reference for dates)`;
    } else {
      incompatible[column] = `has an unknown profile type ${JSON.stringify(type)}`;
    }
  }
  if (missing.length || Object.keys(incompatible).length) throw new ReferenceSchemaError(missing, incompatible);
  return references;
}

function numericFromProfile(p: z.infer<typeof profileNumberSchema>): NumericDriftReference {
  const bins = p.reference!;
  const rows = p.count + p.nulls;
  const presentShare = 1 - bins.missing;
  // Exact ECDF points: F(edge) at each PSI edge (bins are (e_{i−1}, e_i]).
  const cdf: { value: number; share: number; inclusive: boolean }[] = [];
  let cumulative = 0;
  for (let i = 0; i < bins.edges.length; i++) {
    cumulative += bins.proportions[i];
    cdf.push({ value: bins.edges[i], share: clip01(cumulative / presentShare), inclusive: true });
  }
  // The equal-width histogram adds F(edge−) points, which reach into the tails.
  if (p.histogram && p.histogram.counts.length > 1) {
    const total = p.histogram.counts.reduce((a, b) => a + b, 0);
    let below = 0;
    for (let i = 1; i < p.histogram.counts.length; i++) {
      below += p.histogram.counts[i - 1];
      cdf.push({ value: p.histogram.edges[i], share: total ? below / total : 0, inclusive: false });
    }
  }
  cdf.sort((a, b) => a.value - b.value || Number(a.inclusive) - Number(b.inclusive));
  // Points of the quantile function: min, nearest-rank quantiles, the ECDF points, max.
  const knots: { q: number; value: number }[] = [{ q: 0, value: p.min! }];
  for (const { q, value } of p.quantiles ?? []) knots.push({ q, value });
  for (const point of cdf) knots.push({ q: point.share, value: point.value });
  knots.push({ q: 1, value: p.max! });
  knots.sort((a, b) => a.q - b.q || a.value - b.value);
  // Keep them monotone (the profile's quantiles may come from a sample; rounding at the edges).
  const quantiles: { q: number; value: number }[] = [];
  for (const knot of knots) {
    const last = quantiles[quantiles.length - 1];
    const value = Math.min(p.max!, Math.max(last ? last.value : p.min!, knot.value));
    if (last && last.q === knot.q) last.value = Math.max(last.value, value);
    else quantiles.push({ q: knot.q, value });
  }
  const reference: NumericDriftReference = {
    kind: 'numeric',
    rows,
    missing: p.nulls,
    min: p.min!,
    max: p.max!,
    mean: p.mean!,
    std: p.std ?? 0,
    cdf,
    quantiles,
    bins,
    source: p.sampled ? `dataset profile (quantiles from a sample of ${p.sampled})` : 'dataset profile',
  };
  if (p.sample) reference.sample = p.sample;
  if (p.values) reference.values = p.values;
  return reference;
}

function categoricalFromProfile(p: z.infer<typeof profileCategoricalSchema>): CategoricalDriftReference {
  const bins = p.reference!;
  const rows = p.count + p.nulls;
  // The profile stores shares of all rows; counts are those shares times the row count.
  const counts = bins.categories.map((value, i) => ({ value, count: Math.round(bins.proportions[i] * rows) }));
  const other = Math.round(bins.proportions[bins.categories.length] * rows);
  return { kind: 'categorical', rows, missing: p.nulls, counts, other, bins, source: 'dataset profile' };
}

function clip01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
