import { type CategoryCounts, categoryEntries, countCategory, emptyCategoryCounts } from './category-counts';
import { readCategory, readNumber } from '../ml/row';
import { BinIndex } from './histogram-sketch';
import type { DriftReferenceSet } from './reference';

/**
 * A window of live values read in chunks (rows from the prediction log, or columns of a dataset)
 * and reduced as it streams, so its memory does not grow with the window:
 *
 * - a column whose numeric reference has a sketch: counts on the sketch's bins, exact min/max,
 *   and its distinct values while there are at most WINDOW_TRACKED_VALUES;
 * - a categorical column: counts per category;
 * - a column whose reference has no sketch (small, or stored before sketches): its values, kept
 *   whole, compared exactly as before.
 *
 * evaluateDrift takes it as `current: { window }`. Pure: no I/O.
 */

/** Distinct numeric values a sketched column counts exactly (statistics by value while they fit). */
const WINDOW_TRACKED_VALUES = 1_000;

export interface BinnedSide {
  kind: 'binned';
  /** Counts on the reference sketch's bins. */
  counts: Float64Array;
  min: number;
  max: number;
  present: number;
  missing: number;
  /** Every distinct value with its count, or null beyond WINDOW_TRACKED_VALUES. */
  values: Map<number, number> | null;
}

interface CountedSide {
  kind: 'categorical';
  counts: Map<string, number>;
  present: number;
  missing: number;
}

/** What evaluateDrift compares for one column; null when no row had the column. */
export type WindowSide = BinnedSide | CountedSide | { kind: 'values'; values: readonly unknown[] };

interface BinnedState {
  mode: 'binned';
  index: BinIndex;
  counts: Float64Array;
  min: number;
  max: number;
  present: number;
  values: Map<number, number> | null;
}

interface CategoricalState {
  mode: 'categorical';
  counts: CategoryCounts;
  present: number;
}

interface RawState {
  mode: 'raw';
  values: unknown[];
}

type ColumnState = (BinnedState | CategoricalState | RawState) & { seen: boolean };

/** A window's state as plain data (structured-cloneable: it crosses worker threads). */
export interface DriftWindowSnapshot {
  rowCount: number;
  states: Map<string, ColumnState>;
}

export class DriftWindow {
  /** Rows added so far. */
  rowCount = 0;
  private readonly states = new Map<string, ColumnState>();

  /** `columns`: the monitored columns (features and prediction), each with a reference in `reference`. */
  constructor(reference: DriftReferenceSet, columns: readonly string[]) {
    for (const name of columns) {
      const r = Object.hasOwn(reference, name) ? reference[name] : undefined;
      let state: ColumnState;
      if (r?.kind === 'categorical') state = { mode: 'categorical', counts: emptyCategoryCounts(), present: 0, seen: false };
      else if (r?.kind === 'numeric' && r.sketch) {
        const edges = Float64Array.from(r.sketch.edges);
        state = {
          mode: 'binned',
          index: new BinIndex(edges),
          counts: new Float64Array(edges.length + 1),
          min: Infinity,
          max: -Infinity,
          present: 0,
          values: new Map(),
          seen: false,
        };
      } else state = { mode: 'raw', values: [], seen: false };
      this.states.set(name, state);
    }
  }

  /** The state, to send to another thread (see combine). */
  snapshot(): DriftWindowSnapshot {
    return { rowCount: this.rowCount, states: this.states };
  }

  /** One window from windows over the same rows and disjoint columns (e.g. one per worker thread). */
  static combine(snapshots: readonly DriftWindowSnapshot[]): DriftWindow {
    const window = new DriftWindow({}, []);
    window.rowCount = snapshots[0]?.rowCount ?? 0;
    for (const snapshot of snapshots) {
      if (snapshot.rowCount !== window.rowCount)
        throw new Error(`windows over ${snapshot.rowCount} and ${window.rowCount} rows cannot be combined`);
      for (const [name, state] of snapshot.states) {
        if (window.states.has(name)) throw new Error(`column ${JSON.stringify(name)} is in two windows`);
        window.states.set(name, state);
      }
    }
    return window;
  }

