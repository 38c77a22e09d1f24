import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanaryRolloutRequest, CanaryRolloutResult } from '../../src/shared/canary';
import { canaryStatusQuery } from '../../src/shared/canary';
import { taskQueues, workflowIds } from '../../src/shared/task-queues';
import { type CanaryRecord, CANDIDATE, type HealthCheckCall, mockCanaryActivities, type Verdict } from './canary-mocks';
import { createTimeSkippingEnvironment, withWorkers } from './environment';

/**
 * canaryRollout's bake and promotion rules, alone: mocked activities script the health of each
 * check, and the time-skipping server runs bakes of an hour in moments. What the rollout does
 * with real routes and traffic is test/integration/canary-rollout.test.ts.
 */

let env: TestWorkflowEnvironment;
let n = 0;

beforeAll(async () => {
  env = await createTimeSkippingEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

const HOUR = 3600;

async function rollout(request: Omit<CanaryRolloutRequest, 'model' | 'candidate'>, verdict?: (check: HealthCheckCall) => Verdict) {
  const model = `rules-${++n}`;
  const { activities, record } = mockCanaryActivities(verdict);
  const { result, status } = await withWorkers(env, activities, async () => {
    const handle = await env.client.workflow.start('canaryRollout', {
      taskQueue: taskQueues.control,
      workflowId: workflowIds.canary(model),
      args: [{ model, candidate: CANDIDATE, ...request }],
    });
    const result = (await handle.result()) as CanaryRolloutResult;
    return { result, status: await handle.query(canaryStatusQuery) };
  });
  return { model, result, status, record };
}

const checksOf = (record: CanaryRecord, percent: number) => record.checks.filter((c) => c.percent === percent);
const seconds = (check: HealthCheckCall) => (check.toMs - check.fromMs) / 1000;

describe('canaryRollout bake and promotion', () => {
  it('steps through every weight, bakes each for its full time checking as it goes, then promotes by itself', async () => {
    const { model, result, status, record } = await rollout({ steps: [10, 50, 100], bakeSeconds: HOUR, checkEverySeconds: 600 });

    expect(record.routes.map((r) => [r.percent, r.shadow])).toEqual([
      [10, false],
      [50, false],
      [100, false],
    ]);
    for (const percent of [10, 50, 100]) {
      const checks = checksOf(record, percent);
      // Every 10 minutes of the hour; the step passes at the check that ends its bake, not before.
      expect(checks).toHaveLength(6);
      expect(checks.slice(0, -1).every((c) => seconds(c) < HOUR)).toBe(true);
      expect(seconds(checks.at(-1)!)).toBeGreaterThanOrEqual(HOUR);
      expect(seconds(checks.at(-1)!)).toBeLessThan(HOUR + 60);
    }
    // The next step starts only after the previous one passed (its window starts after the last check).
    expect(checksOf(record, 50)[0].fromMs).toBeGreaterThanOrEqual(checksOf(record, 10).at(-1)!.toMs);
    expect(record.events.map((e) => e.kind)).toEqual([
      'started',
      'step',
      'step_passed',
      'step',
      'step_passed',
      'step',
      'step_passed',
      'promoted',
    ]);
    expect(record.events.map((e) => e.seq).slice(1)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(result).toMatchObject({ outcome: 'promoted', baseline: 1, candidate: CANDIDATE });
    expect(result.decision).toMatchObject({
      action: 'promote',
      actor: `workflow:canary/${model}`,
      reason: 'healthy at every step (10%, 50%, 100%)',
    });
    expect(result.history.map((h) => [h.percent, h.outcome, h.health?.verdict])).toEqual([
      [10, 'passed', 'healthy'],
      [50, 'passed', 'healthy'],
      [100, 'passed', 'healthy'],
    ]);
    expect(record.finish).toEqual([expect.objectContaining({ action: 'promote', actor: `workflow:canary/${model}` })]);
    expect(status).toMatchObject({ state: 'promoted', step: 2, weight: null, paused: false, endedAt: expect.any(String) });
  });

  it('rolls back at the first unhealthy comparison, without waiting for the end of the bake', async () => {
    const { model, result, record } = await rollout({ steps: [10, 50, 100], bakeSeconds: HOUR, checkEverySeconds: 600 }, (c) =>
      c.percent === 50 && c.n === 2 ? 'breach' : 'healthy',
    );
    expect(record.routes.map((r) => r.percent)).toEqual([10, 50]);
    expect(checksOf(record, 50)).toHaveLength(2);
    expect(seconds(checksOf(record, 50)[1])).toBeLessThan(HOUR);
    expect(result.outcome).toBe('rolled_back');
    expect(result.decision).toMatchObject({
      action: 'rollback',
      actor: `workflow:canary/${model}`,
      reason: 'step 2/3 (50%): scripted breach',
    });
    expect(result.history.map((h) => [h.percent, h.outcome])).toEqual([
      [10, 'passed'],
      [50, 'breach'],
    ]);
    // The decision carries the health report that caused it.
    expect(record.finish).toEqual([
      expect.objectContaining({ action: 'rollback', health: expect.objectContaining({ verdict: 'breach' }) }),
    ]);
    expect(record.events.map((e) => e.kind)).toEqual(['started', 'step', 'step_passed', 'step', 'rolled_back']);
  });

  it('judges a shadow step first when asked, on its own bake time', async () => {
    const { result, record } = await rollout(
      { steps: [50, 100], bakeSeconds: HOUR, checkEverySeconds: 900, shadowFirst: { percent: 100, bakeSeconds: 2 * HOUR } },
      (c) => (c.shadow && c.n === 3 ? 'breach' : 'healthy'),
    );
    expect(result.plan).toEqual([
      { percent: 100, shadow: true, bakeSeconds: 2 * HOUR },
      { percent: 50, shadow: false, bakeSeconds: HOUR },
      { percent: 100, shadow: false, bakeSeconds: HOUR },
    ]);
    expect(record.routes).toEqual([{ percent: 100, shadow: true, seq: 1 }]);
    expect(record.checks.every((c) => c.shadow)).toBe(true);
    expect(result.decision.reason).toBe('step 1/3 (100% shadow): scripted breach');
  });

  it('keeps checking past the bake while data is short, then rolls back (default policy) at the limit', async () => {
    const { result, record } = await rollout(
      { steps: [25, 100], bakeSeconds: HOUR, checkEverySeconds: 900, insufficientData: { extendSeconds: 2 * HOUR } },
      () => 'insufficient_data',
    );
    const checks = checksOf(record, 25);
    expect(seconds(checks.at(-1)!)).toBeGreaterThanOrEqual(3 * HOUR);
    expect(checks.filter((c) => seconds(c) >= HOUR).length).toBeGreaterThan(1);
    expect(record.routes.map((r) => r.percent)).toEqual([25]);
    expect(result.outcome).toBe('rolled_back');
    expect(result.history[0].outcome).toBe('insufficient_data');
    expect(result.decision.reason).toMatch(/^too little traffic to judge step 1\/2 \(25%\): scripted insufficient_data after 108\d\d s$/);
  });

  it('passes a step that is healthy late in its extension', async () => {
    const { result, record } = await rollout(
      { steps: [25, 100], bakeSeconds: HOUR, checkEverySeconds: 900, insufficientData: { extendSeconds: 2 * HOUR } },
      (c) => (c.percent === 25 && c.n < 7 ? 'insufficient_data' : 'healthy'),
    );
    expect(checksOf(record, 25)).toHaveLength(7);
    expect(result.outcome).toBe('promoted');
    expect(result.history.map((h) => h.outcome)).toEqual(['passed', 'passed']);
  });

  it('proceeds without a verdict when the policy says so, and records why', async () => {
    const { result, record } = await rollout(
      { steps: [25, 100], bakeSeconds: HOUR, checkEverySeconds: HOUR, insufficientData: { extendSeconds: 0, action: 'proceed' } },
      (c) => (c.percent === 25 ? 'insufficient_data' : 'healthy'),
    );
    expect(result.outcome).toBe('promoted');
    expect(result.history.map((h) => h.outcome)).toEqual(['proceeded', 'passed']);
    expect(record.events.find((e) => e.kind === 'step_passed')?.reason).toMatch(
      /^proceeding without a verdict \(policy\): step 1\/2 \(25%\): scripted insufficient_data/,
    );
  });
});
