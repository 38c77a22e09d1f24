import { setImmediate as nextTurn } from 'node:timers/promises';
import type { CategoricalReference, NumericReference } from '../monitoring/psi';
import { DataValidationError } from '../shared/errors';
import type { DatasetRules } from '../shared/dataset-spec';
import type { ColumnDef, Row } from './columns';
import { mulberry32 } from '../shared/prng';

/**
 * StatisticsGen: per-column statistics of a dataset version, computed while the rows stream in
 * (ProfileBuilder) and stored with the version. The profile is also the training reference that
 * the monitor compares live inputs with (PSI), so number, string and boolean columns carry a
 * `reference` from src/monitoring/psi.
 *
 * `count` is the number of present values and `nulls` the number of missing ones (null or
 * undefined; a non-finite or non-number value in a number column; '' in a string column, as the
 * PSI functions read them): count + nulls = rows.
 *
 * Memory is bounded: count, nulls, min, max, mean and std are exact; quantiles, the histogram and
 * the numeric reference come from all values up to NUMERIC_SAMPLE rows, and from a uniform
 * reservoir sample of that size beyond (deterministic seed; `sampled` says so). String columns
 * count up to MAX_TRACKED_CATEGORIES distinct values; later new values count as "other".
 * An empty dataset has no reference distributions (`reference: null`).
 *
 * Over 300 lines on purpose: one accumulator per column type, each with the bounded-memory sampling
 * the stored profile and the monitor's references depend on.
 */

interface NumericColumnProfile {
  type: 'number';
  count: number;
  nulls: number;
  /** null when the column has no value. */
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Population standard deviation. */
  std: number | null;
  /** Nearest-rank quantiles: p1, p5, p25, p50, p75, p95, p99. */
  quantiles?: { q: number; value: number }[];
  /** Equal-width bins over [min, max]: edges has one more entry than counts. */
  histogram?: { edges: number[]; counts: number[] };
  /** Rows the quantiles, histogram and reference were computed from, when fewer than all. */
  sampled?: number;
  reference: NumericReference | null;
}

interface StringColumnProfile {
  type: 'string';
  count: number;
  nulls: number;
  distinct: number;
  /** True when distinct values beyond MAX_TRACKED_CATEGORIES were not tracked. */
  distinctCapped?: boolean;
  /** The most frequent values, most frequent first (ties by value). */
  top: { value: string; count: number }[];
  reference: CategoricalReference | null;
}

interface BooleanColumnProfile {
  type: 'boolean';
  count: number;
  nulls: number;
  trueCount: number;
  reference: CategoricalReference | null;
}

/** ISO dates and timestamps: their range only (as a drift reference a timestamp is meaningless). */
interface DatetimeColumnProfile {
  type: 'datetime' | 'date';
  count: number;
  nulls: number;
  min: string | null;
  max: string | null;
}

export type ColumnProfile = NumericColumnProfile | StringColumnProfile | BooleanColumnProfile | DatetimeColumnProfile;

/** Column name → its profile. */
export type DatasetProfile = Record<string, ColumnProfile>;

const TOP_CATEGORIES = 10;
/** 2^19: exact up to 524,288 rows (a month of flights fits), a uniform sample beyond. */
const NUMERIC_SAMPLE = 524_288;
const MAX_TRACKED_CATEGORIES = 100_000;
const REFERENCE_CATEGORIES = 50;
const HISTOGRAM_BINS = 10;
const QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

interface Accumulator {
  add(value: unknown): void;
  /** The values of one column of a block of rows, in a loop of its own (monomorphic: fast). */
  addColumn(rows: readonly Row[], name: string): void;
  finish(rows: number): ColumnProfile;
}

/** Rows are profiled a block at a time, column by column. */
const BLOCK_ROWS = 2048;

/** Feeds rows one at a time; `finish` gives the profile. */
export class ProfileBuilder {
  private readonly accumulators: [string, Accumulator][];
  private rows = 0;
  private block: Row[] = [];

