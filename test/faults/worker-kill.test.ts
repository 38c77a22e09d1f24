import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
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
  inStage,
  leftovers,
  LINEAR,
  registered,
  retriesOf,
  smallPipeline,
  startPipeline,
  waitFor,
} from './support/pipeline';
import { type RestartableTemporal, startRestartableTemporal } from './support/temporal';

/**
 * A worker process SIGKILLed while `trainingPipeline` is in a given stage; a new worker process
 * takes over. Each time the run completes with exactly one dataset version, one training run and
 * one model version, no checkpoint or half-written dataset rows left, and ONNX bytes equal to an
 * undisturbed run's on the same input.
 */
describe('a worker killed mid-pipeline', () => {
  const tag = Date.now().toString(36);
  const processes = new ProcessSet();
  let temporal: RestartableTemporal;
  let connection: Connection;
  let client: Client;
  let sql: postgres.Sql;
  let worker: KeelProcess;
  let env: Record<string, string>;
  const reference = new Map<string, string>();

  beforeAll(async () => {
    const dir = join(inject('faultsWorkDir'), `worker-kill-${tag}`);
    await mkdir(dir, { recursive: true });
    temporal = await startRestartableTemporal(join(dir, 'temporal'));
    env = { TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: inject('faultsDatabaseUrl'), KEEL_DATA_DIR: join(dir, 'keel') };
    connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection });
    sql = postgres(inject('faultsDatabaseUrl'), { max: 2, onnotice: () => {} });
    worker = await processes.start('worker', env);
    // Undisturbed runs: the bytes every interrupted run must reproduce.
    for (const [name, trainer] of [
      ['gbdt', GBDT],
      ['linear', LINEAR],
    ] as const) {
      const model = `wk-ref-${name}-${tag}`;
      const result = await registered(await startPipeline(client, model, await smallPipeline(model, trainer)));
      expect(await leftovers(sql, model)).toEqual(CLEAN);
      reference.set(name, result.artifactSha256);
    }
  });
  afterAll(async () => {
    await processes.stopAll();
    await connection?.close();
    await sql?.end();
    await temporal?.stop();
  });

  /** Starts a run, kills the worker once `ready` says so, starts a new worker, checks what survived. */
  async function killDuring(
    fault: string,
    trainer: typeof GBDT | typeof LINEAR,
    ready: (model: string) => Promise<boolean>,
    killedActivity: string,
  ) {
    await recordFault(inject('faultsFiguresPath'), fault, async (figures) => {
      const model = `wk-${fault.replace(/\W+/g, '-')}-${tag}`;
      const handle = await startPipeline(client, model, await smallPipeline(model, trainer));
      await waitFor(`${fault}: the moment to kill`, async () => ((await ready(model)) ? true : undefined), 180_000, 50);
      await worker.kill();
      worker = await processes.start('worker', env);

      const result = await registered(handle);
      const attempts = await activityAttempts(handle);
      figures.resumeAttempts = retriesOf(attempts);
      expect(Math.max(...attempts.get(killedActivity)!), `${killedActivity} was not retried: the kill missed it`).toBeGreaterThanOrEqual(2);
      const left = await leftovers(sql, model);
      figures.rowsDuplicated =
        Math.max(0, left.datasetVersions - 1) + Math.max(0, left.modelVersions - 1) + Math.max(0, left.trainingRuns - 1);
      expect(left).toEqual(CLEAN);
      expect(result.artifactSha256).toBe(reference.get(trainer === GBDT ? 'gbdt' : 'linear'));
      return;
    });
  }

  it('survives a kill while the dataset is being ingested (a version half made)', async () => {
    // Killed once the ingest has registered its version and is scanning the source: 4,000 rows
    // reach the database in one COPY at the very end, a window too short to aim a kill at, while
    // the scan of the 3 M-row file takes seconds. The retry must clear the half-made version.
    await killDuring(
      'worker kill: ingest',
      GBDT,
      async (model) => {
        const [row] = await sql`SELECT count(*)::int AS n FROM dataset_ingests WHERE name = ${`${model}-data`} AND status = 'running'`;
        return row.n > 0;
      },
      'ingestDataset',
    );
  });

  it('survives a kill while a GBDT trains, resuming from its stored checkpoint', async () => {
    let checkpoint = 0;
    await killDuring(
      'worker kill: gbdt train',
      GBDT,
      async (model) => {
        const [row] = await sql`SELECT iteration FROM training_checkpoints WHERE training_run_id LIKE ${`train/${model}/%`}`;
        checkpoint = row?.iteration ?? 0;
        return checkpoint > 0 && checkpoint < GBDT.params.numTrees / 2;
      },
      'trainModel',
    );
    const trained = await activityResult<TrainModelResult>(
      client.workflow.getHandle(`train/wk-worker-kill-gbdt-train-${tag}`),
      'trainModel',
    );
    expect(trained.resumedFromIteration, 'the retry started over instead of resuming').toBeGreaterThanOrEqual(checkpoint);
  });

  it('survives a kill while a linear model trains', async () => {
    await killDuring(
      'worker kill: linear train',
      LINEAR,
      async (model) => inStage(client.workflow.getHandle(`train/${model}`), 'train', 'trainModel'),
      'trainModel',
    );
  });
});
