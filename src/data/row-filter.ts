import { InvalidInputError } from '../shared/errors';
import type { ColumnDef } from './columns';

/** One `column=value` condition on accepted rows: the row's JSON value must equal `value`. */
export interface RowFilter {
  column: string;
  value: string | number | null;
}

/**
 * Reads `col=value` conditions (`keel data rows --where`) against a version's columns. The value
 * is read as the column stores it, so it compares as the row's JSON value: numbers as numbers
 * (`price=250000` matches 250000 and 250000.0), booleans as the 1 or 0 they are stored as (`true`/`false`,
 * `yes`/`no`, `y`/`n`, `1`/`0`, the words ingest accepts), dates and strings as text. `col=null` matches a null or absent value.
 */
const BOOLEAN_WORDS: Record<string, 1 | 0 | undefined> = { true: 1, yes: 1, y: 1, '1': 1, false: 0, no: 0, n: 0, '0': 0 };

export function parseRowFilters(columns: ColumnDef[], expressions: string[]): RowFilter[] {
  return expressions.map((expression) => {
    const equals = expression.indexOf('=');
    if (equals <= 0) throw new InvalidInputError(`--where ${JSON.stringify(expression)}: expected column=value`);
    const name = expression.slice(0, equals);
    const text = expression.slice(equals + 1);
    const column = columns.find((c) => c.name === name);
    if (!column) {
      throw new InvalidInputError(
        `--where ${JSON.stringify(expression)}: no column "${name}" (the columns: ${columns.map((c) => c.name).join(', ')})`,
      );
    }
    if (text === 'null') return { column: name, value: null };
    switch (column.type) {
      case 'number':
      case 'integer': {
        const value = Number(text);
        if (text.trim() === '' || !Number.isFinite(value)) {
          throw new InvalidInputError(
            `--where ${JSON.stringify(expression)}: column "${name}" holds numbers, and ${JSON.stringify(text)} is not one`,
          );
        }
        return { column: name, value };
      }
      case 'boolean': {
        const value = BOOLEAN_WORDS[text.toLowerCase()];
        if (value === undefined) {
          throw new InvalidInputError(
            `--where ${JSON.stringify(expression)}: column "${name}" holds booleans (true/false, yes/no, y/n or 1/0), not ${JSON.stringify(text)}`,
          );
        }
        return { column: name, value };
      }
      default:
        return { column: name, value: text };
    }
  });
}