  constructor(columns: readonly ColumnDef[]) {
    this.accumulators = columns.map((column, i) => [column.name, accumulatorFor(column, i)]);
  }

  add(row: Row): void {
    this.rows++;
    this.block.push(row);
    if (this.block.length === BLOCK_ROWS) this.flush();
  }

  private flush(): void {
    for (const [name, accumulator] of this.accumulators) accumulator.addColumn(this.block, name);
    this.block = [];
  }

  finish(): DatasetProfile {
    this.flush();
    const profile: DatasetProfile = {};
    for (const [name, accumulator] of this.accumulators) profile[name] = accumulator.finish(this.rows);
    return profile;
  }

  /**
   * finish, one column per event-loop turn: sorting a column of 500,000 numbers takes tens of
   * milliseconds, and a whole dataset's columns at once held the loop for ~0.3 s (the model
   * server shares it in `npm start`).
   */
  async finishInTurns(): Promise<DatasetProfile> {
    this.flush();
    const profile: DatasetProfile = {};
    for (const [name, accumulator] of this.accumulators) {
      await nextTurn();
      profile[name] = accumulator.finish(this.rows);
    }
    return profile;
  }
}

export function profileDataset(rows: readonly Row[], columns: readonly ColumnDef[]): DatasetProfile {
  const builder = new ProfileBuilder(columns);
  for (const row of rows) builder.add(row);
  return builder.finish();
}

function accumulatorFor(column: ColumnDef, index: number): Accumulator {
  switch (column.type) {
    case 'number':
    case 'integer':
      return new NumberAccumulator(index);
    case 'string':
      return new StringAccumulator();
    case 'boolean':
      return new BooleanAccumulator();
    case 'datetime':
    case 'date':
      return new DatetimeAccumulator(column.type);
    default:
      throw new Error(`column ${JSON.stringify(column.name)} has unknown type ${JSON.stringify(column.type)}`);
  }
}

class NumberAccumulator implements Accumulator {
  private count = 0;
  private min = Infinity;
  private max = -Infinity;
  // Sums shifted by the first value (stable when the shift is near the data, as it is): no division per value.
  private shift = Number.NaN;
  private sum = 0;
  private sumSquares = 0;
  /** All values (NaN = missing) up to NUMERIC_SAMPLE, then a reservoir sample of that size. */
  private sample = new Float64Array(1024);
  private seen = 0;
  private readonly random: () => number;
  // Reservoir sampling by Li's "Algorithm L": random numbers only at the (rare) replacements.
  private w = 0;
  private nextReplace = 0;

  constructor(seed: number) {
    this.random = mulberry32(0x9e3779b9 ^ seed);
  }

  add(raw: unknown): void {
    this.addColumn([{ v: raw as Row[string] }], 'v');
  }

  addColumn(rows: readonly Row[], name: string): void {
    let { count, min, max, shift, sum, sumSquares, seen } = this;
    if (seen + rows.length > this.sample.length && this.sample.length < NUMERIC_SAMPLE) {
      let size = this.sample.length;
      while (size < seen + rows.length && size < NUMERIC_SAMPLE) size *= 2;
      const grown = new Float64Array(Math.min(NUMERIC_SAMPLE, size));
      grown.set(this.sample);
      this.sample = grown;
    }
    const sample = this.sample;
    for (let r = 0; r < rows.length; r++) {
      const raw = rows[r][name];
      const value = typeof raw === 'number' && raw - raw === 0 ? raw : Number.NaN;
      if (value === value) {
        if (count === 0) shift = value;
        count++;
        if (value < min) min = value;
        if (value > max) max = value;
        const d = value - shift;
        sum += d;
        sumSquares += d * d;
      }
      const i = seen++;
      if (i < NUMERIC_SAMPLE) {
        sample[i] = value;
        if (i === NUMERIC_SAMPLE - 1) {
          this.w = Math.exp(Math.log(this.uniform()) / NUMERIC_SAMPLE);
          this.nextReplace = NUMERIC_SAMPLE + Math.floor(Math.log(this.uniform()) / Math.log(1 - this.w));
        }
      } else if (i === this.nextReplace) {
        sample[Math.floor(this.random() * NUMERIC_SAMPLE)] = value;
        this.w *= Math.exp(Math.log(this.uniform()) / NUMERIC_SAMPLE);
        this.nextReplace += 1 + Math.floor(Math.log(this.uniform()) / Math.log(1 - this.w));
      }
    }
    this.count = count;
    this.min = min;
    this.max = max;
    this.shift = shift;
    this.sum = sum;
    this.sumSquares = sumSquares;
    this.seen = seen;
  }

