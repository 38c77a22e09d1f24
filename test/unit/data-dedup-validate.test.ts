import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listQuarantinedRows, readDatasetRows } from '../../src/data/dataset-store';
import { dedupKeyFn, normaliseAddress } from '../../src/data/dedup';
import { ingestDataset } from '../../src/data/ingest';
import { validateDatasetVersion } from '../../src/data/validate';
import { datasetSpecSchema, type DatasetRules, type MappedDatasetSpec } from '../../src/shared/dataset-spec';
import { DataValidationError } from '../../src/shared/errors';
import { records, tempDatabase } from './data-helpers';

let db: Awaited<ReturnType<typeof tempDatabase>>;
beforeAll(async () => {
  db = await tempDatabase();
});
afterAll(() => db?.dispose());

const columns = [
  { name: 'address', type: 'string', required: true },
  { name: 'price', type: 'number', required: true },
  { name: 'listed', type: 'date' },
  { name: 'origin', type: 'string' },
] as const;

/** Two sources (`a` first) with injected records: each source's records come from a JSONL-like list. */
async function ingestTwo(
  name: string,
  dedup: MappedDatasetSpec['dedup'],
  a: Record<string, unknown>[],
  b: Record<string, unknown>[],
  priorities?: [number, number],
) {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join((await import('node:os')).tmpdir(), 'keel-dedup-'));
  const fa = join(dir, 'a.jsonl');
  const fb = join(dir, 'b.jsonl');
  writeFileSync(fa, a.map((r) => JSON.stringify(r)).join('\n'));
  writeFileSync(fb, b.map((r) => JSON.stringify(r)).join('\n'));
  const spec = datasetSpecSchema.parse({
    name,
    columns,
    sources: [
      { format: 'jsonl', name: 'a', path: fa, priority: priorities?.[0], mapping: { origin: { const: 'a' } } },
      { format: 'jsonl', name: 'b', path: fb, priority: priorities?.[1], mapping: { origin: { const: 'b' } } },
    ],
    dedup,
  });
  return ingestDataset(db.database, spec);
}

describe('deduplication', () => {
  it('normalises keys: case, punctuation, street words, zip+4', () => {
    expect(normaliseAddress('15 Star Thistle Street, Irvine, California 92604-1234')).toBe('15 star thistle st irvine ca 92604');
    expect(normaliseAddress('15  STAR THISTLE ST.,  irvine CA 92604')).toBe('15 star thistle st irvine ca 92604');
    const key = dedupKeyFn({ key: ['city', { column: 'zip', normalize: 'exact' }], keep: 'source-priority' });
    expect(key({ city: 'Irvine ', zip: '92604' })).toBe(key({ city: 'IRVINE', zip: '92604' }));
    expect(key({ city: 'Irvine', zip: null })).toBeNull();
  });

  const homeA = { address: '15 Star Thistle, Irvine', price: 100, listed: '2024-03-01' };
  const homeB = { address: '15 STAR THISTLE, IRVINE', price: 110, listed: '2024-03-05' };

  it('keeps the record of the best source priority, counts and records the duplicate', async () => {
    const result = await ingestTwo(
      'dedup-priority',
      { key: ['address'], keep: 'source-priority' },
      [homeA, { address: '1 Elm', price: 5 }],
      [homeB, { address: '2 Oak', price: 6 }],
    );
    expect(result).toMatchObject({ rowsRead: 4, rowCount: 3, duplicateCount: 1, quarantinedCount: 0 });
    expect(result.report.sources).toEqual([
      { name: 'a', scanned: 2, filtered: 0, read: 2, accepted: 2, quarantined: 0, duplicates: 0 },
      { name: 'b', scanned: 2, filtered: 0, read: 2, accepted: 1, quarantined: 0, duplicates: 1 },
    ]);
    expect(result.report.keys).toBe(3);
    const rows = await readDatasetRows(db.database.db, result.datasetVersionId);
    expect(rows.map((r) => [r.address, r.origin])).toEqual([
      ['15 Star Thistle, Irvine', 'a'],
      ['1 Elm', 'a'],
      ['2 Oak', 'b'],
    ]);
    const duplicates = await listQuarantinedRows(db.database.db, result.datasetVersionId, { kind: 'duplicate' });
    expect(duplicates).toHaveLength(1);
    expect(duplicates[0]).toMatchObject({ source: 'b', recordNumber: 0, kind: 'duplicate', raw: { ...homeB, origin: 'b' } });
  });

  it('explicit priorities override the order of the sources', async () => {
    const result = await ingestTwo('dedup-priority-explicit', { key: ['address'], keep: 'source-priority' }, [homeA], [homeB], [2, 1]);
    const rows = await readDatasetRows(db.database.db, result.datasetVersionId);
    // The winner keeps its own position (source b's record).
    expect(rows).toEqual([{ ...homeB, origin: 'b' }]);
  });

  it('keeps the most recent record, whatever the source', async () => {
    const older = { ...homeB, listed: '2024-01-01' };
    const result = await ingestTwo(
      'dedup-recent',
      { key: ['address'], keep: 'most-recent', recency: 'listed' },
      [homeA, { ...homeA, listed: null, price: 1 }],
      [older, homeB],
    );
    expect(result).toMatchObject({ rowCount: 1, duplicateCount: 3 });
    expect(await readDatasetRows(db.database.db, result.datasetVersionId)).toEqual([{ ...homeB, origin: 'b' }]);
  });

  it('quarantined records never take part in deduplication; accounting balances', async () => {
    const result = await ingestTwo('dedup-invalid', { key: ['address'], keep: 'source-priority' }, [{ ...homeA, price: 'n/a' }], [homeB]);
    expect(result).toMatchObject({ rowsRead: 2, rowCount: 1, quarantinedCount: 1, duplicateCount: 0 });
    expect(result.rowsRead).toBe(result.rowCount + result.quarantinedCount + result.duplicateCount);
  });
});

