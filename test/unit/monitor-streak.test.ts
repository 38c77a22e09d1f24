import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftStreak } from '../../src/monitoring/report-store';
import { openDatabase, type Database } from '../../src/db/database';
import { driftReports } from '../../src/db/schema';
import type { Finding } from '../../src/shared/monitoring';

let dir: string;
let database: Database;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-streak-'));
  database = await openDatabase({ dataDir: dir });
});
afterAll(async () => {
  await database?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Stores a report of `model` v`version` for the month `month` (2001-MM), as computeMonitorReport would. */
async function report(model: string, version: number, month: number, status: string, findings: Finding[], actions: object = {}) {
  const mm = String(month).padStart(2, '0');
  const next = String(month + 1).padStart(2, '0');
  await database.db.insert(driftReports).values({
    runKey: `monitor/${model}/${++n}`,
    modelName: model,
    version,
    referenceDatasetVersionId: 'd',
    windowStart: new Date(`2031-${mm}-01T00:00:00Z`),
    windowEnd: new Date(`2031-${mm}-01T01:00:00Z`),
    rowCount: 1000,
    status,
    features: {},
    findings,
    dataPeriod: { from: `2001-${mm}-01`, to: `2001-${next}-01` },
    actions,
  });
}

const on: Finding[] = ['data_drift', 'prediction_drift', 'concept_drift', 'label_drift'];
const upTo = (month: number) => new Date(`2031-${String(month).padStart(2, '0')}-01T01:00:00Z`);

describe('sustained drift', () => {
  it('counts consecutive drifted reports of the version, newest first, with the union of their periods', async () => {
    const model = 'streak-a';
    await report(model, 1, 1, 'drift', ['label_drift']);
    await report(model, 1, 2, 'ok', ['feature_drift']);
    await report(model, 1, 3, 'drift', ['label_drift']);
    await report(model, 1, 4, 'insufficient_data', []);
    await report(model, 1, 5, 'drift', ['data_drift', 'label_drift']);
    await report(model, 2, 6, 'drift', ['label_drift']);
    // May: March and May count, April (not enough data) is skipped, February (feature drift only) ends the run.
    expect(await driftStreak(database.db, { model, version: 1, upTo: upTo(5), on, limit: 2 })).toEqual({
      consecutive: 2,
      period: { from: '2001-03-01', to: '2001-06-01' },
    });
    // Another version's reports do not count; a report after the one asked about is not seen.
    expect(await driftStreak(database.db, { model, version: 2, upTo: upTo(6), on, limit: 2 })).toEqual({
      consecutive: 1,
      period: { from: '2001-06-01', to: '2001-07-01' },
    });
    expect(await driftStreak(database.db, { model, version: 1, upTo: upTo(3), on, limit: 2 })).toEqual({
      consecutive: 1,
      period: { from: '2001-03-01', to: '2001-04-01' },
    });
    // Only the configured findings count: feature drift does when asked to.
    expect((await driftStreak(database.db, { model, version: 1, upTo: upTo(5), on: [...on, 'feature_drift'], limit: 5 })).consecutive).toBe(
      4,
    );
    expect((await driftStreak(database.db, { model, version: 1, upTo: upTo(5), on: ['data_drift'], limit: 5 })).consecutive).toBe(1);
  });

  it('starts again after a retraining', async () => {
    const model = 'streak-b';
    await report(model, 1, 1, 'drift', ['label_drift']);
    await report(model, 1, 2, 'drift', ['label_drift'], {
      retrain: { workflowId: 'train/streak-b/drift-2', started: true, consecutive: 2, period: null },
    });
    await report(model, 1, 3, 'drift', ['label_drift']);
    expect(await driftStreak(database.db, { model, version: 1, upTo: upTo(3), on, limit: 2 })).toEqual({
      consecutive: 1,
      period: { from: '2001-03-01', to: '2001-04-01' },
    });
    // A retraining that could not be started does not reset the run.
    await report(model, 1, 4, 'drift', ['label_drift'], {
      retrain: { workflowId: 'x', started: false, consecutive: 2, period: null, error: 'boom' },
    });
    await report(model, 1, 5, 'drift', ['label_drift']);
    expect((await driftStreak(database.db, { model, version: 1, upTo: upTo(5), on, limit: 2 })).consecutive).toBe(3);
  });
});