  /** Uniform in (0, 1): log() of it is finite. */
  private uniform(): number {
    return this.random() || Number.MIN_VALUE;
  }

  private get mean(): number {
    return this.shift + this.sum / this.count;
  }

  /** Population variance, never negative. */
  private get variance(): number {
    return Math.max(0, (this.sumSquares - (this.sum * this.sum) / this.count) / this.count);
  }

  finish(rows: number): NumericColumnProfile {
    const count = this.count;
    const values = this.sample.subarray(0, Math.min(this.seen, NUMERIC_SAMPLE));
    const profile: NumericColumnProfile = {
      type: 'number',
      count,
      nulls: rows - count,
      min: count ? this.min : null,
      max: count ? this.max : null,
      mean: count ? this.mean : null,
      std: count ? Math.sqrt(this.variance) : null,
    } as NumericColumnProfile;
    const present = values.filter((v) => !Number.isNaN(v)).sort();
    if (present.length) {
      profile.quantiles = QUANTILES.map((q) => ({ q, value: present[Math.max(0, Math.ceil(q * present.length) - 1)] }));
      profile.histogram = histogram(present, this.min, this.max);
    }
    if (this.seen > NUMERIC_SAMPLE) profile.sampled = NUMERIC_SAMPLE;
    profile.reference = rows ? numericReferenceOfSorted(present, values.length) : null;
    return profile;
  }
}

/**
 * numericReference (src/monitoring/psi) of `total` values whose present ones are `sorted`: the
 * same edges, proportions and missing share, from a sorted typed array in one pass.
 */
function numericReferenceOfSorted(sorted: Float64Array, total: number, bins = 10): NumericReference {
  const edges: number[] = [];
  for (let k = 1; k < bins && sorted.length > 0; k++) {
    const edge = sorted[Math.ceil((k * sorted.length) / bins) - 1];
    if (edge !== edges[edges.length - 1]) edges.push(edge);
  }
  const counts = new Array<number>(edges.length + 1).fill(0);
  let bin = 0;
  for (const value of sorted) {
    while (bin < edges.length && edges[bin] < value) bin++;
    counts[bin]++;
  }
  return {
    kind: 'numeric',
    edges,
    proportions: counts.map((count) => count / total),
    missing: (total - sorted.length) / total,
  };
}

function histogram(sorted: Float64Array, min: number, max: number): { edges: number[]; counts: number[] } {
  if (min === max) return { edges: [min, max], counts: [sorted.length] };
  const width = (max - min) / HISTOGRAM_BINS;
  const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => (i === HISTOGRAM_BINS ? max : min + i * width));
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const value of sorted) counts[Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor((value - min) / width)))]++;
  return { edges, counts };
}

class StringAccumulator implements Accumulator {
  addColumn(rows: readonly Row[], name: string): void {
    for (let i = 0; i < rows.length; i++) this.add(rows[i][name]);
  }

  private count = 0;
  /** Value → its index in tally: one hash lookup per value. */
  private readonly slots = new Map<string, number>();
  private readonly tally: number[] = [];
  private untracked = 0;

  private get counts(): Map<string, number> {
    return new Map([...this.slots].map(([value, slot]) => [value, this.tally[slot]]));
  }

  add(raw: unknown): void {
    const value = raw === null || raw === undefined ? '' : typeof raw === 'string' ? raw : String(raw);
    if (value === '') return;
    this.count++;
    const slot = this.slots.get(value);
    if (slot !== undefined) this.tally[slot]++;
    else if (this.slots.size < MAX_TRACKED_CATEGORIES) {
      this.slots.set(value, this.tally.length);
      this.tally.push(1);
    } else this.untracked++;
  }

