import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type CanaryRolloutResult,
  type CanaryStatus,
  canaryPauseSignal,
  canaryResumeSignal,
  canaryStatusQuery,
} from '../../src/shared/canary';
import { taskQueues, workflowIds } from '../../src/shared/task-queues';
import { CANDIDATE, mockCanaryActivities } from './canary-mocks';
import { createTimeSkippingEnvironment, withWorkers } from './environment';

/**
 * canaryRollout across continue-as-new, alone: a rollout whose runs hand over every few health
 * checks keeps its bake clocks, its pause and its record, as one long run would. Mocked
 * activities, time-skipping server; the real thing is in test/integration/canary-rollout.test.ts.
 */

let env: TestWorkflowEnvironment;

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

describe('canaryRollout across continue-as-new', { retry: 1 }, () => {
  it('hands over between runs mid-bake and while paused, and ends as one rollout would', async () => {
    const model = 'continued';
    const { activities, record } = mockCanaryActivities();
    const { result, held, runIds } = await withWorkers(env, activities, async () => {
      const handle = await env.client.workflow.start('canaryRollout', {
        taskQueue: taskQueues.control,
        workflowId: workflowIds.canary(model),
        // Ten events: a run makes a health check or two, then continues as new.
        args: [
          { model, candidate: CANDIDATE, steps: [20, 50, 100], bakeSeconds: HOUR, checkEverySeconds: 600, continueAsNewAfterEvents: 10 },
        ],
      });
      const status = () => handle.query(canaryStatusQuery);
      await env.sleep(1000 * 90 * 60); // into the second step
      for (let deadline = Date.now() + 30_000; (await status()).step < 1;) {
        if (Date.now() > deadline) throw new Error('the second step did not start');
        await sleep(100);
      }
      await handle.signal(canaryPauseSignal, { actor: 'user:carol', reason: 'across runs' });
      let held: CanaryStatus;
      for (let deadline = Date.now() + 30_000; !(held = await status()).paused;) {
        if (Date.now() > deadline) throw new Error('the pause did not take');
        await sleep(100);
      }
      const checks = record.checks.length;
      await env.sleep(1000 * 5 * HOUR);
      held = await status();
      const checkedWhilePaused = record.checks.length - checks;
      await handle.signal(canaryResumeSignal, { actor: 'user:carol' });
      const result = (await handle.result()) as CanaryRolloutResult;
      const runIds = [handle.firstExecutionRunId];
      for (;;) {
        const events = (await env.client.workflow.getHandle(handle.workflowId, runIds.at(-1)).fetchHistory()).events ?? [];
        const next = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
        if (!next) break;
        runIds.push(next);
      }
      return { result, held: { ...held, checkedWhilePaused }, runIds };
    });

    expect(runIds.length).toBeGreaterThanOrEqual(4);
    expect(new Set(runIds).size).toBe(runIds.length);
    expect(held).toMatchObject({ paused: true, step: 1, weight: { percent: 50 }, checkedWhilePaused: 0 });
    expect(result.outcome).toBe('promoted');
    expect(result.history.map((h) => [h.percent, h.outcome])).toEqual([
      [20, 'passed'],
      [50, 'passed'],
      [100, 'passed'],
    ]);
    // Every event once, numbered on across runs; the route of each step written once.
    expect(record.events.map((e) => (e.kind === 'step' ? `step ${e.reason.split(': ')[1]}` : e.kind))).toEqual([
      'started',
      'step 20%',
      'step_passed',
      'step 50%',
      'paused',
      'resumed',
      'step_passed',
      'step 100%',
      'step_passed',
      'promoted',
    ]);
    expect(record.events.map((e) => e.seq).slice(1)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Bake clocks carried over: each step passed after a full hour, the paused one after its hour plus the pause.
    for (const percent of [20, 50, 100]) {
      const last = record.checks.filter((c) => c.percent === percent).at(-1)!;
      const baked = (last.toMs - last.fromMs) / 1000;
      expect(baked).toBeGreaterThanOrEqual(percent === 50 ? 6 * HOUR : HOUR);
      expect(baked).toBeLessThan(percent === 50 ? 8 * HOUR : 2 * HOUR);
    }
  });
});
