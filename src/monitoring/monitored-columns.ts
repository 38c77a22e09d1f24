import { datePart } from '../ml/date-parts';
import { readBoolean, readCategory, readNumber, readTimestamp } from '../ml/row';
import { defaultDateParts, featureSpecSchema, type DatePartName, type FeatureSpec } from '../shared/feature-spec';
import type { ColumnSpec } from './drift';
import { ReferenceSchemaError, type ColumnKind } from './reference';

/**
 * The columns the drift check compares for a model's features, and how a raw value (a dataset
 * row's, or a logged request input) becomes each column's value. The reference and the window go
 * through the same plan, so both read values as the model does (src/ml/row.ts):
 *
 * - numeric, categorical: one column under the feature's name; numeric when the training data's
 *   column holds numbers (an hour encoded as categories is still compared as a number), else
 *   categorical;
 * - boolean: one categorical column with the categories "true" and "false" (readBoolean: true, 1,
 *   "yes", "TRUE"… are true); anything unreadable is missing, as the model imputes it;
 * - datetime: one column per date part the model uses, `<feature>.<part>` (readTimestamp, then
 *   the UTC part): hour, weekday, month and dayOfMonth as categories; year as a number (years
 *   are unbounded: a year the model never saw is drift by distance, not a new category).
 *
 * The plan is stored with the reference (JSON), so a report reads its window exactly as the
 * reference was read.
 */
export interface MonitoredColumn {
  /** Key in the references and the report: the feature's name, or `<feature>.<part>`. */
  name: string;
  /** The raw input (request field / dataset column) it is read from. */
  feature: string;
  kind: ColumnKind;
  read: 'number' | 'category' | 'boolean' | 'datePart';
  part?: DatePartName;
}

/**
 * The length of one cycle of a date part: the window's timestamps must span at least this much
 * for the part's distribution to be comparable with the training data's (a window of three days
 * holds three weekdays — "drift" against seven — whatever the traffic).
 */
const DAY_MS = 86_400_000;
const datePartCycleMs: Record<DatePartName, number | null> = {
  hour: DAY_MS,
  weekday: 7 * DAY_MS,
  dayOfMonth: 31 * DAY_MS,
  month: 365 * DAY_MS,
  year: null,
};

/**
 * The model's feature specs: `params.features` of a version trained by keel; for a version without
 * them (imported, or older), derived from its contract — float64 inputs are datetimes (default
 * parts), the others numeric or categorical by the training data's column type.
 */
export function featureSpecsOf(params: unknown, contractInputs: readonly { name: string; type: string }[]): FeatureSpec[] {
  const listed = (params as { features?: unknown } | null)?.features;
  if (Array.isArray(listed)) {
    const parsed = featureSpecSchema.array().safeParse(listed);
    if (parsed.success) return parsed.data;
  }
  return contractInputs.map((input): FeatureSpec =>
    input.type === 'float64'
      ? { name: input.name, kind: 'datetime' }
      : { name: input.name, kind: input.type === 'float32' ? 'numeric' : 'categorical' },
  );
}

/**
 * The columns for `specs`, given the training data's column types (name → keel column type).
 * Throws a ReferenceSchemaError naming every feature the data lacks or cannot serve.
 */
export function monitoredColumns(specs: readonly FeatureSpec[], columnTypes: ReadonlyMap<string, string>): MonitoredColumn[] {
  const missing: string[] = [];
  const incompatible: Record<string, string> = {};
  const columns: MonitoredColumn[] = [];
  for (const spec of specs) {
    const type = columnTypes.get(spec.name);
    if (type === undefined) {
      missing.push(spec.name);
      continue;
    }
    const isDate = type === 'date' || type === 'datetime';
    switch (spec.kind) {
      case 'boolean':
        columns.push({ name: spec.name, feature: spec.name, kind: 'categorical', read: 'boolean' });
        break;
      case 'datetime':
        for (const part of spec.parts ?? defaultDateParts) {
          columns.push({
            name: `${spec.name}.${part}`,
            feature: spec.name,
            kind: part === 'year' ? 'numeric' : 'categorical',
            read: 'datePart',
            part,
          });
        }
        break;
      default:
        if (isDate) {
          incompatible[spec.name] =
            `is a ${type} column in the reference but a ${spec.kind} feature of the model (declare it "kind": "datetime")`;
          break;
        }
        columns.push(
          type === 'number' || type === 'integer'
            ? { name: spec.name, feature: spec.name, kind: 'numeric', read: 'number' }
            : { name: spec.name, feature: spec.name, kind: 'categorical', read: 'category' },
        );
    }
  }
  if (missing.length || Object.keys(incompatible).length) throw new ReferenceSchemaError(missing, incompatible);
  return columns;
}

