import { categoricalReference, numericReference, type CategoricalReference, type NumericReference } from '../monitoring/psi';
import { DataValidationError } from '../shared/errors';
import type { DatasetRules } from '../shared/pipeline-input';
import type { ColumnDef, Row } from './dataset-store';

/**
 * StatisticsGen: per-column statistics of a dataset version. Stored with the version, the
 * profile is also the training reference that the monitor compares live inputs with (PSI), so
 * every number and string column carries a `reference` from src/monitoring/psi.
 *
 * `count` is the number of present values and `nulls` the number of missing ones (null or
 * undefined; a non-finite or non-number value in a number column; '' in a string column, as the
 * PSI functions read them): count + nulls = rows.
 * An empty dataset has no reference distributions (`reference: null`): there is nothing to
 * compare with, and the minRows rule rejects it anyway.
 */

export interface NumericColumnProfile {
  type: 'number';
  count: number;
  nulls: number;
  /** null when the column has no value. */
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Population standard deviation. */
  std: number | null;
  reference: NumericReference | null;
}

export interface StringColumnProfile {
  type: 'string';
  count: number;
  nulls: number;
  distinct: number;
  /** The most frequent values, most frequent first (ties by value). */
  top: { value: string; count: number }[];
  reference: CategoricalReference | null;
}

/** ISO timestamps: their range only (as a drift reference a timestamp is meaningless). */
export interface DatetimeColumnProfile {
  type: 'datetime';
  count: number;
  nulls: number;
  min: string | null;
  max: string | null;
}

export type ColumnProfile = NumericColumnProfile | StringColumnProfile | DatetimeColumnProfile;

/** Column name → its profile. */
export type DatasetProfile = Record<string, ColumnProfile>;

export const TOP_CATEGORIES = 10;

export function profileDataset(rows: readonly Row[], columns: readonly ColumnDef[]): DatasetProfile {
  const profile: DatasetProfile = {};
  for (const column of columns) {
    switch (column.type) {
      case 'number':
        profile[column.name] = profileNumbers(rows, column.name);
        break;
      case 'string':
        profile[column.name] = profileStrings(rows, column.name);
        break;
      case 'datetime':
        profile[column.name] = profileDatetimes(rows, column.name);
        break;
      default:
        throw new Error(`column ${JSON.stringify((column as ColumnDef).name)} has unknown type ${JSON.stringify((column as ColumnDef).type)}`);
    }
  }
  return profile;
}

function profileNumbers(rows: readonly Row[], name: string): NumericColumnProfile {
  const values: (number | null)[] = new Array(rows.length);
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  // Welford's online mean and variance: stable for large n.
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < rows.length; i++) {
    const value = rows[i]![name];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      values[i] = null;
      continue;
    }
    values[i] = value;
    count++;
    if (value < min) min = value;
    if (value > max) max = value;
    const delta = value - mean;
    mean += delta / count;
    m2 += delta * (value - mean);
  }
  return {
    type: 'number',
    count,
    nulls: rows.length - count,
    min: count ? min : null,
    max: count ? max : null,
    mean: count ? mean : null,
    std: count ? Math.sqrt(m2 / count) : null,
    reference: rows.length ? numericReference(values) : null,
  };
}

function profileStrings(rows: readonly Row[], name: string): StringColumnProfile {
  const values: (string | null)[] = new Array(rows.length);
  const counts = new Map<string, number>();
  let count = 0;
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i]![name];
    const value = raw === null || raw === undefined ? '' : typeof raw === 'string' ? raw : String(raw);
    if (value === '') {
      values[i] = null;
      continue;
    }
    values[i] = value;
    count++;
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  const top = [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, TOP_CATEGORIES)
    .map(([value, n]) => ({ value, count: n }));
  return {
    type: 'string',
    count,
    nulls: rows.length - count,
    distinct: counts.size,
    top,
    reference: rows.length ? categoricalReference(values) : null,
  };
}

function profileDatetimes(rows: readonly Row[], name: string): DatetimeColumnProfile {
  let count = 0;
  let min: string | null = null;
  let max: string | null = null;
  for (const row of rows) {
    const value = row[name];
    if (typeof value !== 'string' || value === '') continue;
    count++;
    // ISO timestamps of one format order as strings.
    if (min === null || value < min) min = value;
    if (max === null || value > max) max = value;
  }
  return { type: 'datetime', count, nulls: rows.length - count, min, max };
}

/**
 * ExampleValidator: dataset-level rules. Throws a DataValidationError naming the rule and the
 * observed value (non-retryable: the same data fails the same way).
 */
export function checkDatasetRules(version: { rowCount: number }, profile: DatasetProfile, rules: DatasetRules): void {
  if (version.rowCount < rules.minRows) {
    throw new DataValidationError(
      `rule minRows: ${version.rowCount} rows < ${rules.minRows} required`,
      'minRows',
      version.rowCount,
    );
  }
  const offending: Record<string, number> = {};
  for (const [name, column] of Object.entries(profile)) {
    const total = column.count + column.nulls;
    const fraction = total === 0 ? 0 : column.nulls / total;
    if (fraction > rules.maxNullFraction) offending[name] = fraction;
  }
  const names = Object.keys(offending);
  if (names.length > 0) {
    const details = names.map((name) => `${name} ${formatFraction(offending[name]!)} null`).join(', ');
    throw new DataValidationError(
      `rule maxNullFraction: ${details} > ${formatFraction(rules.maxNullFraction)} allowed`,
      'maxNullFraction',
      offending,
    );
  }
}

function formatFraction(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(4))}%`;
}
