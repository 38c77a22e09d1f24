import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliasHistory, datasetVersions, driftReports, predictionLog, trainingRuns } from '../../src/db/schema';
import { resolveAlias } from '../../src/registry/model-registry';
import { locateTemporalCli } from '../../src/runtime/temporal-cli';
import { loadProjectConfig } from '../../src/runtime/project-config';
import { replayTraffic } from '../../src/runtime/replay-traffic';
import { ensureSchedules } from '../../src/runtime/schedules';
import { startModelServer } from '../../src/serving/http-server';
import type { ProjectConfig } from '../../src/shared/project-config';
import type { TrainingPipelineResult } from '../../src/shared/pipeline-result';
import { scheduleIds, taskQueues } from '../../src/shared/task-queues';
import { sampleDatasetRows } from '../../src/data/dataset-store';
import { createHarness, type Harness } from './harness';
import { inject } from 'vitest';

/**
 * The whole lifecycle on real components: the real January 2001 flights (the first 60,000, to
 * keep the suite fast), a real Temporal dev server, PostgreSQL (or PGlite), the real model server.
 */
describe('trainingPipeline end to end', () => {
  let harness: Harness;
  let config: ProjectConfig;
  const model = `flights-it-${Date.now().toString(36)}`;

  beforeAll(async () => {
    harness = await createHarness();
    const base = await loadProjectConfig('keel.config.json');
    config = {
      ...base,
      pipeline: { ...base.pipeline, model, dataset: { ...base.pipeline.dataset, limit: 60_000 } },
      monitor: { ...base.monitor, every: '1h', minRows: 50 },
    };
  });
  afterAll(() => harness?.close());

  it('ingests, trains, registers, deploys, serves and monitors', async () => {
    const { database, artifacts, client } = harness;
    const server = await startModelServer({ database, artifacts, port: 0, refreshMs: 60_000 });
    harness.setOnDeployed(async () => void (await server.pool.refresh()));
    try {
      await harness.withWorkers(async () => {
        const handle = await client.workflow.start('trainingPipeline', {
          taskQueue: taskQueues.control,
          workflowId: `train/${model}/it`,
          args: [config.pipeline],
        });
        const result = (await handle.result()) as TrainingPipelineResult;
        if (process.env.KEEL_CAPTURE_HISTORY) {
          // Refreshes the replay test's fixture after a deliberate workflow change.
          await captureHistory(handle.workflowId, process.env.KEEL_CAPTURE_HISTORY);
        }

        expect(result.status).toBe('registered');
        if (result.status !== 'registered') return;
        expect(result.version).toBe(1);
        expect(result.metrics.n).toBeGreaterThan(5_000);
        expect(result.metrics.rocAuc).toBeGreaterThan(0.6);

        // Lineage: dataset, training run and artifact are all recorded and consistent.
        const [dataset] = await database.db.select().from(datasetVersions).where(eq(datasetVersions.id, result.datasetVersionId));
        expect(dataset.rowsRead).toBe(60_000);
        expect(dataset.rowCount + dataset.quarantinedCount).toBe(dataset.rowsRead);
        expect(dataset.profile).toBeTruthy();
        const production = await resolveAlias(database.db, model, 'production');
        expect(production?.version).toBe(1);
        expect(production?.artifactSha256).toBe(result.artifactSha256);
        expect(production?.datasetHash).toBe(dataset.contentHash);
        expect((await artifacts.get(result.artifactSha256)).byteLength).toBe(production?.artifactBytes);
        const runs = await database.db.select().from(trainingRuns).where(eq(trainingRuns.modelName, model));
        expect(runs).toHaveLength(1);
        expect((runs[0].learningCurve as number[]).length).toBeGreaterThan(1);
        const moves = await database.db.select().from(aliasHistory).where(eq(aliasHistory.modelName, model));
        expect(moves.map((m) => [m.fromVersion, m.toVersion])).toEqual([[null, 1]]);

        // Serving: the deployed version answers over HTTP and every prediction is logged.
        const rows = await sampleDatasetRows(database.db, result.datasetVersionId, 200);
        const traffic = await replayTraffic({
          serverUrl: server.url,
          model,
          rows,
          features: config.pipeline.features.map((f) => f.name),
        });
        expect(traffic.predictions).toBe(200);
        await server.logWriter.flush();
        const logged = await database.db.select().from(predictionLog).where(eq(predictionLog.modelName, model));
        expect(logged).toHaveLength(200);

        // Monitoring: the schedule exists and, triggered, stores a PSI report over those inputs.
        await ensureSchedules(client, config);
        await ensureSchedules(client, config); // idempotent
        await client.schedule.getHandle(scheduleIds.monitor(model)).trigger();
        const report = await waitFor(async () => {
          const [row] = await database.db.select().from(driftReports).where(eq(driftReports.modelName, model));
          return row;
        });
        expect(report.rowCount).toBe(200);
        expect(['ok', 'drift']).toContain(report.status);
        const features = (report.features as { features: { feature: string; psi: number }[] }).features;
        expect(features.map((f) => f.feature).sort()).toEqual(['destination', 'distance', 'hour', 'origin', 'weekday']);
        for (const f of features) expect(Number.isFinite(f.psi)).toBe(true);
        for (const id of [scheduleIds.monitor(model), scheduleIds.retrain(model)]) await client.schedule.getHandle(id).delete();
      });
    } finally {
      await server.close();
    }
  });

  it('fails at once, without retrying, on a bad input field, naming the field and the value', async () => {
    const bad = { ...config.pipeline, trainer: { ...config.pipeline.trainer, l2: -3 } };
    const error = await harness.withWorkers(async () => {
      const handle = await harness.client.workflow.start('trainingPipeline', {
        taskQueue: taskQueues.control,
        workflowId: `train/${model}/bad-input`,
        args: [bad],
      });
      return handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
    });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('InvalidInputError');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toContain('trainer.l2');
    expect(cause.message).toContain('-3');
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The CLI writes history in the JSON form `Worker.runReplayHistory` reads (as the UI exports it). */
async function captureHistory(workflowId: string, path: string): Promise<void> {
  const cli = await locateTemporalCli({ allowBuild: false });
  if (!cli) throw new Error('capturing a history needs the temporal CLI');
  const { stdout } = await promisify(execFile)(
    cli,
    ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', inject('temporalAddress')],
    { maxBuffer: 64 << 20 },
  );
  await writeFile(path, stdout);
}
