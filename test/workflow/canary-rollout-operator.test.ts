import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CanaryRolloutRequest,
  type CanaryRolloutResult,
  type CanaryStatus,
  canaryPauseSignal,
  canaryPromoteUpdate,
  canaryResumeSignal,
  canaryRollbackSignal,
  canaryStatusQuery,
} from '../../src/shared/canary';
import { taskQueues, workflowIds } from '../../src/shared/task-queues';
import { CANDIDATE, type HealthCheckCall, mockCanaryActivities, type Verdict } from './canary-mocks';
import { createTimeSkippingEnvironment, withWorkers } from './environment';

/**
 * canaryRollout steered by operators, alone: the `pause`, `resume` and `rollback` signals, the
 * `promote` update and the `status` query, with mocked activities on a time-skipping server
 * (`env.sleep` moves the clock past bake times in moments).
 */

let env: TestWorkflowEnvironment;
let n = 0;

// A test server of its own per test, and one retry: these tests advance time with `env.sleep`,
// whose unlock-with-sleep has hung the test server now and then in CI (withWorkers ends the test
// then); a retry on the same server would hang with it. A failure that repeats still fails.
beforeEach(async () => {
  env = await createTimeSkippingEnvironment();
});
afterEach(async () => {
  await env?.teardown();
});

const HOUR = 3600;
const alice = { actor: 'user:alice' };

function start(request: Omit<CanaryRolloutRequest, 'model' | 'candidate'>) {
  const model = `operator-${++n}`;
  return env.client.workflow.start('canaryRollout', {
    taskQueue: taskQueues.control,
    workflowId: workflowIds.canary(model),
    args: [{ model, candidate: CANDIDATE, ...request }],
  });
}

