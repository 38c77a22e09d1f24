import { describe, expect, it } from 'vitest';
import { columnSchema, compileRowRules, fastPredicate } from '../../src/data/row-rules';
import type { ColumnSpec } from '../../src/shared/dataset-spec';

const columns: ColumnSpec[] = [
  { name: 'n', type: 'number' },
  { name: 'r', type: 'number', required: true, min: -10, max: 10 },
  { name: 'x', type: 'number', gt: 0, lt: 1 },
  { name: 'i', type: 'integer', required: true, min: 0 },
  { name: 's', type: 'string' },
  { name: 'code', type: 'string', required: true, pattern: '^[A-Z]{3}$', patternDescription: 'a 3-letter code' },
  { name: 'e', type: 'string', enum: ['a', 'b'] },
  { name: 'b', type: 'boolean', required: true },
  { name: 'd', type: 'date' },
  { name: 't', type: 'datetime', required: true },
];

const values: unknown[] = [
  null,
  undefined,
  0,
  -0,
  1,
  -1,
  0.5,
  10,
  10.5,
  -10,
  -11,
  1e300,
  Number.NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  2 ** 53 + 2,
  3,
  '',
  'a',
  'b',
  'c',
  'ABC',
  'AB',
  'abc',
  'ABCD',
  '1',
  '2024-01-01',
  '2024-01-01T00:00:00',
  true,
  false,
  {},
  [],
  5n,
];

describe('row rules', () => {
  it('the fast predicates accept only what the zod schema accepts', () => {
    for (const column of columns) {
      const schema = columnSchema(column);
      const accepts = fastPredicate(column);
      for (const value of values) {
        if (accepts(value)) expect(schema.safeParse(value).success, `${column.name} accepted ${String(value)}`).toBe(true);
      }
    }
  });

  it('the fast predicates accept the ordinary valid values (so zod is the exception)', () => {
    const ok = { n: 1.5, r: 3, x: 0.5, i: 7, s: 'hello', code: 'SFO', e: 'a', b: 1, d: '2024-01-01', t: '2024-01-01T00:00:00' };
    columns.forEach((column) => expect(fastPredicate(column)(ok[column.name as keyof typeof ok]), column.name).toBe(true));
  });

  it('reports every failing column with zod messages', () => {
    const rules = compileRowRules(columns);
    expect(
      rules.check({ n: null, r: 3, x: 0.5, i: 7, s: null, code: 'SFO', e: null, b: 0, d: null, t: '2024-01-01T00:00:00' }),
    ).toBeUndefined();
    expect(rules.check({ n: null, r: 30, x: 1, i: -1.5, s: null, code: 'sfo', e: 'z', b: null, d: null, t: null })).toEqual([
      { column: 'r', message: 'must be <= 10' },
      { column: 'x', message: 'must be < 1' },
      { column: 'i', message: 'must be >= 0' },
      { column: 'i', message: 'must be an integer' },
      { column: 'code', message: 'must be a 3-letter code' },
      { column: 'e', message: 'must be one of a, b' },
      { column: 'b', message: 'is required' },
      { column: 't', message: 'is required' },
    ]);
  });
});
