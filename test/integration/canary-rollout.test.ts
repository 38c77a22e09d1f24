import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities';
import { rolloutsCommand } from '../../src/cli/rollouts-command';
import { aliasHistory, deployments, rolloutEvents, rollouts, routes } from '../../src/db/schema';
import { resolveAlias } from '../../src/registry/model-registry';
import { readCodeVersion } from '../../src/runtime/code-version';
import { loadProjectConfig } from '../../src/runtime/project-config';
import { freePort } from '../../src/runtime/ports';
import { startTemporalDevServer } from '../../src/runtime/temporal-dev-server';
import { createWorkers } from '../../src/runtime/workers';
import { type ModelServer, startModelServer } from '../../src/serving/http-server';
import {
  type CanaryContinuation,
  type CanaryRolloutRequest,
  type CanaryRolloutResult,
  canaryPauseSignal,
  canaryPromoteUpdate,
  canaryResumeSignal,
  canaryRollbackSignal,
  canaryStatusQuery,
} from '../../src/shared/canary';
import type { TrainingPipelineResult } from '../../src/shared/pipeline-result';
import { taskQueues, workflowIds } from '../../src/shared/task-queues';
import { captureHistory, historyCapturePath } from './capture-history';
import { BASELINE, FAULTY, HEALTHY, registerTiny, startTraffic, truthOfBaseline, waitFor, WRONG } from './canary-support';
import { createHarness, type Harness } from './harness';
import { summarizeFailure } from '../../src/shared/failure-chain';
import { parseJson } from '../fixtures/json';

/**
 * The canary rollout on real components: the run's Temporal dev server (and, for the restart
 * test, one of our own with a persistent SQLite file), PostgreSQL or PGlite, the real model server
 * answering real HTTP traffic with sticky routing keys while the steps bake. Bake times are
 * seconds here; the health thresholds are the production ones with a smaller `minRequests`.
 */

const suffix = Date.now().toString(36);
const models = {
  healthy: `canary-ok-${suffix}`,
  faulty: `canary-bad-${suffix}`,
  wrong: `canary-wrong-${suffix}`,
  signals: `canary-sig-${suffix}`,
  restart: `canary-restart-${suffix}`,
  cli: `canary-cli-${suffix}`,
  long: `canary-long-${suffix}`,
};
const quick = {
  bakeSeconds: 2,
  checkEverySeconds: 1,
  health: { minRequests: 50 },
  insufficientData: { extendSeconds: 10 },
} satisfies Partial<CanaryRolloutRequest>;

let harness: Harness;
let server: ModelServer;

beforeAll(async () => {
  harness = await createHarness();
  server = await startModelServer({
    database: harness.database,
    artifacts: harness.artifacts,
    port: 0,
    refreshMs: 1000,
    models: Object.values(models),
    logger: pino({ level: 'silent' }),
    inferenceThreads: 1,
  });
  // The activities refresh this in-process server after every routing change, as `npm start` does.
  harness.setOnDeployed(async () => void (await server.pool.refresh()));
});

afterAll(async () => {
  harness?.setOnDeployed(async () => {});
  await server?.close();
  await harness?.close();
});

function startRollout(client: Client, input: CanaryRolloutRequest) {
  return client.workflow.start('canaryRollout', {
    taskQueue: taskQueues.control,
    workflowId: workflowIds.canary(input.model),
    args: [input],
  });
}

/** Keys are sticky: once a user reached the candidate, every later answer came from it. */
function expectSticky(versionsByKey: Map<string, number[]>, candidate: number) {
  let moved = 0;
  for (const [key, versions] of versionsByKey) {
    const first = versions.indexOf(candidate);
    if (first === -1) continue;
    if (first > 0) moved++;
    expect(
      versions.slice(first).every((v) => v === candidate),
      `${key}: ${versions.join(',')}`,
    ).toBe(true);
  }
  return moved;
}