  finish(rows: number): StringColumnProfile {
    const ranked = rank(this.counts);
    const profile: StringColumnProfile = {
      type: 'string',
      count: this.count,
      nulls: rows - this.count,
      distinct: this.counts.size,
      top: ranked.slice(0, TOP_CATEGORIES).map(([value, count]) => ({ value, count })),
      reference: rows ? categoricalFromCounts(ranked, this.untracked, rows - this.count, rows) : null,
    };
    if (this.untracked > 0) profile.distinctCapped = true;
    return profile;
  }
}

class BooleanAccumulator implements Accumulator {
  addColumn(rows: readonly Row[], name: string): void {
    for (let i = 0; i < rows.length; i++) this.add(rows[i][name]);
  }

  private trueCount = 0;
  private falseCount = 0;

  add(raw: unknown): void {
    if (raw === 1 || raw === true) this.trueCount++;
    else if (raw === 0 || raw === false) this.falseCount++;
  }

  finish(rows: number): BooleanColumnProfile {
    const count = this.trueCount + this.falseCount;
    const counts = new Map<string, number>();
    // Categories as the monitor reads 1/0 values (readCategory: String(value)).
    if (this.trueCount) counts.set('1', this.trueCount);
    if (this.falseCount) counts.set('0', this.falseCount);
    return {
      type: 'boolean',
      count,
      nulls: rows - count,
      trueCount: this.trueCount,
      reference: rows ? categoricalFromCounts(rank(counts), 0, rows - count, rows) : null,
    };
  }
}

class DatetimeAccumulator implements Accumulator {
  addColumn(rows: readonly Row[], name: string): void {
    for (let i = 0; i < rows.length; i++) this.add(rows[i][name]);
  }

  private count = 0;
  private min: string | null = null;
  private max: string | null = null;

  constructor(private readonly type: 'datetime' | 'date') {}

  add(value: unknown): void {
    if (typeof value !== 'string' || value === '') return;
    this.count++;
    // ISO timestamps of one format order as strings.
    if (this.min === null || value < this.min) this.min = value;
    if (this.max === null || value > this.max) this.max = value;
  }

  finish(rows: number): DatetimeColumnProfile {
    return { type: this.type, count: this.count, nulls: rows - this.count, min: this.min, max: this.max };
  }
}

/** Most frequent first, ties by value (as categoricalReference ranks them). */
function rank(counts: Map<string, number>): [string, number][] {
  return [...counts].sort(([a, countA], [b, countB]) => countB - countA || (a < b ? -1 : a > b ? 1 : 0));
}

/** The same reference as categoricalReference(values) computes, from counts. */
function categoricalFromCounts(ranked: [string, number][], untracked: number, missing: number, rows: number): CategoricalReference {
  const kept = ranked.slice(0, REFERENCE_CATEGORIES);
  const other = ranked.slice(REFERENCE_CATEGORIES).reduce((sum, [, count]) => sum + count, 0) + untracked;
  return {
    kind: 'categorical',
    categories: kept.map(([category]) => category),
    proportions: [...kept.map(([, count]) => count), other].map((count) => count / rows),
    missing: missing / rows,
  };
}

// ---------------------------------------------------------------------------------------------
// ExampleValidator: dataset-level rules
// ---------------------------------------------------------------------------------------------

/** The previous version of the same dataset, for the maxChange rules. */
export interface PreviousVersion {
  id: string;
  rowCount: number;
  profile: DatasetProfile;
}

/**
 * Checks the rules that need only the version's row count and profile (minRows, maxNullFraction,
 * maxChange against the previous version). Throws a DataValidationError naming the rule and the
 * observed value (non-retryable: the same data fails the same way). Uniqueness needs the rows:
 * see checkUniqueness in ./validate.
 */
