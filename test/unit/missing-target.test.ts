import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listQuarantinedRows, readDatasetRows } from '../../src/data/dataset-store';
import { ingestDataset } from '../../src/data/ingest';
import { datasetSpecSchema } from '../../src/shared/dataset-spec';
import { DataValidationError, InvalidInputError } from '../../src/shared/errors';
import { records, tempDatabase } from './data-helpers';

let db: Awaited<ReturnType<typeof tempDatabase>>;
beforeAll(async () => {
  db = await tempDatabase();
});
afterAll(() => db?.dispose());

const spec = (name: string) =>
  datasetSpecSchema.parse({
    name,
    columns: [
      { name: 'x', type: 'number', required: true },
      { name: 'delay', type: 'number' },
    ],
    sources: [{ format: 'jsonl', name: 'flights', path: 'test://injected' }],
  });

/** Records 1–6 (1-based): the 3rd has no delay, the 5th no x, the 6th a null delay. */
const list = [{ x: 1, delay: 5 }, { x: 2, delay: 7 }, { x: 3 }, { x: 4, delay: 1 }, { delay: 2 }, { x: 6, delay: null }];

describe('missing targets at ingest', () => {
  it('quarantines records without a target, with the reason, and keeps the rest in order', async () => {
    const version = await ingestDataset(db.database, spec('missing-quarantine'), {
      records: records(list),
      target: { column: 'delay', missing: 'quarantine' },
    });
    expect(version).toMatchObject({ rowCount: 3, quarantinedCount: 3 });
    expect((await readDatasetRows(db.database.db, version.datasetVersionId)).map((row) => row.x)).toEqual([1, 2, 4]);
    const quarantined = await listQuarantinedRows(db.database.db, version.datasetVersionId);
    expect(quarantined.map((q) => [q.recordNumber, q.reasons])).toEqual([
      [2, ['missing target "delay"']],
      [4, ['x: is required (got nothing)']],
      [5, ['missing target "delay"']],
    ]);
  });

  it('fails on the first record without a target, naming its 1-based source record', async () => {
    const failed = ingestDataset(db.database, spec('missing-fail'), {
      records: records(list),
      target: { column: 'delay', missing: 'fail' },
    });
    await expect(failed).rejects.toBeInstanceOf(DataValidationError);
    await expect(
      ingestDataset(db.database, spec('missing-fail'), { records: records(list), target: { column: 'delay', missing: 'fail' } }),
    ).rejects.toThrow('target "delay" is missing (null) in source record 3 of source "flights"');
  });

  it('refuses a target that is not a column of the dataset', async () => {
    const ingest = ingestDataset(db.database, spec('missing-unknown'), {
      records: records(list),
      target: { column: 'delayed', missing: 'quarantine' },
    });
    await expect(ingest).rejects.toThrow(
      new InvalidInputError('target "delayed" is not a column of dataset "missing-unknown" (columns: x, delay)'),
    );
  });
});
