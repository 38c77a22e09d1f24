import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProjectConfig } from '../../src/runtime/project-config';
import { type CanaryRolloutResult, canaryStatusQuery } from '../../src/shared/canary';
import type { MonitorRequest } from '../../src/shared/monitoring';
import type { DriftReportSummary } from '../../src/shared/pipeline-result';
import type { ProjectConfig } from '../../src/shared/project-config';
import { taskQueues, workflowIds } from '../../src/shared/task-queues';
import { CANDIDATE, mockCanaryActivities } from './canary-mocks';
import { createTimeSkippingEnvironment, withWorkers } from './environment';
import { type MonitorRecord, mockMonitorActivities, type ReportStatus } from './monitor-mocks';

/**
 * The monitor's policy, alone: mocked activities script each report (status, streak, canary
 * finding) and the time-skipping server runs an hourly loop in moments. The reports themselves,
 * on real traffic, are test/integration/monitor.test.ts.
 */

let env: TestWorkflowEnvironment;
let config: ProjectConfig;
let n = 0;

beforeAll(async () => {
  [env, config] = await Promise.all([createTimeSkippingEnvironment(), loadProjectConfig('keel.config.json')]);
});
afterAll(async () => {
  await env?.teardown();
});

const HOUR = 3600;

function request(model: string, overrides: Partial<MonitorRequest>): MonitorRequest {
  return { model, windowMinutes: 60, minRows: 100, ...overrides };
}

const retrainAfter = (model: string, afterConsecutive: number) => ({
  retrain: { enabled: true, afterConsecutive, pipeline: { ...config.pipeline, model } },
});

/** The retraining a monitor starts is a trainingPipeline run, not tested here: it fails at its first activity. */
async function noTraining(): Promise<never> {
  throw ApplicationFailure.nonRetryable('training does not run in the monitor policy tests');
}

/** Ends the trainingPipeline runs the monitor started, should one still run. */
async function stopChildren(env: TestWorkflowEnvironment, record: MonitorRecord) {
  for (const { actions } of record.actions) {
    if (actions.retrain?.started)
      await env.client.workflow
        .getHandle(actions.retrain.workflowId)
        .terminate('test over')
        .catch(() => {});
  }
}