export function checkDatasetRules(
  version: { rowCount: number },
  profile: DatasetProfile,
  rules: DatasetRules,
  previous?: PreviousVersion,
): void {
  if (version.rowCount < rules.minRows) {
    throw new DataValidationError(`rule minRows: ${version.rowCount} rows < ${rules.minRows} required`, 'minRows', version.rowCount);
  }
  const offending: Record<string, number> = {};
  const allowed: Record<string, number> = {};
  for (const [name, column] of Object.entries(profile)) {
    const limit = rules.maxNullFractionByColumn?.[name] ?? rules.maxNullFraction;
    const fraction = nullFraction(column);
    if (fraction > limit) {
      offending[name] = fraction;
      allowed[name] = limit;
    }
  }
  const names = Object.keys(offending);
  if (names.length > 0) {
    const limits = new Set(Object.values(allowed));
    const details = names
      .map((name) => `${name} ${formatFraction(offending[name])} null${limits.size > 1 ? ` (> ${formatFraction(allowed[name])})` : ''}`)
      .join(', ');
    throw new DataValidationError(
      `rule maxNullFraction: ${details}${limits.size === 1 ? ` > ${formatFraction([...limits][0])} allowed` : ''}`,
      'maxNullFraction',
      offending,
    );
  }
  const change = rules.maxChange;
  if (!change || !previous) return;
  if (change.rowCount !== undefined && previous.rowCount > 0) {
    const relative = Math.abs(version.rowCount - previous.rowCount) / previous.rowCount;
    if (relative > change.rowCount) {
      throw new DataValidationError(
        `rule maxChange.rowCount: ${version.rowCount} rows vs ${previous.rowCount} in the previous version ${previous.id} (${formatFraction(relative)} change > ${formatFraction(change.rowCount)} allowed)`,
        'maxChange.rowCount',
        { rows: version.rowCount, previousRows: previous.rowCount, change: relative },
      );
    }
  }
  if (change.nullFraction !== undefined) {
    const moved: Record<string, { now: number; before: number }> = {};
    for (const [name, column] of Object.entries(profile)) {
      const before = previous.profile[name];
      if (!before) continue;
      const now = nullFraction(column);
      const then = nullFraction(before);
      if (Math.abs(now - then) > change.nullFraction) moved[name] = { now, before: then };
    }
    if (Object.keys(moved).length > 0) {
      const details = Object.entries(moved)
        .map(([name, m]) => `${name} ${formatFraction(m.before)} → ${formatFraction(m.now)} null`)
        .join(', ');
      throw new DataValidationError(
        `rule maxChange.nullFraction: ${details} vs the previous version ${previous.id} (change > ${formatFraction(change.nullFraction)} allowed)`,
        'maxChange.nullFraction',
        moved,
      );
    }
  }
  if (change.meanShift !== undefined) {
    const shifted: Record<string, { mean: number; previousMean: number; shift: number }> = {};
    for (const [name, column] of Object.entries(profile)) {
      const before = previous.profile[name];
      if (column.type !== 'number' || before?.type !== 'number') continue;
      if (column.mean === null || before.mean === null || before.std === null) continue;
      const shift = before.std > 0 ? Math.abs(column.mean - before.mean) / before.std : column.mean === before.mean ? 0 : Infinity;
      if (shift > change.meanShift) shifted[name] = { mean: column.mean, previousMean: before.mean, shift };
    }
    if (Object.keys(shifted).length > 0) {
      const details = Object.entries(shifted)
        .map(([name, s]) => `${name} mean ${round(s.previousMean)} → ${round(s.mean)} (${round(s.shift)} std)`)
        .join(', ');
      throw new DataValidationError(
        `rule maxChange.meanShift: ${details} vs the previous version ${previous.id} (> ${change.meanShift} std allowed)`,
        'maxChange.meanShift',
        shifted,
      );
    }
  }
}

function nullFraction(column: ColumnProfile): number {
  const total = column.count + column.nulls;
  return total === 0 ? 0 : column.nulls / total;
}

function round(value: number): number {
  return Number(value.toPrecision(4));
}

export function formatFraction(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(4))}%`;
}
