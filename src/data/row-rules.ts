import { z } from 'zod';
import type { ColumnSpec } from '../shared/dataset-spec';
import type { Row } from './columns';

/**
 * Row rules: the canonical columns' config (type, required, min/max/gt/lt, enum, pattern) becomes
 * one zod object schema, which decides and words every failure. Every failing column is reported,
 * not only the first, each as "must be ..." (the caller adds the column and the source value).
 *
 * Speed: most rows pass, so each row first goes through plain predicates compiled from the same
 * config (no allocation); only a row they do not accept is parsed by zod, whose verdict stands.
 * The predicates only ever accept what the schema accepts (test/unit/data-rules.test.ts checks them
 * against each other), so a row they wave through is one zod would have passed.
 */
export interface RowRules {
  schema: z.ZodType;
  /** The failures of a row, or undefined when it passes. */
  check(row: Row): { column: string; message: string }[] | undefined;
}

export function compileRowRules(columns: readonly ColumnSpec[]): RowRules {
  const shape: Record<string, z.ZodType> = {};
  for (const column of columns) shape[column.name] = columnSchema(column);
  const schema = z.object(shape);
  const names = columns.map((c) => c.name);
  const accepts = columns.map(fastPredicate);
  return {
    schema,
    check(row) {
      let fine = true;
      for (let i = 0; i < names.length && fine; i++) fine = accepts[i](row[names[i]]);
      if (fine) return undefined;
      const result = schema.safeParse(row);
      if (result.success) return undefined;
      return result.error.issues.map((issue) => ({ column: String(issue.path[0] ?? '(row)'), message: issue.message }));
    },
  };
}

function typeError(expected: string) {
  return (issue: { input?: unknown }) => (issue.input === null || issue.input === undefined ? 'is required' : `must be ${expected}`);
}

export function columnSchema(column: ColumnSpec): z.ZodType {
  let schema: z.ZodType;
  switch (column.type) {
    case 'number':
    case 'integer': {
      let n = z.number({ error: typeError('a number') });
      if (column.min !== undefined) n = n.gte(column.min, { error: `must be >= ${column.min}` });
      if (column.max !== undefined) n = n.lte(column.max, { error: `must be <= ${column.max}` });
      if (column.gt !== undefined) n = n.gt(column.gt, { error: `must be > ${column.gt}` });
      if (column.lt !== undefined) n = n.lt(column.lt, { error: `must be < ${column.lt}` });
      // Last: zod's int check aborts the checks after it, and every reason should be reported.
      if (column.type === 'integer') n = n.int({ error: 'must be an integer' });
      schema = n;
      break;
    }
    case 'string': {
      let s = z.string({ error: typeError('text') });
      if (column.pattern !== undefined) {
        s = s.regex(new RegExp(column.pattern), { error: `must be ${column.patternDescription ?? `like /${column.pattern}/`}` });
      }
      if (column.enum !== undefined) {
        const allowed = new Set(column.enum);
        schema = s.refine((value) => allowed.has(value), { error: `must be one of ${column.enum.join(', ')}` });
      } else {
        schema = s;
      }
      break;
    }
    case 'boolean':
      schema = z.union([z.literal(0), z.literal(1)], { error: typeError('a boolean (1 or 0)') });
      break;
    case 'date':
      schema = z.string({ error: typeError('a date') });
      break;
    case 'datetime':
      schema = z.string({ error: typeError('a datetime') });
      break;
  }
  return column.required ? schema : schema.nullable();
}

/** A predicate that accepts only values the column's schema accepts (see columnSchema). */
export function fastPredicate(column: ColumnSpec): (value: unknown) => boolean {
  const { min, max, gt, lt } = column;
  const required = column.required === true;
  const allowed = column.enum ? new Set(column.enum) : undefined;
  const pattern = column.pattern !== undefined ? new RegExp(column.pattern) : undefined;
  const integer = column.type === 'integer';
  switch (column.type) {
    case 'number':
    case 'integer':
      return (value) => {
        if (value === null) return !required;
        if (typeof value !== 'number' || !Number.isFinite(value)) return false;
        if (min !== undefined && !(value >= min)) return false;
        if (max !== undefined && !(value <= max)) return false;
        if (gt !== undefined && !(value > gt)) return false;
        if (lt !== undefined && !(value < lt)) return false;
        return !integer || Number.isSafeInteger(value);
      };
    case 'string':
      return (value) => {
        if (value === null) return !required;
        if (typeof value !== 'string') return false;
        if (pattern && !pattern.test(value)) return false;
        return !allowed || allowed.has(value);
      };
    case 'boolean':
      return (value) => (value === null ? !required : value === 0 || value === 1);
    case 'date':
    case 'datetime':
      return (value) => (value === null ? !required : typeof value === 'string');
  }
}
