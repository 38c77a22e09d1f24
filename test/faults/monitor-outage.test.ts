import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadProjectConfig } from '../../src/runtime/project-config';
import { ensureScheduleOptions, schedulesFor } from '../../src/runtime/schedules';
import { scheduleIds } from '../../src/shared/task-queues';
import { recordFault } from './support/figures';
import { ProcessSet } from './support/processes';
import { activityAttempts, LINEAR, registered, retriesOf, smallPipeline, startPipeline, waitFor } from './support/pipeline';
import { createScratchCluster, type ScratchCluster } from './support/scratch-cluster';
import { type RestartableTemporal, startRestartableTemporal } from './support/temporal';

/**
 * Longer than a tick's worst case here (its retries wait 15 s, on a busy machine plus as much
 * again for the activities): the schedule's overlap policy is SKIP, so a tick that comes while
 * the previous run still retries would be skipped (see docs/reliability.md).
 */
const EVERY_SECONDS = 30;
/** Shorter than the monitor's activity retries (1 + 2 + 4 + 8 s between five attempts). */
const OUTAGE_MS = 8_000;

/**
 * PostgreSQL down when the monitor's schedule ticks. The tick's run retries its activities and,
 * once the database is back, stores its report for the window the tick stands for: every tick
 * the schedule took has its report, none skipped, none twice. The database is a cluster of the
 * test's own, crashed with `pg_ctl stop -m immediate`.
 */
describe('the monitor schedule ticking while the database is down', () => {
  const model = `monitor-outage-${Date.now().toString(36)}`;
  const processes = new ProcessSet();
  let cluster: ScratchCluster;
  let temporal: RestartableTemporal;
  let connection: Connection;
  let client: Client;
  let sql: postgres.Sql;

  beforeAll(async () => {
    const dir = join(inject('faultsWorkDir'), model);
    await mkdir(dir, { recursive: true });
    [cluster, temporal] = await Promise.all([createScratchCluster(), startRestartableTemporal(join(dir, 'temporal'))]);
    connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection });
    sql = postgres(cluster.url, { max: 1, onnotice: () => {} });
    await processes.start('worker', { TEMPORAL_ADDRESS: temporal.address, DATABASE_URL: cluster.url, KEEL_DATA_DIR: join(dir, 'keel') });
    // A served model to monitor: the first version goes to production directly.
    await registered(await startPipeline(client, model, { ...(await smallPipeline(model, LINEAR)), deploy: true }));
  });
  afterAll(async () => {
    await client?.schedule
      .getHandle(scheduleIds.monitor(model))
      .delete()
      .catch(() => {});
    await processes.stopAll();
    await connection?.close();
    await sql?.end().catch(() => {});
    await temporal?.stop();
    await cluster?.remove();
  });

  it('retries the tick and reports its window once the database is back', async () => {
    await recordFault(inject('faultsFiguresPath'), 'postgres outage: monitor tick', async (figures) => {
      const base = await loadProjectConfig('keel.config.json');
      const config = {
        ...base,
        pipeline: { ...base.pipeline, model },
        monitor: { ...base.monitor, every: `${EVERY_SECONDS}s`, minRows: 1 },
      };
      const [monitorSchedule] = schedulesFor(config);
      await ensureScheduleOptions(client, [monitorSchedule]);
      const schedule = client.schedule.getHandle(scheduleIds.monitor(model));
      const reports = () =>
        sql<
          { run_key: string; window_end: Date }[]
        >`SELECT run_key, window_end FROM drift_reports WHERE model_name = ${model} ORDER BY window_end`;

      // A first tick with the database up, then crash it just before the next one.
      await waitFor('the first report', async () => ((await reports()).length >= 1 ? true : undefined), 120_000, 500);
      const next = (await schedule.describe()).info.nextActionTimes[0];
      await sleep(Math.max(0, next.getTime() - Date.now() - 1_000));
      await cluster.crash();
      await sleep(OUTAGE_MS);
      await cluster.start();
      // One more tick after the outage's, then stop the schedule and let the last run finish.
      await sleep(next.getTime() + EVERY_SECONDS * 1000 + 3_000 - Date.now());
      await schedule.pause('fault test done');
      await sleep(2_000);

      const { info } = await schedule.describe();
      const ticks = info.recentActions.map((a) => ({
        at: a.scheduledAt,
        runKey: `${a.action.workflow.workflowId}/${a.action.workflow.firstExecutionRunId}`,
      }));
      for (const tick of ticks) {
        await waitFor(
          `the run of the tick at ${tick.at.toISOString()} to end`,
          async () => {
            const { status } = await client.workflow
              .getHandle(tick.runKey.slice(0, tick.runKey.lastIndexOf('/')), tick.runKey.slice(tick.runKey.lastIndexOf('/') + 1))
              .describe();
            return status.name === 'RUNNING' ? undefined : status.name;
          },
          120_000,
          500,
        );
      }
      const stored = await reports();
      const outageTick = ticks.find((t) => t.at.getTime() >= next.getTime() - 1_000);
      const outageRun =
        outageTick &&
        client.workflow.getHandle(
          outageTick.runKey.slice(0, outageTick.runKey.lastIndexOf('/')),
          outageTick.runKey.slice(outageTick.runKey.lastIndexOf('/') + 1),
        );
      figures.resumeAttempts = outageRun ? retriesOf(await activityAttempts(outageRun)) : 0;
      console.log(
        `monitor: ${ticks.length} ticks (${ticks.map((t) => t.at.toISOString().slice(11, 19)).join(', ')}), ${stored.length} reports ` +
          `(windows ending ${stored.map((r) => r.window_end.toISOString().slice(11, 19)).join(', ')}); the tick in the outage retried ${figures.resumeAttempts} times`,
      );
      expect(info.numActionsSkippedOverlap, 'the schedule skipped a tick: the run before it was still retrying').toBe(0);
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(outageTick, 'no tick fell in the outage').toBeDefined();
      expect(figures.resumeAttempts, 'the tick in the outage did not need to retry: the outage missed it').toBeGreaterThan(0);
      // One report per tick, for the tick's own window.
      expect(stored.map((r) => r.run_key).sort()).toEqual(ticks.map((t) => t.runKey).sort());
      figures.rowsDuplicated = stored.length - new Set(stored.map((r) => r.run_key)).size;
    });
  });
});
