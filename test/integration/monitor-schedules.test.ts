import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sampleDatasetRows } from '../../src/data/dataset-store';
import { driftReports } from '../../src/db/schema';
import { loadProjectConfig } from '../../src/runtime/project-config';
import { ensureSchedules, schedulesFor } from '../../src/runtime/schedules';
import type { TrainingPipelineResult } from '../../src/shared/pipeline-result';
import type { ProjectConfig } from '../../src/shared/project-config';
import { scheduleIds, taskQueues } from '../../src/shared/task-queues';
import { createHarness, type Harness } from './harness';
import { logPredictions } from './monitor-support';

const run = promisify(execFile);
let harness: Harness;

/** The monitor and retraining schedules from config: jitter, catch-up window, backfill, specs that do not parse. */
describe('monitor schedules', () => {
  const model = `sched-it-${Date.now().toString(36)}`;
  let config: ProjectConfig;

  const keel = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'schedules', ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress') },
    });

  beforeAll(async () => {
    harness = await createHarness();
    const base = await loadProjectConfig('keel.config.json');
    config = {
      ...base,
      pipeline: { ...base.pipeline, model, dataset: { ...base.pipeline.dataset, limit: 20_000 } },
      monitor: { ...base.monitor, every: '1h', minRows: 100 },
      retrain: { cron: '0 3 * * 1', jitter: '10m', catchupWindow: '2h' },
    };
  });
  afterAll(async () => {
    for (const id of [scheduleIds.monitor(model), scheduleIds.retrain(model)])
      await harness.client.schedule
        .getHandle(id)
        .delete()
        .catch(() => {});
    await harness?.close();
  });

  it('creates the schedules idempotently with the retraining jitter and catch-up window', async () => {
    await ensureSchedules(harness.client, config);
    await ensureSchedules(harness.client, config);
    const retrain = await harness.client.schedule.getHandle(scheduleIds.retrain(model)).describe();
    expect(retrain.spec.jitter).toBe(600_000);
    expect(retrain.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 7_200_000 });
    const listed = JSON.parse((await keel('list', '--json')).stdout) as { id: string; spec: string }[];
    expect(listed.find((s) => s.id === scheduleIds.retrain(model))?.spec).toBe('calendar minute=0 hour=3 dayOfWeek=MONDAY, jitter 10m');
  });

  it('backfill replays the monitor over past windows, each ending at its scheduled time', async () => {
    const trained = await harness.withWorkers(async () => {
      const handle = await harness.client.workflow.start('trainingPipeline', {
        taskQueue: taskQueues.control,
        workflowId: `train/${model}/it`,
        args: [config.pipeline],
      });
      return (await handle.result()) as TrainingPipelineResult;
    });
    if (trained.status !== 'registered') throw new Error('setup: no model');
    const rows = await sampleDatasetRows(harness.database.db, trained.datasetVersionId, 300);
    // Yesterday, three hours of logged traffic: 300, 200 and 100 predictions.
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    for (const [hour, n] of [
      [0, 300],
      [1, 200],
      [2, 100],
    ]) {
      await logPredictions(
        harness.database,
        model,
        rows.slice(0, n).map((row) => ({
          version: trained.version,
          inputs: row,
          probability: 0.2,
          label: 0,
          createdAt: new Date(`${day}T0${hour}:20:00Z`),
        })),
      );
    }
    const { stdout } = await harness.withWorkers(async () => {
      const out = await keel('backfill', scheduleIds.monitor(model), '--from', `${day}T00:30:00Z`, '--to', `${day}T03:30:00Z`, '--json');
      await expect
        .poll(async () => (await harness.database.db.select().from(driftReports).where(eq(driftReports.modelName, model))).length, {
          timeout: 60_000,
          interval: 500,
        })
        .toBe(3);
      return out;
    });
    expect(JSON.parse(stdout)).toMatchObject({
      scheduleId: scheduleIds.monitor(model),
      action: 'backfill',
      overlap: 'buffer_all',
      ok: true,
    });
    const reports = await harness.database.db.select().from(driftReports).where(eq(driftReports.modelName, model));
    expect(reports.map((r) => [r.windowStart.toISOString(), r.windowEnd.toISOString(), r.rowCount]).sort()).toEqual([
      [`${day}T00:00:00.000Z`, `${day}T01:00:00.000Z`, 300],
      [`${day}T01:00:00.000Z`, `${day}T02:00:00.000Z`, 200],
      [`${day}T02:00:00.000Z`, `${day}T03:00:00.000Z`, 100],
    ]);
    expect(reports.every((r) => r.runKey.startsWith(`monitor/${model}`))).toBe(true);
  });

  it('rejects a backfill range that does not parse, with the reason', async () => {
    const failure = await keel('backfill', scheduleIds.monitor(model), '--from', 'last tuesday', '--to', '2026-01-01').then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('--from: "last tuesday" is not an ISO 8601 time');
  });

  it('a schedule spec that does not parse is rejected with the reason, by the config and by Temporal', async () => {
    const raw = { ...config, retrain: { ...config.retrain, cron: '0 25 * * 1' } };
    await expect(loadAndCheck(raw)).rejects.toThrow('retrain.cron: not a valid cron spec: hour field "25": "25" is not a value in 0-23');
    // Past the config's check (a spec built elsewhere), the server's own reason is reported with the schedule id.
    const [, retrain] = schedulesFor(config);
    const bad = { ...retrain, scheduleId: `keel/retrain/${model}-bad`, spec: { cronExpressions: ['0 25 * * 1'] } };
    const viaKeel = await ensureSchedulesWith(bad).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(viaKeel?.name).toBe('InvalidInputError');
    expect(viaKeel?.message).toBe(`schedule keel/retrain/${model}-bad was rejected by Temporal: Hour is not in range [0-23]`);
  });

  async function loadAndCheck(raw: unknown) {
    const { projectConfigSchema } = await import('../../src/shared/project-config');
    const { parseOrThrow } = await import('../../src/shared/validation');
    return parseOrThrow(projectConfigSchema, raw, 'config', (message) => new Error(message));
  }

  async function ensureSchedulesWith(options: ReturnType<typeof schedulesFor>[number]) {
    const { ensureScheduleOptions } = await import('../../src/runtime/schedules');
    return ensureScheduleOptions(harness.client, [options]);
  }
});