/** Polls the status query (real time; the test server's clock stands still meanwhile). */
async function until(handle: WorkflowHandle, what: string, test: (status: CanaryStatus) => boolean): Promise<CanaryStatus> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await handle.query(canaryStatusQuery);
    if (test(status)) return status;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(status)}`);
    await sleep(100);
  }
}

const failure = (error: unknown) => (error as WorkflowUpdateFailedError).cause?.message ?? String(error);

describe('canaryRollout operator messages', { retry: 1 }, () => {
  it('pause holds the weight however long it lasts and stops the bake clock; resume goes on where it was', async () => {
    const { activities, record } = mockCanaryActivities();
    const { self, result, held, resumed } = await withWorkers(env, activities, async () => {
      const handle = await start({ steps: [20, 100], bakeSeconds: HOUR, checkEverySeconds: 600 });
      await until(handle, 'the first step', (s) => s.step === 0 && s.weight !== null);
      await env.sleep(1000 * 1200); // 20 minutes into the step's hour
      await until(handle, 'two checks', (s) => s.lastHealth !== null);
      await handle.signal(canaryPauseSignal, { ...alice, reason: 'looking at the dashboards' });
      await until(handle, 'the pause', (s) => s.paused);
      const checksBefore = record.checks.length;
      await env.sleep(1000 * 3 * HOUR); // three bakes' worth: nothing moves while paused
      const held = { status: await handle.query(canaryStatusQuery), newChecks: record.checks.length - checksBefore };
      await handle.signal(canaryResumeSignal, alice);
      const resumed = await until(handle, 'the resume', (s) => !s.paused);
      return { self: `workflow:${handle.workflowId}`, result: (await handle.result()) as CanaryRolloutResult, held, resumed };
    });

    expect(held.status).toMatchObject({ state: 'canary', paused: true, step: 0, weight: { percent: 20, shadow: false } });
    expect(held.status.history).toHaveLength(1);
    expect(held.status.history[0].outcome).toBeUndefined();
    expect(held.newChecks).toBe(0);
    expect(resumed.step).toBe(0);
    expect(result.outcome).toBe('promoted');
    // The step passed once it had baked an hour outside the pause: its window spans the pause too.
    const lastOfStep = record.checks.filter((c) => c.percent === 20).at(-1)!;
    expect((lastOfStep.toMs - lastOfStep.fromMs) / 1000).toBeGreaterThanOrEqual(4 * HOUR);
    expect(record.events.map((e) => [e.kind, e.actor])).toEqual([
      ['started', 'unknown'],
      ['step', self],
      ['paused', 'user:alice'],
      ['resumed', 'user:alice'],
      ['step_passed', self],
      ['step', self],
      ['step_passed', self],
      ['promoted', self],
    ]);
    expect(record.events.find((e) => e.kind === 'paused')?.reason).toBe('looking at the dashboards');
  });

  it('promote skips the remaining steps and answers with the final status; the ended run takes no more', async () => {
    const { activities, record } = mockCanaryActivities();
    const outcome = await withWorkers(env, activities, async () => {
      const handle = await start({ steps: [10, 50, 100], bakeSeconds: HOUR, checkEverySeconds: 600 });
      const routed = await until(handle, 'the first step', (s) => s.weight !== null);
      const acknowledged = await handle.executeUpdate(canaryPromoteUpdate, { args: [{ ...alice, reason: 'good enough' }] });
      const result = (await handle.result()) as CanaryRolloutResult;
      const late = await handle.executeUpdate(canaryPromoteUpdate, { args: [alice] }).catch((error: unknown) => error);
      return { routed, acknowledged, result, late, status: await handle.query(canaryStatusQuery) };
    });
    expect(outcome.routed).toMatchObject({
      state: 'canary',
      step: 0,
      weight: { percent: 10, shadow: false },
      baseline: 1,
      candidate: CANDIDATE,
      decision: null,
    });
    expect(outcome.routed.plan.map((p) => p.percent)).toEqual([10, 50, 100]);
    expect(outcome.acknowledged).toMatchObject({
      state: 'promoted',
      decision: { action: 'promote', actor: 'user:alice', reason: 'good enough' },
    });
    expect(outcome.result.history.map((h) => [h.percent, h.outcome])).toEqual([[10, 'interrupted']]);
    expect(record.routes.map((r) => r.percent)).toEqual([10]);
    expect(record.finish).toEqual([expect.objectContaining({ action: 'promote', actor: 'user:alice' })]);
    // The closed run takes no more updates (the test server answers "not found", the dev server "completed").
    expect(outcome.late).toBeInstanceOf(Error);
    expect(outcome.status).toMatchObject({ state: 'promoted', weight: null, endedAt: expect.any(String) });
  });

  it('rollback ends the rollout at once; a promote sent while it rolls back is refused', async () => {
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const { activities, record } = mockCanaryActivities(undefined, { beforeFinish: () => released });
    const { model, rolling, rejected, result } = await withWorkers(env, activities, async () => {
      const handle = await start({ steps: [10, 100], bakeSeconds: HOUR, checkEverySeconds: 600 });
      await until(handle, 'the first step', (s) => s.weight !== null);
      await handle.signal(canaryRollbackSignal, { actor: 'user:bob', reason: 'p99 alarm on the dashboard' });
      // The rollback is being carried out (held in the mocked activity): promote must be refused.
      const rolling = await until(handle, 'the rollback', (s) => s.state === 'rolling_back');
      const rejected = await handle.executeUpdate(canaryPromoteUpdate, { args: [alice] }).catch((error: unknown) => error);
      release();
      return {
        model: handle.workflowId.slice('canary/'.length),
        rolling,
        rejected,
        result: (await handle.result()) as CanaryRolloutResult,
      };
    });
    expect(rolling).toMatchObject({ step: 0, weight: { percent: 10 }, decision: { action: 'rollback', actor: 'user:bob' } });
    expect(rejected).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(failure(rejected)).toContain('a rollback is under way (p99 alarm on the dashboard)');
    expect(result).toMatchObject({
      outcome: 'rolled_back',
      decision: { action: 'rollback', actor: 'user:bob', reason: 'p99 alarm on the dashboard' },
    });
    expect(result.history.map((h) => h.outcome)).toEqual(['interrupted']);
    expect(record.routes.map((r) => r.percent)).toEqual([10]);
    expect(record.finish).toEqual([
      expect.objectContaining({
        action: 'rollback',
        actor: 'user:bob',
        reason: `canary ${model}@${CANDIDATE}: p99 alarm on the dashboard`,
      }),
    ]);
  });

  it('a rollback given as a plain reason is obeyed while paused; a second one is ignored', async () => {
    const { activities, record } = mockCanaryActivities();
    const result = await withWorkers(env, activities, async () => {
      const handle = await start({ steps: [10, 100], bakeSeconds: HOUR, checkEverySeconds: 600 });
      await until(handle, 'the first step', (s) => s.weight !== null);
      await handle.signal(canaryPauseSignal);
      await until(handle, 'the pause', (s) => s.paused);
      await handle.signal(canaryRollbackSignal, 'candidate looks wrong');
      await handle.signal(canaryRollbackSignal, 'second thoughts');
      return (await handle.result()) as CanaryRolloutResult;
    });
    expect(result.decision).toMatchObject({ action: 'rollback', actor: 'unknown', reason: 'candidate looks wrong' });
    expect(record.events.map((e) => e.kind)).toEqual(['started', 'step', 'paused', 'rolled_back']);
  });

  it('the insufficient-data pause policy waits for an operator; resume bakes the step again', async () => {
    let held = true;
    const verdict = (c: HealthCheckCall): Verdict => (c.percent === 10 && held ? 'insufficient_data' : 'healthy');
    const { activities, record } = mockCanaryActivities(verdict);
    const { waiting, result } = await withWorkers(env, activities, async () => {
      const handle = await start({
        steps: [10, 100],
        bakeSeconds: HOUR,
        checkEverySeconds: HOUR,
        insufficientData: { extendSeconds: 0, action: 'pause' },
      });
      await until(handle, 'the first step', (s) => s.weight !== null);
      await env.sleep(1000 * HOUR);
      const waiting = await until(handle, 'the policy pause', (s) => s.paused);
      held = false;
      await env.sleep(1000 * 5 * HOUR);
      await handle.signal(canaryResumeSignal, alice);
      return { waiting, result: (await handle.result()) as CanaryRolloutResult };
    });
    expect(waiting).toMatchObject({ state: 'canary', step: 0, paused: true, lastHealth: { verdict: 'insufficient_data' } });
    expect(record.events.find((e) => e.kind === 'paused')?.reason).toMatch(/^waiting for an operator \(policy\): step 1\/2 \(10%\)/);
    expect(result.outcome).toBe('promoted');
    // Paused at 1 h, resumed 5 h later: the step bakes a full hour again before it passes (not at once).
    const afterResume = record.checks.filter((c) => c.percent === 10 && c.n > 1);
    expect(afterResume).toHaveLength(1);
    expect(afterResume[0].toMs - record.checks[0].toMs).toBeGreaterThanOrEqual(1000 * 6 * HOUR);
  });
});