  /** A chunk of row objects (e.g. logged prediction inputs). */
  addRows(rows: readonly Readonly<Record<string, unknown>>[]): void {
    for (const [name, state] of this.states) {
      let seen = state.seen;
      for (let i = 0; i < rows.length && !seen; i++) seen = Object.hasOwn(rows[i], name);
      state.seen = seen;
      const column = new Array<unknown>(rows.length);
      for (let i = 0; i < rows.length; i++) column[i] = rows[i][name];
      add(state, column);
    }
    this.rowCount += rows.length;
  }

  /** A chunk of columns of `rowCount` values each; a column not given is absent from the chunk. */
  addColumns(columns: Readonly<Record<string, ArrayLike<unknown>>>, rowCount: number): void {
    for (const [name, state] of this.states) {
      const column = Object.hasOwn(columns, name) ? columns[name] : null;
      if (column === null) add(state, new Array<unknown>(rowCount));
      else {
        if (column.length !== rowCount) throw new Error(`column ${JSON.stringify(name)} has ${column.length} values, expected ${rowCount}`);
        state.seen = true;
        add(state, column);
      }
    }
    this.rowCount += rowCount;
  }

  /**
   * The column as evaluateDrift compares it: `kind` is how the plan compares it (a sketched column
   * compared as categories needs its distinct values).
   */
  side(name: string, kind: 'numeric' | 'categorical', referenceHasValues: boolean): WindowSide | null {
    const state = this.states.get(name);
    if (!state) throw new Error(`column ${JSON.stringify(name)} is not in the window`);
    if (!state.seen) return null;
    const missing = this.rowCount - (state.mode === 'raw' ? 0 : state.present);
    if (state.mode === 'raw') return { kind: 'values', values: state.values };
    if (state.mode === 'categorical') {
      const counts = new Map(categoryEntries(state.counts));
      return { kind: 'categorical', counts, present: state.present, missing };
    }
    // Exact when both sides know their values: the window's values, expanded, compare as before.
    if (state.values && (referenceHasValues || kind === 'categorical')) {
      if (kind === 'categorical') {
        const counts = new Map<string, number>();
        for (const [value, n] of state.values) counts.set(String(value), n);
        return { kind: 'categorical', counts, present: state.present, missing };
      }
      const values: number[] = [];
      for (const [value, n] of state.values) for (let k = 0; k < n; k++) values.push(value);
      return { kind: 'values', values: [...values, ...new Array<unknown>(missing)] };
    }
    return { kind: 'binned', counts: state.counts, min: state.min, max: state.max, present: state.present, missing, values: state.values };
  }
}

function add(state: ColumnState, column: ArrayLike<unknown>): void {
  if (state.mode === 'raw') {
    for (let i = 0; i < column.length; i++) state.values.push(column[i]);
  } else if (state.mode === 'binned') {
    addBinned(state, column);
  } else {
    addCategorical(state, column);
  }
}

function addBinned(state: BinnedState, column: ArrayLike<unknown>): void {
  const { index, counts } = state;
  for (let i = 0; i < column.length; i++) {
    const raw = column[i];
    const v = typeof raw === 'number' ? (raw - raw === 0 ? raw : Number.NaN) : readNumber(raw);
    if (v !== v) continue;
    state.present++;
    counts[index.bin(v)]++;
    if (v < state.min) state.min = v;
    if (v > state.max) state.max = v;
    const values = state.values;
    if (values) {
      const seen = values.get(v);
      if (seen !== undefined) values.set(v, seen + 1);
      else if (values.size < WINDOW_TRACKED_VALUES) values.set(v, 1);
      else state.values = null;
    }
  }
}

function addCategorical(state: CategoricalState, column: ArrayLike<unknown>): void {
  for (let i = 0; i < column.length; i++) {
    const raw = column[i];
    const category = typeof raw === 'string' ? (raw === '' ? null : raw) : readCategory(raw);
    if (category === null) continue;
    state.present++;
    countCategory(state.counts, category);
  }
}
