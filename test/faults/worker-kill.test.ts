import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TrainModelResult } from '../../activities/train';
import { faultPauseMarker } from '../../src/runtime/fault-pause-setting';
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
 * The short stages, held by the worker (KEEL_FAULT_PAUSES, src/runtime/fault-pauses.ts) once
 * their work is done, on their first attempt, until the kill. Three linear runs, killed twice:
 * the worker runs two heavy activities at a time (validate, export and evaluate are heavy), and
 * the held light ones (split, register) are retried only after their 1 min start-to-close
 * timeout, so the first kill takes those while the second takes the other heavy two.
 */
const STAGE_KILLS = [
  { run: 'a', round: 1, activity: 'validateDataset', fault: 'worker kill: validate' },
  { run: 'b', round: 1, activity: 'splitDataset', fault: 'worker kill: split' },
  { run: 'c', round: 1, activity: 'registerModel', fault: 'worker kill: register' },
  { run: 'a', round: 2, activity: 'evaluateModel', fault: 'worker kill: evaluate' },
  { run: 'b', round: 2, activity: 'exportModel', fault: 'worker kill: export' },
] as const;

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
  const stageModel = (run: string) => `wk-stages-${run}-${tag}`;
  let pauseDir: string;

  beforeAll(async () => {
    const dir = join(inject('faultsWorkDir'), `worker-kill-${tag}`);
    await mkdir(dir, { recursive: true });
    temporal = await startRestartableTemporal(join(dir, 'temporal'));
    pauseDir = join(dir, 'held');
    env = {
      TEMPORAL_ADDRESS: temporal.address,
      DATABASE_URL: inject('faultsDatabaseUrl'),
      KEEL_DATA_DIR: join(dir, 'keel'),
      KEEL_FAULT_PAUSES: STAGE_KILLS.map((k) => `${k.activity}@train/${stageModel(k.run)}`).join(','),
      KEEL_FAULT_PAUSE_DIR: pauseDir,
    };
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

  it('survives a kill in each short stage (validate, split, export, evaluate, register), each held done but unreported', async () => {
    const killRound = async (round: number) => {
      const held = STAGE_KILLS.filter((k) => k.round === round);
      const markers = held.map((k) => faultPauseMarker(pauseDir, { activityType: k.activity, workflowId: `train/${stageModel(k.run)}` }));
      const exists = (path: string) =>
        access(path).then(
          () => true,
          () => false,
        );
      await waitFor(
        `round ${round}: ${held.map((k) => k.activity).join(', ')} held`,
        async () => ((await Promise.all(markers.map(exists))).every(Boolean) ? true : undefined),
        180_000,
        100,
      );
      // Still the first attempts, alive: the kill, not a timeout, is what ends them.
      for (const k of held) {
        const { raw } = await client.workflow.getHandle(`train/${stageModel(k.run)}`).describe();
        const pending = (raw.pendingActivities ?? []).find((a) => a.activityType?.name === k.activity);
        expect(pending?.attempt, `${k.activity} is not pending in its first attempt: it timed out before the kill`).toBe(1);
      }
      await worker.kill();
      worker = await processes.start('worker', env);
    };
    const scenario = (async () => {
      const runs = ['a', 'b', 'c'];
      const handles = await Promise.all(
        runs.map(async (run) => startPipeline(client, stageModel(run), await smallPipeline(stageModel(run), LINEAR))),
      );
      await killRound(1);
      await killRound(2);
      const results = await Promise.all(handles.map((handle) => registered(handle)));
      return new Map(
        await Promise.all(
          runs.map(
            async (run, i) =>
              [
                run,
                { result: results[i], attempts: await activityAttempts(handles[i]), left: await leftovers(sql, stageModel(run)) },
              ] as const,
          ),
        ),
      );
    })();
    const outcomes = await Promise.allSettled(
      STAGE_KILLS.map((k) =>
        recordFault(inject('faultsFiguresPath'), k.fault, async (figures) => {
          const { result, attempts, left } = (await scenario).get(k.run)!;
          figures.resumeAttempts = Math.max(...attempts.get(k.activity)!) - 1;
          // A run killed twice counts its leftovers once, with its first-round fault.
          if (k.round === 1)
            figures.rowsDuplicated =
              Math.max(0, left.datasetVersions - 1) + Math.max(0, left.modelVersions - 1) + Math.max(0, left.trainingRuns - 1);
          expect(figures.resumeAttempts, `${k.activity} was not retried: the kill missed it`).toBeGreaterThanOrEqual(1);
          expect(left).toEqual(CLEAN);
          expect(result.artifactSha256).toBe(reference.get('linear'));
        }),
      ),
    );
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  });
});
