import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { openArtifactStore } from '../../src/registry/artifact-config';
import { type CanaryRolloutResult, type CanaryStatus, canaryStatusQuery } from '../../src/shared/canary';
import { taskQueues, workflowIds } from '../../src/shared/task-queues';
import { registerOnnxVersion, registerTinyProduction, TINY_SPEC } from '../fixtures/register-onnx';
import { buildTinyLogisticOnnx } from '../fixtures/tiny-logistic-onnx';
import { recordFault } from './support/figures';
import { type KeelProcess, ProcessSet } from './support/processes';
import { waitFor } from './support/pipeline';
import { type RestartableTemporal, startRestartableTemporal } from './support/temporal';

/** Long enough that the new worker (bundling takes seconds on a busy machine), or the restarted server, is up before the bake ends. */
const BAKE_SECONDS = 40;
const CHECK_EVERY_SECONDS = 3;

/** The Temporal server is away this long (plus its restart, a few seconds) in the second step. */
const TEMPORAL_OUTAGE_MS = 5_000;

/**
 * One rollout of two steps, each step with a fault while it bakes: in the first the worker is
 * SIGKILLed, in the second the Temporal dev server (restarted on the same state file and port).
 * The rollout's state is the workflow's: each time it goes on at the same step with the same bake
 * clock (the step ends about `bakeSeconds` after it began, not a bake after the restart), each
 * step's route and events are recorded once, and the rollout promotes. No traffic: too little
 * data counts as passed (`insufficientData: proceed`), so the test needs no model server.
 */