describe('monitor policy', () => {
  it('checks every hour across continue-as-new and retrains only after the configured run of drifted reports', async () => {
    const model = `policy-${++n}`;
    const statuses: ReportStatus[] = ['drift', 'ok', 'drift', 'insufficient_data', 'drift', 'drift'];
    const { activities, record } = mockMonitorActivities({ status: (i) => statuses[i] });
    const workflowId = `${workflowIds.monitor(model)}/loop`;
    // A server of its own: after this test's abandoned child has run, the test server (1.38.0)
    // skips time no more, and later tests would wait on real timers.
    const own = await createTimeSkippingEnvironment();
    const { result, childInput } = await withWorkers(
      own,
      { ...activities, recordPipelineRun: async () => {}, ingestDataset: noTraining },
      async () => {
        const handle = await own.client.workflow.start('monitor', {
          taskQueue: taskQueues.control,
          workflowId,
          args: [request(model, { loop: { everySeconds: HOUR, iterationsPerRun: 2, maxIterations: 6 }, policy: retrainAfter(model, 3) })],
        });
        const result = (await handle.result()) as DriftReportSummary;
        const child = record.actions.find((a) => a.actions.retrain)?.actions.retrain;
        const started =
          child &&
          (await own.client.workflow.getHandle(child.workflowId).fetchHistory()).events?.[0].workflowExecutionStartedEventAttributes;
        await stopChildren(own, record);
        return { result, childInput: started?.input?.payloads?.map((p) => defaultPayloadConverter.fromPayload(p))[0] };
      },
      ['control', 'train'],
    ).finally(() => own.teardown());

    // Six checks an hour apart, in three runs of two (the iteration counts on across runs).
    expect(record.reports).toHaveLength(6);
    const keys = record.reports.map((r) => r.runKey.split('/'));
    expect(keys.map((k) => k.slice(0, -2).join('/'))).toEqual(Array(6).fill(workflowId));
    expect(keys.map((k) => k.at(-1))).toEqual(['0', '1', '2', '3', '4', '5']);
    const runs = keys.map((k) => k.at(-2));
    expect(new Set(runs).size).toBe(3);
    expect([runs[0] === runs[1], runs[1] === runs[2], runs[2] === runs[3], runs[4] === runs[5]]).toEqual([true, false, true, true]);
    const ends = record.reports.map((r) => Date.parse(r.window.end));
    for (let i = 1; i < ends.length; i++) {
      expect(ends[i] - ends[i - 1]).toBeGreaterThanOrEqual(HOUR * 1000);
      expect(ends[i] - ends[i - 1]).toBeLessThan(2 * HOUR * 1000);
    }
    expect(record.reports.map((r) => Date.parse(r.window.end) - Date.parse(r.window.start))).toEqual(Array(6).fill(HOUR * 1000));

    // The streak: 1, broken by ok, 1, held by insufficient data, 2, 3 → retrain at the sixth report only.
    expect(record.reports.map((r) => r.consecutive)).toEqual([1, 0, 1, 1, 2, 3]);
    expect(record.actions.map((a) => a.reportId)).toEqual([105]);
    const retrain = record.actions[0].actions.retrain!;
    const period = { from: record.reports[2].window.start.slice(0, 10), to: expect.any(String) };
    expect(retrain).toEqual({ workflowId: `train/${model}/drift-105`, consecutive: 3, period, started: true });
    expect(result.actions.retrain).toEqual(retrain);
    // The training runs on the drifted period's data.
    expect(childInput).toMatchObject({
      model,
      dataset: { recipe: 'flights', period: retrain.period, name: `${model}-${retrain.period!.from}_${retrain.period!.to}` },
    });
    expect(result.reportId).toBe(105);
  });

  it('does not retrain when the policy is off, however long the drift lasts', async () => {
    const model = `policy-${++n}`;
    const { activities, record } = mockMonitorActivities({ status: () => 'drift' });
    const result = await withWorkers(
      env,
      activities,
      async () => {
        const handle = await env.client.workflow.start('monitor', {
          taskQueue: taskQueues.control,
          workflowId: `${workflowIds.monitor(model)}/loop`,
          args: [request(model, { loop: { everySeconds: HOUR, iterationsPerRun: 5, maxIterations: 4 } })],
        });
        return (await handle.result()) as DriftReportSummary;
      },
      ['control', 'train'],
    );
    expect(record.reports.map((r) => r.consecutive)).toEqual([1, 2, 3, 4]);
    expect(record.actions).toEqual([]);
    expect(result.actions).toEqual({ deliveries: [] });
  });

  it('signals rollback to the running canary whose candidate breached, which rolls back', async () => {
    const model = `policy-${++n}`;
    const canary = mockCanaryActivities();
    const reasons = ['live rocAuc 0.512 fell below 0.600'];
    const monitor = mockMonitorActivities({
      status: () => 'ok',
      canary: () => ({ candidate: CANDIDATE, baseline: 1, breach: true, reasons }),
    });
    const window = { start: '2031-05-01T00:00:00Z', end: '2031-05-01T01:00:00Z' };
    const { report, rollout } = await withWorkers(
      env,
      { ...canary.activities, ...monitor.activities },
      async () => {
        // A month-long single step: it is still at 50 % when the monitor runs.
        const rolloutHandle = await env.client.workflow.start('canaryRollout', {
          taskQueue: taskQueues.control,
          workflowId: workflowIds.canary(model),
          args: [{ model, candidate: CANDIDATE, steps: [50], bakeSeconds: 30 * 86_400, checkEverySeconds: 86_400 }],
        });
        while ((await rolloutHandle.query(canaryStatusQuery)).weight === null) await sleep(100);
        const monitorHandle = await env.client.workflow.start('monitor', {
          taskQueue: taskQueues.control,
          workflowId: `${workflowIds.monitor(model)}/once`,
          args: [request(model, { window })],
        });
        const report = (await monitorHandle.result()) as DriftReportSummary;
        return { report, rollout: (await rolloutHandle.result()) as CanaryRolloutResult };
      },
      ['control', 'train'],
    );
    const reason = `monitor report 100: candidate v${CANDIDATE} ${reasons[0]}`;
    expect(report.actions.rollback).toEqual({ workflowId: `canary/${model}`, candidate: CANDIDATE, signalled: true, reason });
    expect(monitor.record.actions).toEqual([{ reportId: 100, actions: { rollback: report.actions.rollback } }]);
    expect(rollout).toMatchObject({
      outcome: 'rolled_back',
      decision: { action: 'rollback', actor: `workflow:monitor/${model}/once`, reason },
    });
    expect(canary.record.finish).toEqual([expect.objectContaining({ action: 'rollback' })]);
  });

  it('records a rollback it could not signal (no canary running), and sends none when the policy is off', async () => {
    const model = `policy-${++n}`;
    const finding = { candidate: CANDIDATE, baseline: 1, breach: true, reasons: ['live rocAuc 0.5 fell'] };
    const window = { start: '2031-06-01T00:00:00Z', end: '2031-06-01T01:00:00Z' };
    const run = (id: string, overrides: Partial<MonitorRequest>) => {
      const { activities, record } = mockMonitorActivities({ status: () => 'ok', canary: () => finding });
      return withWorkers(
        env,
        activities,
        async () => {
          const handle = await env.client.workflow.start('monitor', {
            taskQueue: taskQueues.control,
            workflowId: id,
            args: [request(model, { window, ...overrides })],
          });
          return { report: (await handle.result()) as DriftReportSummary, record };
        },
        ['control', 'train'],
      );
    };
    const unsignalled = await run(`monitor/${model}/a`, {});
    expect(unsignalled.report.actions.rollback).toMatchObject({
      workflowId: `canary/${model}`,
      signalled: false,
      error: expect.any(String),
    });
    expect(unsignalled.record.actions).toHaveLength(1);
    const off = await run(`monitor/${model}/b`, { policy: { rollback: { enabled: false } } });
    expect(off.report.actions.rollback).toBeUndefined();
    expect(off.record.actions).toEqual([]);
  });
});