describe('dataset rules', () => {
  async function version(name: string, list: Record<string, unknown>[]) {
    const spec = datasetSpecSchema.parse({
      name,
      columns,
      sources: [{ format: 'jsonl', name: 's', path: 'injected', mapping: { origin: null } }],
    });
    return ingestDataset(db.database, spec, { records: records(list.map((r) => ({ listed: null, ...r }))) });
  }
  const rules = (extra: Partial<DatasetRules> = {}): DatasetRules => ({ minRows: 1, maxNullFraction: 1, ...extra });
  async function failure(id: string, r: DatasetRules): Promise<DataValidationError> {
    const error = await validateDatasetVersion(db.database.db, id, r).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataValidationError);
    return error as DataValidationError;
  }

  it('minRows and maxNullFraction (per column) name the rule and the observed value', async () => {
    const v = await version('rules-basic', [
      { address: 'a', price: 1, listed: null },
      { address: 'b', price: 2, listed: null },
      { address: 'c', price: 3, listed: '2024-01-01' },
    ]);
    expect(await failure(v.datasetVersionId, rules({ minRows: 10 }))).toMatchObject({
      rule: 'minRows',
      observed: 3,
      message: 'rule minRows: 3 rows < 10 required',
    });
    const nulls = await failure(v.datasetVersionId, rules({ maxNullFraction: 0.5 }));
    expect(nulls).toMatchObject({ rule: 'maxNullFraction', observed: { listed: 2 / 3, origin: 1 } });
    expect(nulls.message).toBe('rule maxNullFraction: listed 66.67% null, origin 100% null > 50% allowed');
    await expect(
      validateDatasetVersion(db.database.db, v.datasetVersionId, rules({ maxNullFraction: 0.7, maxNullFractionByColumn: { origin: 1 } })),
    ).resolves.toBeTruthy();
  });

  it('unique names the columns, the repeated values and how often', async () => {
    const v = await version('rules-unique', [
      { address: 'a', price: 1 },
      { address: 'b', price: 2 },
      { address: 'a', price: 3 },
      { address: 'a', price: 3 },
      { address: 'b', price: 5 },
      { address: 'c', price: 6 },
    ]);
    const error = await failure(v.datasetVersionId, rules({ unique: ['address'] }));
    expect(error.rule).toBe('unique');
    expect(error.message).toBe('rule unique(address): 2 values occur more than once, in 5 rows (e.g. "a" ×3, "b" ×2)');
    await expect(validateDatasetVersion(db.database.db, v.datasetVersionId, rules({ unique: [['address', 'price']] }))).rejects.toThrow(
      'rule unique(address, price): 1 value occur more than once, in 2 rows (e.g. ["a",3] ×2)',
    );
    await expect(validateDatasetVersion(db.database.db, v.datasetVersionId, rules({ unique: ['price'] }))).rejects.toThrow(
      /rule unique\(price\): 1 value/,
    );
    await expect(validateDatasetVersion(db.database.db, v.datasetVersionId, rules({ unique: ['nope'] }))).rejects.toThrow(
      /rule unique names column "nope"/,
    );
  });

  it('maxChange compares with the previous version of the same name', async () => {
    const first = await version(
      'rules-change',
      Array.from({ length: 100 }, (_, i) => ({ address: `a${i}`, price: 100 + (i % 10) })),
    );
    await expect(
      validateDatasetVersion(db.database.db, first.datasetVersionId, rules({ maxChange: { rowCount: 0.1 } })),
    ).resolves.toBeTruthy();
    const second = await version(
      'rules-change',
      Array.from({ length: 40 }, (_, i) => ({ address: `b${i}`, price: 200 + (i % 10), listed: i % 2 ? '2024-01-01' : null })),
    );
    const rows = await failure(second.datasetVersionId, rules({ maxChange: { rowCount: 0.5 } }));
    expect(rows).toMatchObject({ rule: 'maxChange.rowCount', observed: { rows: 40, previousRows: 100, change: 0.6 } });
    expect(rows.message).toContain(`vs 100 in the previous version ${first.datasetVersionId} (60% change > 50% allowed)`);
    const mean = await failure(second.datasetVersionId, rules({ maxChange: { meanShift: 3 } }));
    expect(mean.rule).toBe('maxChange.meanShift');
    expect(mean.message).toMatch(/^rule maxChange\.meanShift: price mean 104\.5 → 204\.5 \(34\.82 std\)/);
    const nulls = await failure(second.datasetVersionId, rules({ maxChange: { nullFraction: 0.2 } }));
    expect(nulls.message).toMatch(/^rule maxChange\.nullFraction: listed 100% → 50% null/);
  });
});
