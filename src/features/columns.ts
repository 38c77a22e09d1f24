import { readTimestamp } from '../ml/row';
import { entityKey, KeyCodes, type EventColumns, type QueryColumns } from './point-in-time';

/**
 * Turns row chunks into the typed columns the point-in-time engine reads, one chunk at a time:
 * rows are never held as objects, only their key codes, times and values (8 bytes each).
 */
class GrowableFloat64 {
  private data = new Float64Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }
  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

class GrowableInt32 {
  private data = new Int32Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/** A value as a number: numbers and booleans as they are, text through a per-column code table. */
class ValueReader {
  private readonly codes = new Map<string, number>();
  read(value: unknown): number {
    if (value === null || value === undefined || value === '') return Number.NaN;
    if (typeof value === 'number') return Number.isFinite(value) ? value : Number.NaN;
    if (typeof value === 'boolean') return value ? 1 : 0;
    const text = String(value);
    const number = Number(text);
    if (text.trim() !== '' && Number.isFinite(number)) return number;
    let code = this.codes.get(text);
    if (code === undefined) this.codes.set(text, (code = this.codes.size));
    return code;
  }
}

export class EventColumnsBuilder {
  private readonly keys = new GrowableInt32();
  private readonly times = new GrowableFloat64();
  private readonly values: GrowableFloat64[];
  private readonly readers: ValueReader[];
  /** The newest event time per key code, among events at or before `latestUntil`. */
  readonly latest: number[] = [];
  latestUntil = Number.POSITIVE_INFINITY;

  constructor(
    private readonly codes: KeyCodes,
    private readonly joinKeys: readonly string[],
    private readonly timestamp: string | undefined,
    private readonly valueColumns: readonly string[],
  ) {
    this.values = valueColumns.map(() => new GrowableFloat64());
    this.readers = valueColumns.map(() => new ValueReader());
  }

  add(rows: readonly Record<string, unknown>[]): void {
    for (const row of rows) {
      const time = this.timestamp === undefined ? 0 : readTimestamp(row[this.timestamp]);
      if (Number.isNaN(time)) continue;
      const code = this.codes.code(entityKey(this.joinKeys.map((k) => row[k])));
      this.keys.push(code);
      this.times.push(time);
      if (time <= this.latestUntil && !(this.latest[code] >= time)) this.latest[code] = time;
      this.valueColumns.forEach((column, i) => this.values[i].push(this.readers[i].read(row[column])));
    }
  }

  get length(): number {
    return this.keys.length;
  }

  build(): EventColumns {
    return { keys: this.keys.toArray(), times: this.times.toArray(), values: this.values.map((v) => v.toArray()) };
  }
}

/** Query rows: (entity, time) per training row, in row order; a row without a time asks at NaN (no value). */
export class QueryColumnsBuilder {
  private readonly keys = new GrowableInt32();
  private readonly times = new GrowableFloat64();

  constructor(
    private readonly codes: KeyCodes,
    private readonly joinKeys: readonly string[],
    private readonly timestamp: string,
  ) {}

  add(rows: readonly Record<string, unknown>[]): void {
    for (const row of rows) {
      this.keys.push(this.codes.code(entityKey(this.joinKeys.map((k) => row[k]))));
      this.times.push(readTimestamp(row[this.timestamp]));
    }
  }

  build(): QueryColumns {
    return { keys: this.keys.toArray(), times: this.times.toArray() };
  }
}