describe('a canary rollout whose worker, then Temporal server, is killed mid-step', () => {
  const model = `canary-kill-${Date.now().toString(36)}`;
  const processes = new ProcessSet();
  let temporal: RestartableTemporal;
  let connection: Connection;
  let client: Client;
  let database: Database;
  let env: Record<string, string>;
  let handle: WorkflowHandle;
  let worker: KeelProcess;

  beforeAll(async () => {
    const dir = join(inject('faultsWorkDir'), model);
    await mkdir(dir, { recursive: true });
    temporal = await startRestartableTemporal(join(dir, 'temporal'));
    connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection });
    env = { TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: inject('faultsDatabaseUrl'), KEEL_DATA_DIR: join(dir, 'keel') };
    database = await openDatabase({ url: inject('faultsDatabaseUrl'), dataDir: dir });
    const artifacts = openArtifactStore({ kind: 'local', dir: join(dir, 'keel', 'artifacts') });
    await registerTinyProduction({ database, artifacts }, model, { key: `${model}/1` });
    await registerOnnxVersion({ database, artifacts }, model, buildTinyLogisticOnnx({ ...TINY_SPEC, bias: -1.1 }), { key: `${model}/2` });
  });
  afterAll(async () => {
    await processes.stopAll();
    await connection?.close();
    await database?.close();
    await temporal?.stop();
  });

  const status = () => handle.query<CanaryStatus>(canaryStatusQuery);
  /** A few seconds into step `step`'s bake. */
  const baking = (step: number) =>
    waitFor(`step ${step} baking`, async () => {
      const s = await status();
      return s.step === step &&
        s.state === 'canary' &&
        s.history.length === step + 1 &&
        Date.now() - Date.parse(s.history[step].startedAt) > 5_000
        ? s
        : undefined;
    });
  /** How long a finished step baked: about one bake, not one bake plus the fault. */
  const expectOneBake = (s: CanaryStatus, step: number) => {
    const bakedMs = Date.parse(s.history[step].endedAt!) - Date.parse(s.history[step].startedAt);
    expect(bakedMs).toBeGreaterThanOrEqual(BAKE_SECONDS * 1000);
    expect(bakedMs).toBeLessThan((BAKE_SECONDS + 2 * CHECK_EVERY_SECONDS + 5) * 1000);
    return bakedMs;
  };
  const eventCounts = async () => {
    const sql = postgres(inject('faultsDatabaseUrl'), { max: 1, onnotice: () => {} });
    const events = await sql<{ kind: string; n: number }[]>`
      SELECT kind, count(*)::int AS n FROM rollout_events WHERE rollout_id IN (SELECT id FROM rollouts WHERE model_name = ${model}) GROUP BY kind`;
    await sql.end();
    return Object.fromEntries(events.map((e) => [e.kind, e.n])) as Record<string, number | undefined>;
  };

  it('resumes at the same step with the same bake clock after the worker is killed', async () => {
    await recordFault(inject('faultsFiguresPath'), 'worker kill: canary mid-step', async (figures) => {
      worker = await processes.start('worker', env);
      handle = await client.workflow.start('canaryRollout', {
        taskQueue: taskQueues.control,
        workflowId: workflowIds.canary(model),
        args: [
          {
            model,
            candidate: 2,
            steps: [50, 100],
            bakeSeconds: BAKE_SECONDS,
            checkEverySeconds: CHECK_EVERY_SECONDS,
            insufficientData: { extendSeconds: 0, action: 'proceed' },
          },
        ],
      });
      const before = await baking(0);
      await worker.kill();
      const killedAt = Date.now();
      worker = await processes.start('worker', env);
      const downMs = Date.now() - killedAt;

      const after = await status();
      expect(after.step, 'the rollout moved to another step while no worker ran').toBe(0);
      expect(after.history[0].startedAt, 'the step started over').toBe(before.history[0].startedAt);
      expect(downMs, 'the new worker came back after the bake was over: the clock is not tested').toBeLessThan(BAKE_SECONDS * 1000 - 5_000);
      const next = await waitFor('the second step', async () => {
        const s = await status();
        return s.history.length === 2 ? s : undefined;
      });
      const bakedMs = expectOneBake(next, 0);
      console.log(
        `canary: worker down ${(downMs / 1000).toFixed(1)} s; the interrupted step baked ${(bakedMs / 1000).toFixed(1)} s of ${BAKE_SECONDS} s`,
      );
      // The first step's decisions, each recorded once (the second step's route may be recorded by now).
      const byKind = await eventCounts();
      figures.rowsDuplicated = Math.max(0, (byKind.step ?? 0) - 2) + Math.max(0, (byKind.step_passed ?? 0) - 1);
      expect(byKind.step_passed).toBe(1);
      expect(byKind.step ?? 0).toBeLessThanOrEqual(2);
    });
  });

  it('resumes at the same step with the same bake clock after the Temporal server is killed and restarted', async () => {
    await recordFault(inject('faultsFiguresPath'), 'temporal kill: canary mid-step', async (figures) => {
      const before = await baking(1);
      await temporal.kill();
      const killedAt = Date.now();
      await sleep(TEMPORAL_OUTAGE_MS);
      await temporal.restart();
      const downMs = Date.now() - killedAt;

      const after = await waitFor('the restarted server answering the status query', () => status().catch(() => undefined), 60_000, 500);
      expect(after.step, 'the rollout moved to another step while the server was away').toBe(1);
      expect(after.history[1].startedAt, 'the step started over').toBe(before.history[1].startedAt);
      expect(downMs, 'the server came back after the bake was over: the clock is not tested').toBeLessThan(BAKE_SECONDS * 1000 - 5_000);
      const result = (await handle.result()) as CanaryRolloutResult;
      const final = await status();
      expect(final.state).toBe('promoted');
      expect(final.history.map((h) => h.step)).toEqual([0, 1]);
      expect(worker.exited(), 'the worker ended during the Temporal outage').toBe(false);
      const bakedMs = expectOneBake(final, 1);
      console.log(
        `canary: Temporal down ${(downMs / 1000).toFixed(1)} s; the interrupted step baked ${(bakedMs / 1000).toFixed(1)} s of ${BAKE_SECONDS} s; result ${JSON.stringify(result).slice(0, 200)}`,
      );
      // Each decision recorded once: one route per step, one step_passed per step, one promotion.
      const byKind = await eventCounts();
      console.log(`canary: events ${JSON.stringify(byKind)}`);
      figures.rowsDuplicated =
        Math.max(0, (byKind.step ?? 0) - 2) + Math.max(0, (byKind.step_passed ?? 0) - 2) + Math.max(0, (byKind.promoted ?? 0) - 1);
      expect(byKind).toMatchObject({ step: 2, step_passed: 2, promoted: 1 });
    });
  });
});
