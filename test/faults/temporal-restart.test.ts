import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TrainModelResult } from '../../activities/train';
import { recordFault } from './support/figures';
import { type KeelProcess, ProcessSet } from './support/processes';
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
import { type RestartableTemporal, startRestartableTemporal } from './support/temporal';

/**
 * Long enough that training is still going well after the server comes back: the outage, the
 * restart and the old attempt learning it was given up take 10 s or more, and an attempt that
 * finishes first leaves the retry nothing to resume. About 15 s of training on an idle 2-core
 * machine (about 200 trees/s on 42 000 train rows: more rows rather than more trees, so the
 * checkpoints stay at most 8 MB).
 */
const LONG_GBDT = { ...GBDT, params: { ...GBDT.params, numTrees: 3000, maxLeaves: 31, learningRate: 0.02 }, checkpointEvery: 10 };
const ROWS = 60_000;
/** Longer than the trainer's heartbeat timeout (3 s), so the server gives the attempt up. */
const OUTAGE_MS = 5_000;

/**
 * The Temporal dev server SIGKILLed while a GBDT trains and restarted on the same state file and
 * port. The worker keeps training (and storing checkpoints in PostgreSQL) while the server is
 * away; the attempt that finishes resumed from a stored checkpoint at least as new as the one
 * recorded before the kill, and the final ONNX is byte-identical to an undisturbed run's.
 */
describe('the Temporal server killed mid-training', () => {
  const tag = Date.now().toString(36);
  const processes = new ProcessSet();
  let temporal: RestartableTemporal;
  let connection: Connection;
  let client: Client;
  let sql: postgres.Sql;
  let worker: KeelProcess;

  beforeAll(async () => {
    const dir = join(inject('faultsWorkDir'), `temporal-restart-${tag}`);
    await mkdir(dir, { recursive: true });
    temporal = await startRestartableTemporal(join(dir, 'temporal'));
    connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection });
    sql = postgres(inject('faultsDatabaseUrl'), { max: 2, onnotice: () => {} });
    worker = await processes.start('worker', {
      TEMPORAL_ADDRESS: temporal.address,
      DATABASE_URL: inject('faultsDatabaseUrl'),
      KEEL_DATA_DIR: join(dir, 'keel'),
    });
  });
  afterAll(async () => {
    await processes.stopAll();
    await connection?.close();
    await sql?.end();
    await temporal?.stop();
  });

  it('resumes GBDT training from its stored checkpoint and reproduces the undisturbed model', async () => {
    await recordFault(inject('faultsFiguresPath'), 'temporal kill: gbdt train', async (figures) => {
      const referenceModel = `tr-ref-${tag}`;
      const referenceStarted = Date.now();
      const reference = await registered(await startPipeline(client, referenceModel, await smallPipeline(referenceModel, LONG_GBDT, ROWS)));

      console.log(`temporal kill: the undisturbed run took ${((Date.now() - referenceStarted) / 1000).toFixed(1)} s`);
      const model = `tr-gbdt-${tag}`;
      const handle = await startPipeline(client, model, await smallPipeline(model, LONG_GBDT, ROWS));
      const checkpointAtKill = await waitFor(
        'a stored checkpoint early in training',
        async () => {
          const [row] = await sql`SELECT iteration FROM training_checkpoints WHERE training_run_id LIKE ${`train/${model}/%`}`;
          return row && row.iteration >= 10 && row.iteration < 300 ? (row.iteration as number) : undefined;
        },
        180_000,
        50,
      );
      await temporal.kill();
      await sleep(OUTAGE_MS);
      const [during] = await sql`SELECT iteration FROM training_checkpoints WHERE training_run_id LIKE ${`train/${model}/%`}`;
      await temporal.restart();
      expect(during?.iteration, 'training ended during the outage: nothing left to resume').toBeLessThan(LONG_GBDT.params.numTrees);

      // Every attempt the server hands out from now on reports in its heartbeats where it resumed.
      const resumedFrom = new Map<number, number | null>();
      const watching = (async () => {
        for (;;) {
          const { raw, status } = await handle.describe();
          for (const a of raw.pendingActivities ?? []) {
            const data = a.activityType?.name === 'trainModel' ? a.heartbeatDetails?.payloads?.[0]?.data : undefined;
            const details = data ? (JSON.parse(Buffer.from(data).toString()) as { iteration?: number; resumedFrom?: number }) : undefined;
            if (details?.iteration !== undefined) resumedFrom.set(a.attempt ?? 1, details.resumedFrom ?? null);
          }
          if (status.name !== 'RUNNING') return;
          await sleep(250);
        }
      })();
      // The worker outlives the outage (its polls fail, then reconnect); if it did not, say why.
      let finished = false;
      const workerDied = (async () => {
        while (!finished && !worker.exited()) await sleep(1_000);
        if (!finished) throw new Error(`the worker process ended during the Temporal outage:\n${worker.log().slice(-3000)}`);
      })();
      const result = await Promise.race([registered(handle), workerDied.then(() => registered(handle))]).finally(() => (finished = true));
      await watching;
      const trainAttempts = (await activityAttempts(handle)).get('trainModel')!;
      const trained = await activityResult<TrainModelResult>(handle, 'trainModel');
      figures.resumeAttempts = retriesOf(await activityAttempts(handle));
      console.log(
        `temporal kill: checkpoint ${checkpointAtKill} at the kill, ${during?.iteration ?? 'none'} after ${OUTAGE_MS} ms of outage; ` +
          `trainModel attempts ${trainAttempts.join(',')} (resumed from, by attempt: ${JSON.stringify([...resumedFrom])}); ` +
          `the completed one ${trained.resumedFromIteration === undefined ? 'found the run recorded or trained from the start' : `resumed from ${trained.resumedFromIteration}`}`,
      );
      // The server gave the first attempt up while it was away; no later attempt started over.
      expect(Math.max(...trainAttempts)).toBeGreaterThanOrEqual(2);
      for (const [attempt, from] of resumedFrom) {
        if (attempt >= 2) expect(from, `attempt ${attempt} started training over at iteration 1`).toBeGreaterThanOrEqual(checkpointAtKill);
      }
      if (trained.resumedFromIteration !== undefined) expect(trained.resumedFromIteration).toBeGreaterThanOrEqual(checkpointAtKill);
      // Some attempt after the outage trained, resuming (not only a zombie finishing alone).
      expect(
        [...resumedFrom.keys()].some((attempt) => attempt >= 2) || trained.resumedFromIteration !== undefined,
        'no retry resumed training',
      ).toBe(true);
      expect(result.artifactSha256).toBe(reference.artifactSha256);
      const left = await leftovers(sql, model);
      figures.rowsDuplicated =
        Math.max(0, left.modelVersions - 1) + Math.max(0, left.trainingRuns - 1) + Math.max(0, left.datasetVersions - 1);
      expect(left).toEqual(CLEAN);
    });
  });
});