describe('canaryRollout', () => {
  it('steps a healthy candidate through 10, 25, 50 and 100 % under real traffic and promotes it by itself', async () => {
    const model = models.healthy;
    const baseline = await registerTiny(harness, model, BASELINE, { production: true });
    const candidate = await registerTiny(harness, model, HEALTHY);
    await server.pool.refresh();
    const traffic = startTraffic(server.url, model, { truth: truthOfBaseline });
    const started = Date.now();
    const result = await harness
      .withWorkers(async () => {
        const handle = await startRollout(harness.client, {
          model,
          candidate,
          ...quick,
          health: { ...quick.health, onlineMetric: { maxDrop: 0.1, minLabelled: 30 } },
          initiator: 'user:test',
        });
        const steps: number[] = [];
        // Watch the weights move while it bakes, through the status query.
        const watching = (async () => {
          for (;;) {
            const status = await handle.query(canaryStatusQuery);
            if (status.weight && steps.at(-1) !== status.weight.percent) steps.push(status.weight.percent);
            if (status.state === 'promoted' || status.state === 'rolled_back') return;
            await sleep(200);
          }
        })();
        const outcome = (await handle.result()) as CanaryRolloutResult;
        await watching;
        return { outcome, steps };
      })
      .finally(() => traffic.stop());
    const seconds = (Date.now() - started) / 1000;

    expect(result.outcome.outcome, JSON.stringify(result.outcome.decision)).toBe('promoted');
    expect(result.steps).toEqual([10, 25, 50, 100]);
    expect(result.outcome.decision).toMatchObject({ action: 'promote', actor: `workflow:canary/${model}` });
    expect(result.outcome.history.map((h) => [h.percent, h.outcome, h.health?.verdict])).toEqual([
      [10, 'passed', 'healthy'],
      [25, 'passed', 'healthy'],
      [50, 'passed', 'healthy'],
      [100, 'passed', 'healthy'],
    ]);
    for (const step of result.outcome.history) {
      expect(step.health!.candidate.rows).toBeGreaterThanOrEqual(50);
      expect(step.health!.candidate.errors).toBe(0);
    }
    // At 100 % the baseline answers nothing in the step: it is measured over the rollout instead.
    const last = result.outcome.history[3].health!;
    expect(last.baselineWindow.from < last.window.from).toBe(true);
    expect(last.baseline.rows).toBeGreaterThanOrEqual(50);
    expect(last.checks.find((c) => c.name === 'p99_latency')?.status).toBe('skipped');
    // Error rate and accuracy are judged at every step; a p99 of under 500 rows is only reported.
    for (const step of result.outcome.history) {
      expect(step.health!.checks.map((c) => [c.name, c.status])).toEqual([
        ['error_rate', 'pass'],
        ['p99_latency', 'skipped'],
        ['online_accuracy', 'pass'],
      ]);
      expect(step.health!.candidate.p99LatencyMs).toBeGreaterThan(0);
      expect(step.health!.candidate.labelled).toBeGreaterThanOrEqual(30);
      expect(step.health!.baseline.accuracy).toBe(1);
    }

    // Production moved, recorded in the alias history by the workflow; no route is left.
    const db = harness.database.db;
    expect((await resolveAlias(db, model, 'production'))?.version).toBe(candidate);
    const moves = await db.select().from(aliasHistory).where(eq(aliasHistory.modelName, model)).orderBy(asc(aliasHistory.id));
    expect(moves.map((m) => [m.fromVersion, m.toVersion, m.actor])).toEqual([
      [null, baseline, 'test'],
      [baseline, candidate, `workflow:canary/${model}`],
    ]);
    expect(moves[1].reason).toContain('healthy at every step (10%, 25%, 50%, 100%)');
    expect(await db.select().from(routes).where(eq(routes.modelName, model))).toEqual([]);
    const running = await db
      .select()
      .from(deployments)
      .where(and(eq(deployments.modelName, model), isNull(deployments.endedAt)));
    expect(running.map((d) => [d.version, d.previousVersion])).toEqual([[candidate, baseline]]);

    // Every decision is recorded.
    const [rollout] = await db.select().from(rollouts).where(eq(rollouts.modelName, model));
    expect(rollout).toMatchObject({ status: 'promoted', baselineVersion: baseline, candidateVersion: candidate, initiator: 'user:test' });
    const events = await db.select().from(rolloutEvents).where(eq(rolloutEvents.rolloutId, rollout.id)).orderBy(asc(rolloutEvents.seq));
    expect(events.map((e) => (e.kind === 'step' ? `step ${e.percent}` : e.kind))).toEqual([
      'started',
      'step 10',
      'step_passed',
      'step 25',
      'step_passed',
      'step 50',
      'step_passed',
      'step 100',
      'step_passed',
      'promoted',
    ]);

    // Real traffic throughout, nothing failed, and users stayed on the candidate once moved.
    expect([...traffic.statuses.keys()]).toEqual([200]);
    expect(traffic.answeredBy.get(baseline)).toBeGreaterThan(50);
    expect(traffic.answeredBy.get(candidate)).toBeGreaterThan(80);
    expect(expectSticky(traffic.versionsByKey, candidate)).toBeGreaterThan(10);
    console.info(`healthy rollout: ${seconds.toFixed(1)} s, ${traffic.total()} requests`);
  });

  it('rolls back by itself a candidate whose inference fails for part of the traffic', async () => {
    const model = models.faulty;
    const baseline = await registerTiny(harness, model, BASELINE, { production: true });
    const candidate = await registerTiny(harness, model, FAULTY);
    await server.pool.refresh();
    const traffic = startTraffic(server.url, model);
    const result = await harness
      .withWorkers(async () => {
        const handle = await startRollout(harness.client, { model, candidate, ...quick, bakeSeconds: 30 });
        return (await handle.result()) as CanaryRolloutResult;
      })
      .finally(() => traffic.stop());

    expect(result.outcome).toBe('rolled_back');
    // Judged within the first step (a certain breach does not wait for the end of the bake).
    expect(result.history).toHaveLength(1);
    expect(result.history[0]).toMatchObject({ percent: 10, outcome: 'breach' });
    const health = result.history[0].health!;
    expect(health.verdict).toBe('breach');
    expect(health.candidate.errors).toBeGreaterThan(0);
    expect(health.baseline.errors).toBe(0);
    expect(result.decision.actor).toBe(`workflow:canary/${model}`);
    expect(result.decision.reason).toMatch(/step 1\/4 \(10%\): candidate v2 error rate .* exceeds baseline v1 0\.00% of \d+ \+ 1\.00%/);

    const db = harness.database.db;
    expect((await resolveAlias(db, model, 'production'))?.version).toBe(baseline);
    expect(await db.select().from(routes).where(eq(routes.modelName, model))).toEqual([]);
    const moves = await db.select().from(aliasHistory).where(eq(aliasHistory.modelName, model));
    expect(moves).toHaveLength(1); // production never moved
    const [rollout] = await db.select().from(rollouts).where(eq(rollouts.modelName, model));
    expect(rollout).toMatchObject({ status: 'rolled_back', decidedBy: `workflow:canary/${model}` });
    const events = await db.select().from(rolloutEvents).where(eq(rolloutEvents.rolloutId, rollout.id)).orderBy(asc(rolloutEvents.seq));
    expect(events.map((e) => e.kind)).toEqual(['started', 'step', 'rolled_back']);
    expect((events[2].health as { verdict: string }).verdict).toBe('breach');
    // Users saw the candidate's 500s, and only the baseline answers after the rollback.
    expect(traffic.statuses.get(500)).toBeGreaterThan(0);
    const after = startTraffic(server.url, model, { loops: 1 });
    await sleep(500);
    await after.stop();
    expect([...after.statuses.keys()]).toEqual([200]);
    expect([...after.answeredBy.keys()]).toEqual([baseline]);
  });

  it('rolls back in its shadow step a candidate that answers but is wrong, by the accuracy measured from feedback', async () => {
    const model = models.wrong;
    const baseline = await registerTiny(harness, model, BASELINE, { production: true });
    const candidate = await registerTiny(harness, model, WRONG);
    await server.pool.refresh();
    const traffic = startTraffic(server.url, model, { truth: truthOfBaseline });
    const result = await harness
      .withWorkers(async () => {
        const handle = await startRollout(harness.client, {
          model,
          candidate,
          ...quick,
          steps: [25, 100],
          shadowFirst: { percent: 50 },
          health: { ...quick.health, onlineMetric: { maxDrop: 0.1, minLabelled: 30 } },
        });
        return (await handle.result()) as CanaryRolloutResult;
      })
      .finally(() => traffic.stop());

    expect(result.outcome).toBe('rolled_back');
    expect(result.plan.map((p) => [p.percent, p.shadow])).toEqual([
      [50, true],
      [25, false],
      [100, false],
    ]);
    expect(result.history.map((h) => [h.percent, h.shadow, h.outcome])).toEqual([[50, true, 'breach']]);
    const health = result.history[0].health!;
    expect(health.shadow).toBe(true);
    expect(health.candidate.errors).toBe(0); // every mirrored request was scored...
    expect(health.candidate.accuracy).toBeLessThan(0.1); // ...wrongly (feedback joined through primary_id)
    expect(health.baseline.accuracy).toBe(1);
    expect(health.checks.find((c) => c.name === 'online_accuracy')?.status).toBe('fail');
    expect(result.decision.reason).toMatch(/step 1\/3 \(50% shadow\): candidate accuracy \d+\.\d+% \(\d+ labelled\) vs baseline 100\.00%/);
    expect((await resolveAlias(harness.database.db, model, 'production'))?.version).toBe(baseline);
    // In shadow, no user ever got the candidate's answer.
    expect([...traffic.statuses.keys()]).toEqual([200]);
    expect([...traffic.answeredBy.keys()]).toEqual([baseline]);
  });

  it('obeys pause, resume, rollback and promote, and reports its status', async () => {
    const model = models.signals;
    await registerTiny(harness, model, BASELINE, { production: true });
    const v2 = await registerTiny(harness, model, HEALTHY);
    const v3 = await registerTiny(harness, model, { ...HEALTHY, bias: -1.05 });
    await server.pool.refresh();
    const traffic = startTraffic(server.url, model, { loops: 1 });
    const operator = { actor: 'user:alice' };
    try {
      // 1. Pause holds the weight past the bake time; resume continues; promote skips the rest.
      const promoted = await harness.withWorkers(async () => {
        const handle = await startRollout(harness.client, { model, candidate: v2, ...quick, steps: [20, 50, 100] });
        await waitFor(async () => (await handle.query(canaryStatusQuery)).history.length === 1, 'the first step');
        await handle.signal(canaryPauseSignal, { ...operator, reason: 'looking at the dashboards' });
        const paused = await waitFor(async () => {
          const status = await handle.query(canaryStatusQuery);
          return status.paused ? status : undefined;
        }, 'the pause');
        await sleep(3500); // longer than the bake: nothing moves while paused
        const held = await handle.query(canaryStatusQuery);
        expect(held).toMatchObject({ state: 'canary', paused: true, step: 0, weight: { percent: 20, shadow: false } });
        expect(held.history).toHaveLength(1);
        expect(paused.lastHealth === null || paused.lastHealth.verdict !== 'breach').toBe(true);

        await handle.signal(canaryResumeSignal, operator);
        const moving = await waitFor(async () => {
          const status = await handle.query(canaryStatusQuery);
          return status.step >= 1 ? status : undefined;
        }, 'the second step');
        expect(moving.paused).toBe(false);
        expect(moving.history[0].outcome).toBe('passed');

        const acknowledged = await handle.executeUpdate(canaryPromoteUpdate, { args: [{ ...operator, reason: 'good enough' }] });
        const result = (await handle.result()) as CanaryRolloutResult;
        // A promote after the end is refused.
        const late = await handle.executeUpdate(canaryPromoteUpdate, { args: [operator] }).then(
          () => undefined,
          (error: unknown) => error,
        );
        const status = await handle.query(canaryStatusQuery); // still answers after the end
        return { acknowledged, result, late, status };
      });
      expect(promoted.acknowledged).toMatchObject({
        state: 'promoted',
        decision: { action: 'promote', actor: 'user:alice', reason: 'good enough' },
      });
      expect(promoted.result.outcome).toBe('promoted');
      expect(promoted.result.history.map((h) => h.outcome)).toEqual(['passed', 'interrupted']);
      expect(promoted.late).toBeInstanceOf(Error);
      expect(String((promoted.late as Error).message)).toMatch(/completed|ended/i);
      expect(promoted.status).toMatchObject({ state: 'promoted', weight: null, endedAt: expect.any(String) });
      expect((await resolveAlias(harness.database.db, model, 'production'))?.version).toBe(v2);
      const [first] = await harness.database.db
        .select()
        .from(rollouts)
        .where(and(eq(rollouts.modelName, model), eq(rollouts.candidateVersion, v2)));
      expect(first).toMatchObject({ modelName: model, status: 'promoted', decidedBy: 'user:alice' });
      const firstEvents = await harness.database.db
        .select()
        .from(rolloutEvents)
        .where(eq(rolloutEvents.rolloutId, first.id))
        .orderBy(asc(rolloutEvents.seq));
      expect(firstEvents.map((e) => [e.kind, e.actor])).toEqual([
        ['started', 'unknown'],
        ['step', `workflow:canary/${model}`],
        ['paused', 'user:alice'],
        ['resumed', 'user:alice'],
        ['step_passed', `workflow:canary/${model}`],
        ['step', `workflow:canary/${model}`],
        ['promoted', 'user:alice'],
      ]);

      // 2. Rollback by signal while the workers are down; a promote sent behind it is rejected by
      //    the validator (a rollback is under way), and the rollout rolls back when workers return.
      const handle = await harness.withWorkers(async () => {
        const h = await startRollout(harness.client, { model, candidate: v3, ...quick, bakeSeconds: 60 });
        await waitFor(async () => (await h.query(canaryStatusQuery)).history.length === 1, 'the first step');
        return h;
      });
      await handle.signal(canaryRollbackSignal, { actor: 'user:bob', reason: 'p99 alarm on the dashboard' });
      const promote = handle.executeUpdate(canaryPromoteUpdate, { args: [operator] }).then(
        () => undefined,
        (error: unknown) => error,
      );
      const rolledBack = await harness.withWorkers(async () => ({
        rejected: await promote,
        result: (await handle.result()) as CanaryRolloutResult,
      }));
      expect(rolledBack.rejected).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(((rolledBack.rejected as WorkflowUpdateFailedError).cause as ApplicationFailure).message).toContain('a rollback is under way');
      expect(rolledBack.result).toMatchObject({ outcome: 'rolled_back', baseline: v2, candidate: v3 });
      expect(rolledBack.result.decision).toMatchObject({ action: 'rollback', actor: 'user:bob', reason: 'p99 alarm on the dashboard' });
      expect((await resolveAlias(harness.database.db, model, 'production'))?.version).toBe(v2);
      expect(await harness.database.db.select().from(routes).where(eq(routes.modelName, model))).toEqual([]);
    } finally {
      await traffic.stop();
    }
  });

  it('is steered from the command line: keel rollouts start, pause, status, resume, promote', async () => {
    const model = models.cli;
    const baseline = await registerTiny(harness, model, BASELINE, { production: true });
    const candidate = await registerTiny(harness, model, HEALTHY);
    // `start` as a user runs it (a process, TEMPORAL_ADDRESS); the rest in-process, the same code
    // without a second's start-up per command.
    const keelProcess = (...args: string[]) =>
      promisify(execFile)('npx', ['tsx', 'src/cli/main.ts', 'rollouts', ...args], {
        env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress') },
      });
    const keel = async (...args: string[]) => {
      const output: string[] = [];
      const write = process.stdout.write;
      process.stdout.write = (chunk: string | Uint8Array) => output.push(String(chunk)) > 0;
      try {
        await rolloutsCommand(
          (work) => work(harness.client),
          (work) => work(harness.database.db),
        )
          .exitOverride()
          .parseAsync(args, { from: 'user' });
      } finally {
        process.stdout.write = write;
      }
      return output.join('');
    };
    const outputs = await harness.withWorkers(async () => {
      const started = parseJson<{ workflowId: string }>(
        (await keelProcess('start', model, String(candidate), '--steps', '10,100', '--bake-seconds', '600', '--json')).stdout,
      );
      const handle = harness.client.workflow.getHandle(started.workflowId);
      await waitFor(async () => (await handle.query(canaryStatusQuery)).history.length === 1, 'the first step');
      const running = await keel('start', model, String(candidate)).catch((error: unknown) => error as Error);
      await keel('pause', model, '--reason', 'checking the dashboards');
      await waitFor(async () => (await handle.query(canaryStatusQuery)).paused, 'the pause');
      const paused = await keel('status', model);
      await keel('resume', model);
      const promoted = JSON.parse(await keel('promote', model, '--reason', 'ship it', '--json'));
      const late = await keel('promote', model).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      // Refused before anything is routed: a model without production, a version that does not exist.
      const unknownModel = await keel('start', `${model}-nothing`, '2').catch((error: unknown) => error as Error);
      const unknownVersion = await keel('start', model, '99').catch((error: unknown) => error as Error);
      // Without a version: the newest one newer than production, said before it starts.
      const newest = await registerTiny(harness, model, HEALTHY);
      const defaulted = await keel('start', model, '--steps', '10,100', '--bake-seconds', '600');
      const defaultedStatus = await handle.query(canaryStatusQuery);
      await keel('rollback', model, '--reason', 'only checking the default');
      await handle.result();
      const noneNewer = await keel('start', `${model}-nothing`).catch((error: unknown) => error as Error);
      return { started, paused, promoted, late, running, unknownModel, unknownVersion, newest, defaulted, defaultedStatus, noneNewer };
    });
    expect((outputs.running as Error).message).toBe(
      `a canary rollout of "${model}" is already running (workflow canary/${model}); see: keel rollouts status ${model}`,
    );
    // What the user reads first: the root cause under "the rollout of … failed" (src/cli/failure.ts).
    expect(summarizeFailure(outputs.unknownModel).error).toBe(
      `cannot start the canary rollout of ${model}-nothing@2: model "${model}-nothing" has no production version; a canary needs one as its baseline (deploy the first version directly)`,
    );
    expect(summarizeFailure(outputs.unknownVersion).error).toBe(
      `cannot start the canary rollout of ${model}@99: model "${model}" has no version 99`,
    );
    expect(outputs.defaulted).toMatch(
      new RegExp(
        `^candidate: version ${outputs.newest} \\(newest not in production\\)\nstarted canary/${model} \\(run [^)]+\\): ${model}@${outputs.newest}\n$`,
      ),
    );
    expect(outputs.defaultedStatus).toMatchObject({ candidate: outputs.newest, baseline: candidate });
    expect((outputs.noneNewer as Error).message).toBe(
      `model "${model}-nothing" has no registered versions (keel models list shows the models)`,
    );
    // Bad flags are reported before anything starts, naming the argument or field and the value.
    const refused = async (...args: string[]) => ((await keel(...args).catch((error: unknown) => error)) as Error).message;
    expect(await refused('start', model, 'two')).toBe('<candidate>: not a number: "two"');
    expect(await refused('start', model, '2', '--steps', '10,x')).toBe('--steps: not a number: "x"');
    expect(await refused('start', model, '2', '--steps', '50,25')).toBe(
      'invalid rollout: steps.1: steps must increase strictly (50 then 25) (got 25)',
    );
    expect(await refused('start', model, '2', '--on-insufficient-data', 'maybe')).toMatch(
      /^invalid rollout: insufficientData\.action: .* \(got "maybe"\)$/,
    );
    expect(await refused('start', 'Bad_Name', '2')).toMatch(/^invalid rollout: model: must be lowercase letters/);
    expect(await refused('status', `${model}-never`)).toBe(
      `no canary rollout of "${model}-never" (workflow canary/${model}-never) was found`,
    );
    expect(await refused('pause', `${model}-never`)).toBe(
      `no canary rollout of "${model}-never" (workflow canary/${model}-never) was found`,
    );
    expect(outputs.started).toEqual({ workflowId: `canary/${model}`, runId: expect.any(String), accepted: true });
    expect(outputs.paused).toContain(`canary/${model}: ${model}@${candidate} replacing v${baseline} — canary (PAUSED)`);
    expect(outputs.paused).toContain('step 1/2: 10% of traffic to v2');
    expect(outputs.promoted).toMatchObject({
      state: 'promoted',
      decision: { action: 'promote', reason: 'ship it', actor: expect.stringMatching(/^user:/) },
    });
    expect(outputs.late?.message).toBe(
      `the last rollout of "${model}" (workflow canary/${model}) has already ended: promoted v${candidate} (ship it)`,
    );
    expect((await resolveAlias(harness.database.db, model, 'production'))?.version).toBe(candidate);
  });

  it('continues as new when its history grows, resuming exactly where it was, signals included', async () => {
    const model = models.long;
    const baseline = await registerTiny(harness, model, BASELINE, { production: true });
    const candidate = await registerTiny(harness, model, HEALTHY);
    await server.pool.refresh();
    const traffic = startTraffic(server.url, model, { loops: 1 });
    const operator = { actor: 'user:carol' };
    try {
      const { handle, result, runIds } = await harness.withWorkers(async () => {
        // 30 events: a run makes one to three health checks, then hands over to the next.
        const h = await startRollout(harness.client, {
          model,
          candidate,
          ...quick,
          bakeSeconds: 3,
          steps: [20, 50, 100],
          continueAsNewAfterEvents: 30,
        });
        await waitFor(async () => (await h.query(canaryStatusQuery)).step === 1, 'the second step');
        await h.signal(canaryPauseSignal, { ...operator, reason: 'across runs' });
        await waitFor(async () => (await h.query(canaryStatusQuery)).paused, 'the pause');
        await sleep(4000); // longer than the bake: the weight holds, whatever run is current
        const held = await h.query(canaryStatusQuery);
        expect(held).toMatchObject({ paused: true, step: 1, weight: { percent: 50 } });
        expect(held.history).toHaveLength(2);
        await h.signal(canaryResumeSignal, operator);
        const outcome = (await h.result()) as CanaryRolloutResult;

        // The chain of runs, from the first: each ends by continuing as new into the next.
        const runs = [h.firstExecutionRunId];
        for (;;) {
          const events = (await harness.client.workflow.getHandle(h.workflowId, runs.at(-1)).fetchHistory()).events ?? [];
          const next = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
          if (!next) break;
          runs.push(next);
        }
        return { handle: h, result: outcome, runIds: runs };
      });

      expect(result.outcome).toBe('promoted');
      expect(result.decision).toMatchObject({ action: 'promote', actor: `workflow:canary/${model}` });
      expect(result.history.map((h) => [h.percent, h.outcome])).toEqual([
        [20, 'passed'],
        [50, 'passed'],
        [100, 'passed'],
      ]);
      expect(runIds.length).toBeGreaterThanOrEqual(3);
      expect(new Set(runIds).size).toBe(runIds.length);
      // Replay fixtures (test/replay/canary-rollout.replay.test.ts): a run that continued as new, and the next.
      for (const [k, name] of ['canary-rollout-run-1.json', 'canary-rollout-run-2.json'].entries()) {
        const path = historyCapturePath(name);
        if (path) await captureHistory(handle.workflowId, path, runIds[k]);
      }

      // Each run started from the state the previous one ended with: its status query's answer
      // (asked of the closed run, which the worker replays) is the next run's continuation.
      const continuations: CanaryContinuation[] = [];
      await harness.withWorkers(async () => {
        for (let k = 1; k < runIds.length; k++) {
          const run = harness.client.workflow.getHandle(handle.workflowId, runIds[k]);
          const events = (await run.fetchHistory()).events ?? [];
          const started = events[0].workflowExecutionStartedEventAttributes!;
          const [input, continuation] = (started.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p));
          expect(input).toMatchObject({ model, candidate, continueAsNewAfterEvents: 30 });
          expect(started.workflowType?.name).toBe('canaryRollout');
          const before = await harness.client.workflow.getHandle(handle.workflowId, runIds[k - 1]).query(canaryStatusQuery);
          expect((continuation as CanaryContinuation).status).toEqual(before);
          continuations.push(continuation as CanaryContinuation);
        }
      });
      // Mid-bake hand-overs carry the step's clock and latency watch; the rollout record is the first run's.
      expect(continuations.some((c) => c.bake !== null)).toBe(true);
      expect(new Set(continuations.map((c) => c.rolloutId))).toEqual(new Set([`canary/${model}/${runIds[0]}`]));

      // One rollout, every event once and in order, across all the runs.
      const db = harness.database.db;
      expect((await resolveAlias(db, model, 'production'))?.version).toBe(candidate);
      const all = await db.select().from(rollouts).where(eq(rollouts.modelName, model));
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ status: 'promoted', runId: runIds[0], baselineVersion: baseline });
      const events = await db.select().from(rolloutEvents).where(eq(rolloutEvents.rolloutId, all[0].id)).orderBy(asc(rolloutEvents.seq));
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
      expect(events.map((e) => (e.kind === 'step' ? `step ${e.percent}` : e.kind))).toEqual([
        'started',
        'step 20',
        'step_passed',
        'step 50',
        'paused',
        'resumed',
        'step_passed',
        'step 100',
        'step_passed',
        'promoted',
      ]);
      const moves = await db.select().from(deployments).where(eq(deployments.modelName, model));
      expect(moves.filter((d) => d.version === candidate).map((d) => d.idempotencyKey)).toEqual([`${all[0].id}/promote`]);
      console.info(`continue-as-new: ${runIds.length} runs`);
    } finally {
      await traffic.stop();
    }
  });

  it('survives a restart of the worker and of the Temporal server mid-rollout', async () => {
    const model = models.restart;
    const baseline = await registerTiny(harness, model, BASELINE, { production: true });
    const candidate = await registerTiny(harness, model, HEALTHY);
    await server.pool.refresh();
    const dir = await mkdtemp(join(tmpdir(), 'keel-canary-restart-'));
    const port = await freePort();
    const activities = createActivities({
      database: harness.database,
      artifacts: harness.artifacts,
      codeVersion: readCodeVersion(),
      logger: pino({ level: 'warn' }),
      onDeployed: async () => void (await server.pool.refresh()),
    });
    const traffic = startTraffic(server.url, model, { loops: 1 });

    /** Our own persistent dev server (SQLite in `dir`), a client and a control-queue worker on it. */
    const boot = async () => {
      const temporal = await startTemporalDevServer({ dataDir: dir, persistent: true, port, headless: true, allowBuild: false });
      const native = await NativeConnection.connect({ address: temporal.address });
      const connection = await Connection.connect({ address: temporal.address });
      const workers = await createWorkers({
        connection: native,
        namespace: 'default',
        activities,
        queues: ['control'],
        workflowBundle: { codePath: inject('workflowBundlePath') },
      });
      const running = Promise.all(workers.map((w) => w.run()));
      return {
        client: new Client({ connection }),
        async stop() {
          for (const w of workers) w.shutdown();
          await running;
          await native.close();
          await connection.close();
          await temporal.stop();
        },
      };
    };

    try {
      let stack = await boot();
      const handle = await startRollout(stack.client, { model, candidate, ...quick, bakeSeconds: 3, steps: [30, 100] });
      await waitFor(async () => (await handle.query(canaryStatusQuery)).history.length === 1, 'the first step');
      const before = await handle.fetchHistory();

      // Mid-bake: the worker and the Temporal server go away; the bake timer runs out while they are down.
      await stack.stop();
      const down = Date.now();
      await sleep(3000);
      expect(await resolveAlias(harness.database.db, model, 'production')).toMatchObject({ version: baseline });

      stack = await boot();
      const downSeconds = (Date.now() - down) / 1000;
      try {
        const again = stack.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
        const result = (await again.result()) as CanaryRolloutResult;
        expect(result.outcome).toBe('promoted');
        expect(result.history.map((h) => [h.percent, h.outcome])).toEqual([
          [30, 'passed'],
          [100, 'passed'],
        ]);
        // The history from before the restart is intact: the same events, then the rest.
        const after = await again.fetchHistory();
        const kinds = (h: typeof before) => (h.events ?? []).map((e) => `${String(e.eventId)}:${e.eventType}`);
        expect(kinds(after).slice(0, kinds(before).length)).toEqual(kinds(before));
        expect(kinds(after).length).toBeGreaterThan(kinds(before).length);
        const status = await again.query(canaryStatusQuery);
        expect(status).toMatchObject({ state: 'promoted', step: 1 });
      } finally {
        await stack.stop();
      }
      expect((await resolveAlias(harness.database.db, model, 'production'))?.version).toBe(candidate);
      const [rollout] = await harness.database.db.select().from(rollouts).where(eq(rollouts.modelName, model));
      const events = await harness.database.db
        .select()
        .from(rolloutEvents)
        .where(eq(rolloutEvents.rolloutId, rollout.id))
        .orderBy(asc(rolloutEvents.seq));
      expect(events.map((e) => (e.kind === 'step' ? `step ${e.percent}` : e.kind))).toEqual([
        'started',
        'step 30',
        'step_passed',
        'step 100',
        'step_passed',
        'promoted',
      ]);
      console.info(`restart: Temporal and the worker were down for ${downSeconds.toFixed(1)} s`);
    } finally {
      await traffic.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is started by trainingPipeline after the gate, one rollout per model at a time', async () => {
    const base = await loadProjectConfig('keel.config.json');
    const model = `canary-pipe-${suffix}`;
    const pipeline = {
      ...base.pipeline,
      model,
      dataset: { ...base.pipeline.dataset, limit: 20_000 },
      gate: { minRocAuc: 0.5, maxDropVsProduction: 1 },
    };
    const canary = { ...pipeline, rollout: { strategy: 'canary', steps: [50, 100], bakeSeconds: 120 } };
    const run = (workflowId: string, input: unknown) =>
      harness.client.workflow
        .start('trainingPipeline', { taskQueue: taskQueues.control, workflowId, args: [input] })
        .then((h) => h.result() as Promise<TrainingPipelineResult>);

    const outcome = await harness.withWorkers(async () => {
      // The first version has nothing to compare with: it is deployed directly, even with canary.
      const first = await run(`train/${model}/first`, canary);
      const second = await run(`train/${model}/second`, canary);
      const third = await run(`train/${model}/third`, canary).then(
        () => undefined,
        (error: unknown) => error,
      );
      const rollout = harness.client.workflow.getHandle(workflowIds.canary(model));
      const status = await rollout.query(canaryStatusQuery);
      await rollout.signal(canaryRollbackSignal, 'test over');
      const ended = (await rollout.result()) as CanaryRolloutResult;
      return { first, second, third, status, ended };
    });
    expect(outcome.first).toMatchObject({ status: 'registered', version: 1, deployed: true });
    expect(outcome.first).not.toHaveProperty('rollout');
    expect(outcome.second).toMatchObject({
      status: 'registered',
      version: 2,
      deployed: false,
      rollout: { strategy: 'canary', workflowId: `canary/${model}`, runId: expect.any(String) },
    });
    expect(outcome.status).toMatchObject({ model, candidate: 2, baseline: 1, plan: [{ percent: 50 }, { percent: 100 }] });
    const failure = (outcome.third as WorkflowFailedError).cause as ApplicationFailure;
    expect(failure.type).toBe('RolloutInProgressError');
    expect(failure.message).toContain(
      `a canary rollout of "${model}" is already running (workflow canary/${model}); version 3 is registered but not deployed`,
    );
    expect(outcome.ended).toMatchObject({ outcome: 'rolled_back', decision: { reason: 'test over' } });
    const [rollout] = await harness.database.db.select().from(rollouts).where(eq(rollouts.modelName, model));
    expect(rollout.initiator).toBe(`workflow:train/${model}/second`);
  });
});
