import type { FeatureSpec } from './feature-spec';
import { readCategory, readNumber, type Row } from './row';

/**
 * Rows turned into one typed column per feature. Fitting and encoding work on this form; it is
 * also how training data crosses into a worker thread: typed-array buffers move without a copy,
 * and each distinct category string is sent once instead of once per row.
 */
export type FeatureColumn = NumericColumn | CategoricalColumn;

export interface NumericColumn {
  name: string;
  kind: 'numeric';
  /** NaN marks a missing value (see readNumber). */
  values: Float64Array;
}

export interface CategoricalColumn {
  name: string;
  kind: 'categorical';
  /** The distinct categories, in order of first appearance. */
  dictionary: string[];
  /** Index into `dictionary` per row; -1 marks a missing value (see readCategory). */
  codes: Int32Array;
}

export function toFeatureColumns(rows: readonly Row[], specs: readonly FeatureSpec[]): FeatureColumn[] {
  return specs.map((spec) =>
    spec.kind === 'numeric' ? toNumericColumn(rows, spec.name) : toCategoricalColumn(rows, spec.name),
  );
}

/** The buffers to list in postMessage's transfer list; the columns are unusable afterwards. */
export function columnBuffers(columns: readonly FeatureColumn[]): ArrayBuffer[] {
  return columns.map((column) => (column.kind === 'numeric' ? column.values.buffer : column.codes.buffer) as ArrayBuffer);
}

function toNumericColumn(rows: readonly Row[], name: string): NumericColumn {
  const values = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) values[i] = readNumber(rows[i][name]);
  return { name, kind: 'numeric', values };
}

function toCategoricalColumn(rows: readonly Row[], name: string): CategoricalColumn {
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
  return { name, kind: 'categorical', dictionary: [...codeOf.keys()], codes };
}
