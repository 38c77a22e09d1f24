import type { FeatureSpec } from '../shared/feature-spec';
import { forEachBlockInTurns, ROWS_PER_TURN } from './in-turns';
import { readBoolean, readCategory, readNumber, readTimestamp, type Row } from './row';

/**
 * Rows turned into one typed column per feature. Fitting and encoding work on this form; it is
 * also how training data crosses into a worker thread: typed-array buffers move without a copy,
 * and each distinct category string is sent once instead of once per row. Each column carries
 * its feature's spec, so the options (imputation, encoding, date parts…) travel with the data.
 */
export type FeatureColumn = NumericColumn | CategoricalColumn | BooleanColumn | DatetimeColumn;

interface ColumnBase {
  name: string;
  /** The configured feature; absent: `{name, kind}` with every option at its default. */
  spec?: FeatureSpec;
}

export interface NumericColumn extends ColumnBase {
  kind: 'numeric';
  /** NaN marks a missing value (see readNumber). */
  values: Float64Array;
}

export interface CategoricalColumn extends ColumnBase {
  kind: 'categorical';
  /** The distinct categories, in order of first appearance. */
  dictionary: string[];
  /** Index into `dictionary` per row; -1 marks a missing value (see readCategory). */
  codes: Int32Array;
}

export interface BooleanColumn extends ColumnBase {
  kind: 'boolean';
  /** 1, 0, or NaN for a missing value (see readBoolean). */
  values: Float64Array;
}

export interface DatetimeColumn extends ColumnBase {
  kind: 'datetime';
  /** Milliseconds since 1970-01-01T00:00:00Z; NaN marks a missing value (see readTimestamp). */
  values: Float64Array;
}

/**
 * Reads each feature of `specs` from the rows. A full spec is kept on its column (what fitting
 * reads); for encoding with a fitted pipeline only `name` and `kind` matter.
 */
export function toFeatureColumns(
  rows: readonly Row[],
  specs: readonly (FeatureSpec | { name: string; kind: FeatureSpec['kind'] })[],
): FeatureColumn[] {
  const builders = specs.map((spec) => columnBuilder(rows, spec));
  for (const builder of builders) builder.fill(0, rows.length);
  return builders.map((builder) => builder.done());
}

/**
 * toFeatureColumns a block of rows per event-loop turn, for the activities' main thread (in the
 * all-in-one process it also answers predictions). The same columns.
 */
export async function toFeatureColumnsInTurns(
  rows: readonly Row[],
  specs: readonly (FeatureSpec | { name: string; kind: FeatureSpec['kind'] })[],
): Promise<FeatureColumn[]> {
  const builders = specs.map((spec) => columnBuilder(rows, spec));
  await forEachBlockInTurns(rows.length, Math.max(1, Math.floor(ROWS_PER_TURN / Math.max(1, specs.length))), (start, end) => {
    for (const builder of builders) builder.fill(start, end);
  });
  return builders.map((builder) => builder.done());
}

/** The feature columns of a training request's train and (if given) validation rows, in turns. */
export async function trainingColumnsInTurns(request: {
  features: readonly FeatureSpec[];
  train: readonly Row[];
  validation?: readonly Row[];
}): Promise<{ train: FeatureColumn[]; validation?: FeatureColumn[] }> {
  return {
    train: await toFeatureColumnsInTurns(request.train, request.features),
    ...(request.validation && { validation: await toFeatureColumnsInTurns(request.validation, request.features) }),
  };
}

/** One column read from the rows block by block (`fill` in order), then `done`. */
interface ColumnBuilder {
  fill(start: number, end: number): void;
  done(): FeatureColumn;
}

function columnBuilder(rows: readonly Row[], spec: FeatureSpec | { name: string; kind: FeatureSpec['kind'] }): ColumnBuilder {
  switch (spec.kind) {
    case 'numeric':
      return valueColumnBuilder(rows, spec, readNumber, (values) => ({ name: spec.name, kind: 'numeric', spec, values }));
    case 'boolean':
      return valueColumnBuilder(rows, spec, readBoolean, (values) => ({ name: spec.name, kind: 'boolean', spec, values }));
    case 'datetime':
      return valueColumnBuilder(rows, spec, readTimestamp, (values) => ({ name: spec.name, kind: 'datetime', spec, values }));
    case 'categorical':
      return categoricalColumnBuilder(rows, spec);
  }
}

/** The spec a column was read with, options included. */
export function specOf(column: FeatureColumn): FeatureSpec {
  return column.spec ?? { name: column.name, kind: column.kind };
}

export function columnLength(column: FeatureColumn): number {
  return column.kind === 'categorical' ? column.codes.length : column.values.length;
}

/** The buffers to list in postMessage's transfer list; the columns are unusable afterwards. */
export function columnBuffers(columns: readonly FeatureColumn[]): ArrayBuffer[] {
  return columns.map((column) => (column.kind === 'categorical' ? column.codes.buffer : column.values.buffer) as ArrayBuffer);
}

function valueColumnBuilder(
  rows: readonly Row[],
  { name }: { name: string },
  read: (value: unknown) => number,
  column: (values: Float64Array) => FeatureColumn,
): ColumnBuilder {
  const values = new Float64Array(rows.length);
  return {
    fill(start, end) {
      for (let i = start; i < end; i++) values[i] = read(rows[i][name]);
    },
    done: () => column(values),
  };
}

function categoricalColumnBuilder(rows: readonly Row[], spec: FeatureSpec | { name: string; kind: FeatureSpec['kind'] }): ColumnBuilder {
  const { name } = spec;
  const codeOf = new Map<string, number>();
  const codes = new Int32Array(rows.length);
  return {
    fill(start, end) {
      for (let i = start; i < end; i++) {
        const category = readCategory(rows[i][name]);
        if (category === null) {
          codes[i] = -1;
          continue;
        }
        let code = codeOf.get(category);
        if (code === undefined) {
          code = codeOf.size;
          codeOf.set(category, code);
        }
        codes[i] = code;
      }
    },
    done: () => ({ name, kind: 'categorical', spec, dictionary: [...codeOf.keys()], codes }),
  };
}
