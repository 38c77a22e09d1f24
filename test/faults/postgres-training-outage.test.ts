import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TrainModelResult } from '../../activities/train';
import { openDatabase } from '../../src/db/database';
import { recordFault } from './support/figures';
import { ProcessSet } from './support/processes';
import {
  activityAttempts,
  activityResult,
  CLEAN,
  GBDT,
  leftovers,
  registered,
  retriesOf,
  smallPipeline,
  startPipeline,
  waitFor,
} from './support/pipeline';
import { createScratchCluster, type ScratchCluster } from './support/scratch-cluster';
import { type RestartableTemporal, startRestartableTemporal } from './support/temporal';

/**
 * Long enough (several seconds here) that the database can be taken away in the middle. A
 * heartbeat timeout of 10 s rather than 3: the attempt must end because the database is away, not
 * because a busy machine delayed its heartbeats.
 */
const OUTAGE_GBDT = { ...GBDT, params: { ...GBDT.params, numTrees: 400 }, heartbeatTimeoutSeconds: 10 };

/**
 * PostgreSQL crashes (`pg_ctl stop -m immediate`, the test's own cluster) while a GBDT trains, and
 * stays down until the training attempt has failed for it: the checkpoints of the outage cannot be
 * stored (the trainer goes on without them) and neither can the trained model's record, so the
 * attempt fails. Then the database comes back; the retry resumes from the newest checkpoint stored
 * before the crash, never from iteration 1, and the run completes with the ONNX bytes of an
 * undisturbed run, one of each row and no leftovers.
 */
describe('PostgreSQL down while a model trains', () => {
  const tag = Date.now().toString(36);
  const processes = new ProcessSet();
  let cluster: ScratchCluster;
  let temporal: RestartableTemporal;
  let connection: Connection;
  let client: Client;
  let sql: postgres.Sql;

  beforeAll(async () => {
    const dir = join(inject('faultsWorkDir'), `pg-training-${tag}`);
    await mkdir(dir, { recursive: true });
    cluster = await createScratchCluster();
    // Migrated once here, before the worker opens it.
    await (await openDatabase({ url: cluster.url, dataDir: dir })).close();
    temporal = await startRestartableTemporal(join(dir, 'temporal'));
    connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection });
    sql = postgres(cluster.url, { max: 1, onnotice: () => {} });
    await processes.start('worker', { TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: cluster.url, KEEL_DATA_DIR: join(dir, 'keel') });
  });
  afterAll(async () => {
    await processes.stopAll();
    await connection?.close();
    await sql?.end().catch(() => {});
    await temporal?.stop();
    await cluster?.remove();
  });

  it('retries the training once the database is back, resuming from a checkpoint stored before the crash', async () => {
    await recordFault(inject('faultsFiguresPath'), 'postgres outage: gbdt train', async (figures) => {
      const reference = await registered(await startPipeline(client, `pgt-ref-${tag}`, await smallPipeline(`pgt-ref-${tag}`, OUTAGE_GBDT)));
      const model = `pgt-${tag}`;
      const handle = await startPipeline(client, model, await smallPipeline(model, OUTAGE_GBDT));
      const checkpointAtCrash = await waitFor(
        'a stored checkpoint early in training',
        async () => {
          const [row] = await sql`SELECT iteration FROM training_checkpoints WHERE training_run_id LIKE ${`train/${model}/%`}`;
          return row && row.iteration >= 10 && row.iteration < OUTAGE_GBDT.params.numTrees / 2 ? (row.iteration as number) : undefined;
        },
        180_000,
        50,
      );
      const trainingAttempt = async () => {
        const { raw } = await handle.describe();
        return (raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'trainModel')?.attempt ?? undefined;
      };
      const attemptAtCrash = (await trainingAttempt()) ?? 1;
      await cluster.crash();
      const crashedAt = Date.now();
      // Down until the attempt that was training has failed (it could not record the trained model).
      await waitFor(
        'the training attempt to fail',
        async () => ((await trainingAttempt()) ?? 0) > attemptAtCrash || undefined,
        120_000,
        100,
      );
      await cluster.start();
      const downMs = Date.now() - crashedAt;

      const result = await registered(handle);
      const attempts = await activityAttempts(handle);
      const trained = await activityResult<TrainModelResult>(handle, 'trainModel');
      figures.resumeAttempts = retriesOf(attempts);
      console.log(
        `postgres down during training: checkpoint ${checkpointAtCrash} at the crash, in attempt ${attemptAtCrash}, down ${(downMs / 1000).toFixed(1)} s; ` +
          `trainModel attempts ${attempts.get('trainModel')!.join(',')}; the completed one resumed from ${trained.resumedFromIteration ?? 'nothing'}`,
      );
      expect(Math.max(...attempts.get('trainModel')!)).toBeGreaterThanOrEqual(2);
      // The attempt that recorded the run resumed from a checkpoint stored before the crash; unless
      // an attempt the server had already given up (a heartbeat late on a busy machine) finished
      // first, from where it began: the completed one then finds the run recorded.
      if (trained.resumedFromIteration !== undefined || attemptAtCrash === 1) {
        expect(trained.resumedFromIteration, 'the retry started training over').toBeGreaterThanOrEqual(checkpointAtCrash);
      }
      expect(result.artifactSha256).toBe(reference.artifactSha256);
      const left = await leftovers(sql, model);
      figures.rowsDuplicated =
        Math.max(0, left.datasetVersions - 1) + Math.max(0, left.modelVersions - 1) + Math.max(0, left.trainingRuns - 1);
      expect(left).toEqual(CLEAN);
    });
  });
});