/** A reference stored before plans existed: every contract input is one column, read raw. */
export function legacyColumns(references: Readonly<Record<string, { kind: ColumnKind }>>, inputs: readonly string[]): MonitoredColumn[] {
  return inputs.map((name) => {
    const kind = references[name]?.kind ?? 'numeric';
    return { name, feature: name, kind, read: kind === 'numeric' ? 'number' : 'category' };
  });
}

/** The value of `column` for a raw input value; null or NaN when missing. */
export function readColumn(column: MonitoredColumn, raw: unknown): number | string | null {
  switch (column.read) {
    case 'number':
      return readNumber(raw);
    case 'category':
      return readCategory(raw);
    case 'boolean': {
      const bit = readBoolean(raw);
      return bit === 1 ? 'true' : bit === 0 ? 'false' : null;
    }
    case 'datePart': {
      const value = datePart(readTimestamp(raw), column.part!);
      if (Number.isNaN(value)) return column.kind === 'numeric' ? Number.NaN : null;
      return column.kind === 'numeric' ? value : String(value);
    }
  }
}

/**
 * Rows of the monitored columns. A column whose feature is not a key of a raw row is left out of
 * that row, so a feature absent from every logged input is reported `absent`, as before.
 */
export function monitoredRows(
  columns: readonly MonitoredColumn[],
  rows: readonly Readonly<Record<string, unknown>>[],
): Record<string, unknown>[] {
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const column of columns) {
      if (row !== null && typeof row === 'object' && Object.hasOwn(row, column.feature))
        out[column.name] = readColumn(column, row[column.feature]);
    }
    return out;
  });
}

/**
 * The columns to hand to evaluateDrift for a window of raw rows: each date part whose cycle the
 * window's timestamps of its feature do not span is skipped, with the reason.
 */
export function columnSpecsForWindow(
  columns: readonly MonitoredColumn[],
  rows: readonly Readonly<Record<string, unknown>>[],
): ColumnSpec[] {
  const spans = new Map<string, number>();
  for (const feature of new Set(columns.filter((c) => c.read === 'datePart').map((c) => c.feature))) {
    let min = Infinity;
    let max = -Infinity;
    for (const row of rows) {
      const ms = row !== null && typeof row === 'object' ? readTimestamp(row[feature]) : Number.NaN;
      if (Number.isNaN(ms)) continue;
      if (ms < min) min = ms;
      if (ms > max) max = ms;
    }
    // No timestamp at all: leave the parts to evaluateDrift, which reports them absent or empty.
    if (max >= min) spans.set(feature, max - min);
  }
  return columns.map((column) => {
    const cycle = column.part ? datePartCycleMs[column.part] : null;
    const span = spans.get(column.feature);
    if (cycle === null || span === undefined || span >= cycle) return { name: column.name, kind: column.kind };
    return {
      name: column.name,
      kind: column.kind,
      skip: `the window's ${column.feature} values span ${duration(span)}, less than one cycle of ${column.part} (${duration(cycle)})`,
    };
  });
}

function duration(ms: number): string {
  if (ms >= DAY_MS) return `${Number((ms / DAY_MS).toPrecision(3))} days`;
  return `${Number((ms / 3_600_000).toPrecision(3))} hours`;
}
