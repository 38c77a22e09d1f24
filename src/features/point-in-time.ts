import type { Aggregation } from '../shared/feature-store';

/**
 * The point-in-time rule, on columns. An event at time e is known from e + lag. A value asked
 * for at time t is computed as of a = t − lag from the events with e ≤ a (a tie at the boundary
 * is known: Feast's `event_timestamp <= entity_timestamp`); a windowed aggregate over w takes
 * the events with a − w < e ≤ a. Nothing later than a is ever read, so a training row never
 * sees its own future. A plain column is the latest event with e ≤ a (and e > a − ttl, with a
 * TTL).
 *
 * Events and queries are sorted once by (entity, time), then each entity is swept with one
 * pointer pair per feature: O((events + queries) · log) time, memory O(rows) in typed arrays.
 * Pure: it runs inside a worker thread (./point-in-time-worker.ts) and in the example/bench.
 */

export interface PitFeature {
  name: string;
  /** Undefined: the column's latest value. */
  aggregation?: Aggregation;
  /** Index into `EventColumns.values`; -1 for `count`. */
  valueIndex: number;
  /** Window length in ms (aggregations). */
  windowMs?: number;
  /** `rate`: events with value > threshold count (default: value ≠ 0). */
  threshold?: number;
  /** Plain columns: a value older than this is missing. */
  ttlMs?: number;
}

export interface EventColumns {
  /** Entity code per event (see `encodeKeys`). */
  keys: Int32Array;
  /** Event time, ms since 1970. */
  times: Float64Array;
  /** One array per source column the features read; NaN = missing (strings as codes). */
  values: Float64Array[];
}

export interface QueryColumns {
  keys: Int32Array;
  times: Float64Array;
}

/** Sort order of (key, time) pairs, stable (ties keep input order). */
function sortByKeyTime(keys: Int32Array, times: Float64Array): Uint32Array {
  const order = new Uint32Array(keys.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => keys[a] - keys[b] || times[a] - times[b] || a - b);
  return order;
}

/** Feature values for every query row, one Float64Array per feature (NaN: no value). */
export function pointInTime(events: EventColumns, queries: QueryColumns, features: readonly PitFeature[], lagMs: number): Float64Array[] {
  const eventOrder = sortByKeyTime(events.keys, events.times);
  const queryOrder = sortByKeyTime(queries.keys, queries.times);
  const out = features.map(() => new Float64Array(queries.keys.length).fill(Number.NaN));
  const sweeps = features.map((feature) => new Sweep(feature, events));

  let e = 0;
  let q = 0;
  while (q < queryOrder.length) {
    const key = queries.keys[queryOrder[q]];
    while (e < eventOrder.length && events.keys[eventOrder[e]] < key) e++;
    let end = e;
    while (end < eventOrder.length && events.keys[eventOrder[end]] === key) end++;
    for (const sweep of sweeps) sweep.reset(e);
    for (; q < queryOrder.length && queries.keys[queryOrder[q]] === key; q++) {
      const row = queryOrder[q];
      const asOf = queries.times[row] - lagMs;
      for (let f = 0; f < sweeps.length; f++) out[f][row] = sweeps[f].valueAt(asOf, eventOrder, end);
    }
    e = end;
  }
  return out;
}

/** One feature's sliding window over one entity's events, in time order. */
class Sweep {
  private head = 0;
  private tail = 0;
  private count = 0;
  private sum = 0;
  private hits = 0;
  /** min/max: a monotonic deque of event positions. */
  private deque: number[] = [];
  private distinct = new Map<number, number>();

  constructor(
    private readonly feature: PitFeature,
    private readonly events: EventColumns,
  ) {}

  reset(start: number): void {
    this.head = this.tail = start;
    this.count = this.sum = this.hits = 0;
    this.deque = [];
    this.distinct.clear();
  }

  private value(position: number, order: Uint32Array): number {
    const column = this.events.values[this.feature.valueIndex];
    return column ? column[order[position]] : 1;
  }

