import { DataValidationError, InvalidInputError } from '../shared/errors';
import type { Row } from './columns';

/**
 * What ingest does with a record whose target is missing (null, '' or a non-finite number): a
 * model can learn nothing from it. `quarantine` sets it aside with the reason
 * `missing target "<column>"`; `fail` stops the ingest at the first one.
 */
export interface TargetRule {
  column: string;
  missing: 'quarantine' | 'fail';
}

/** The target must be one of the dataset's canonical columns. */
export function checkTargetColumn(rule: TargetRule, columns: readonly { name: string }[], dataset: string): void {
  if (columns.some((column) => column.name === rule.column)) return;
  throw new InvalidInputError(
    `target "${rule.column}" is not a column of dataset "${dataset}" (columns: ${columns.map((c) => c.name).join(', ')})`,
  );
}

/**
 * The quarantine reason of a row with a missing target, or undefined when it has one. With
 * `fail`, a DataValidationError naming the source record (1-based) instead.
 */
export function missingTargetReason(rule: TargetRule, row: Row, source: string, recordNumber: number): string | undefined {
  const value = row[rule.column];
  const missing = value === null || value === undefined || value === '' || (typeof value === 'number' && !Number.isFinite(value));
  if (!missing) return undefined;
  if (rule.missing === 'quarantine') return `missing target "${rule.column}"`;
  throw new DataValidationError(
    `target "${rule.column}" is missing (${value === '' ? '""' : String(value)}) in source record ${recordNumber + 1} of source "${source}"; ` +
      'missingTarget "fail" stops at the first such record ("quarantine" sets them aside)',
    'missingTarget',
    { source, record: recordNumber + 1 },
  );
}
