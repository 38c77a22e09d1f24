import type { FeatureSpec } from '../shared/feature-spec';
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
  return specs.map((given) => {
    const spec = given;
    switch (spec.kind) {
      case 'numeric':
        return { name: spec.name, kind: 'numeric', spec, values: readColumn(rows, spec.name, readNumber) };
      case 'boolean':
        return { name: spec.name, kind: 'boolean', spec, values: readColumn(rows, spec.name, readBoolean) };
      case 'datetime':
        return { name: spec.name, kind: 'datetime', spec, values: readColumn(rows, spec.name, readTimestamp) };
      case 'categorical':
        return toCategoricalColumn(rows, spec);
    }
  });
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

function readColumn(rows: readonly Row[], name: string, read: (value: unknown) => number): Float64Array {
  const values = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) values[i] = read(rows[i][name]);
  return values;
}

function toCategoricalColumn(rows: readonly Row[], spec: FeatureSpec): CategoricalColumn {
  const { name } = spec;
  const codeOf = new Map<string, number>();
  const codes = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
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
  return { name, kind: 'categorical', spec, dictionary: [...codeOf.keys()], codes };
}