  valueAt(asOf: number, order: Uint32Array, end: number): number {
    const { feature } = this;
    const times = this.events.times;
    while (this.head < end && times[order[this.head]] <= asOf) this.add(this.head++, order);
    if (feature.aggregation === undefined) {
      const last = this.head - 1;
      if (last < this.tail) return Number.NaN;
      if (feature.ttlMs !== undefined && times[order[last]] <= asOf - feature.ttlMs) return Number.NaN;
      return this.value(last, order);
    }
    const from = asOf - feature.windowMs!;
    while (this.tail < this.head && times[order[this.tail]] <= from) this.remove(this.tail++, order);
    switch (feature.aggregation) {
      case 'count':
        return this.count;
      case 'sum':
        return this.sum;
      case 'mean':
        return this.count === 0 ? Number.NaN : this.sum / this.count;
      case 'rate':
        return this.count === 0 ? Number.NaN : this.hits / this.count;
      case 'min':
      case 'max':
        return this.deque.length === 0 ? Number.NaN : this.value(this.deque[0], order);
      case 'last':
        return this.head > this.tail ? this.lastPresent(order) : Number.NaN;
      case 'distinct_count':
        return this.distinct.size;
    }
  }

  private lastPresent(order: Uint32Array): number {
    for (let i = this.head - 1; i >= this.tail; i--) {
      const v = this.value(i, order);
      if (!Number.isNaN(v)) return v;
    }
    return Number.NaN;
  }

  private add(position: number, order: Uint32Array): void {
    const { aggregation } = this.feature;
    if (aggregation === undefined || aggregation === 'last') return;
    const v = this.value(position, order);
    if (Number.isNaN(v)) return;
    this.count++;
    if (aggregation === 'sum' || aggregation === 'mean') this.sum += v;
    else if (aggregation === 'rate') this.hits += (this.feature.threshold === undefined ? v !== 0 : v > this.feature.threshold) ? 1 : 0;
    else if (aggregation === 'min' || aggregation === 'max') {
      const worse = aggregation === 'min' ? (x: number) => x >= v : (x: number) => x <= v;
      while (this.deque.length > 0 && worse(this.value(this.deque[this.deque.length - 1], order))) this.deque.pop();
      this.deque.push(position);
    } else if (aggregation === 'distinct_count') this.distinct.set(v, (this.distinct.get(v) ?? 0) + 1);
  }

  private remove(position: number, order: Uint32Array): void {
    const { aggregation } = this.feature;
    if (aggregation === undefined || aggregation === 'last') return;
    const v = this.value(position, order);
    if (Number.isNaN(v)) return;
    this.count--;
    if (aggregation === 'sum' || aggregation === 'mean') this.sum -= v;
    else if (aggregation === 'rate') this.hits -= (this.feature.threshold === undefined ? v !== 0 : v > this.feature.threshold) ? 1 : 0;
    else if (aggregation === 'min' || aggregation === 'max') {
      if (this.deque[0] === position) this.deque.shift();
    } else if (aggregation === 'distinct_count') {
      const left = this.distinct.get(v)! - 1;
      if (left === 0) this.distinct.delete(v);
      else this.distinct.set(v, left);
    }
  }
}

/** Codes for entity keys (the join key values joined by U+0001), shared by events and queries. */
export class KeyCodes {
  private readonly codes = new Map<string, number>();
  code(key: string): number {
    let code = this.codes.get(key);
    if (code === undefined) {
      code = this.codes.size;
      this.codes.set(key, code);
    }
    return code;
  }
  get size(): number {
    return this.codes.size;
  }
  keys(): string[] {
    return [...this.codes.keys()];
  }
}

const KEY_SEPARATOR = '\u0001';
export function entityKey(values: readonly unknown[]): string {
  return values.map((v) => (v === null || v === undefined ? '' : String(v))).join(KEY_SEPARATOR);
}
