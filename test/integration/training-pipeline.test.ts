import { resolve } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliasHistory, datasetVersions, driftReports, modelVersions, predictionLog, trainingRuns } from '../../src/db/schema';
import { resolveAlias } from '../../src/registry/model-registry';
import { loadProjectConfig, trainerCommandsOf } from '../../src/runtime/project-config';
import { replayTraffic } from '../../src/runtime/replay-traffic';
import { ensureSchedules, schedulesFor } from '../../src/runtime/schedules';
import { startModelServer } from '../../src/serving/http-server';
import type { ProjectConfig } from '../../src/shared/project-config';
import { binaryMetricsOf } from '../../src/shared/model-metrics';
import { type TrainingPipelineResult } from '../../src/shared/pipeline-result';
import { scheduleIds, taskQueues } from '../../src/shared/task-queues';
import { sampleDatasetRows } from '../../src/data/dataset-store';
import { captureHistory } from './capture-history';
import { createHarness, type Harness } from './harness';

let harness: Harness;

/**
 * The whole lifecycle on real components: the real January 2001 flights (the first 60,000, to
 * keep the suite fast), a real Temporal dev server, PostgreSQL (or PGlite), the real model server.
 */
describe('trainingPipeline end to end', () => {
  let config: ProjectConfig;
  const model = `flights-it-${Date.now().toString(36)}`;

  beforeAll(async () => {
    const base = await loadProjectConfig('keel.config.json');
    // The worker offers the trainer commands of keel.config.json, as `npm start` does.
    harness = await createHarness({ trainers: trainerCommandsOf(base, resolve('keel.config.json')) });
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
        expect(binaryMetricsOf(result.metrics).rocAuc).toBeGreaterThan(0.6);

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
        expect((runs[0].learningCurve as { train: number[] }).train.length).toBeGreaterThan(1);
        const moves = await database.db.select().from(aliasHistory).where(eq(aliasHistory.modelName, model));
        expect(moves.map((m) => [m.fromVersion, m.toVersion])).toEqual([[null, 1]]);

        // Serving: the deployed version answers over HTTP and every prediction is logged.
        const rows = await sampleDatasetRows(database.db, result.datasetVersionId, 200);
        const trafficStart = new Date();
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

        // Monitoring: a monitor run over a window holding that traffic stores a report over exactly
        // those inputs; and the schedule exists (idempotently) and, triggered, stores a report.
        await ensureSchedules(client, config);
        await ensureSchedules(client, config); // idempotent
        const scheduled = schedulesFor(config).find((s) => s.scheduleId === scheduleIds.monitor(model))!;
        const monitorInput = (scheduled.action as unknown as { args: [Record<string, unknown>] }).args[0];
        const windowed = await client.workflow.execute('monitor', {
          taskQueue: taskQueues.control,
          workflowId: `monitor/${model}/it-window`,
          args: [
            {
              ...monitorInput,
              window: { start: new Date(trafficStart.getTime() - 1000).toISOString(), end: new Date(Date.now() + 1000).toISOString() },
            },
          ],
        });
        const [report] = await database.db
          .select()
          .from(driftReports)
          .where(eq(driftReports.id, (windowed as { reportId: number }).reportId));
        expect(report.rowCount).toBe(200);
        expect(['ok', 'drift']).toContain(report.status);
        const stored = report.features as { features?: { feature: string }[]; columns?: { feature?: string; column?: string }[] };
        expect(JSON.stringify(stored)).toContain('destination');
        const before = await database.db.select().from(driftReports).where(eq(driftReports.modelName, model));
        await client.schedule.getHandle(scheduleIds.monitor(model)).trigger();
        await waitFor(async () => {
          const rows = await database.db.select().from(driftReports).where(eq(driftReports.modelName, model));
          return rows.length > before.length ? rows : undefined;
        });
        for (const id of [scheduleIds.monitor(model), scheduleIds.retrain(model)]) await client.schedule.getHandle(id).delete();
      });
    } finally {
      harness.setOnDeployed(async () => {});
      await server.close();
    }
  });

  it('tunes by random search with a concurrency cap, records every trial, and compares with production', async () => {
    const tuned = {
      ...config.pipeline,
      tuning: { strategy: 'random', space: { l2: { min: 0.01, max: 100, scale: 'log' } }, trials: 3, concurrency: 2, seed: 1 },
    };
    const result = await runPipeline(`train/${model}/tuned`, tuned);
    expect(result.trials).toBe(3);
    expect(result.production?.version).toBe(1);
    expect(result.gate.reasons.join()).toContain('production v1');
    const runs = await harness.database.db
      .select()
      .from(trainingRuns)
      .where(eq(trainingRuns.workflowId, `train/${model}/tuned`));
    expect(runs.map((r) => r.trial).sort()).toEqual(['trial-0', 'trial-1', 'trial-2']);
    const l2s = runs.map((r) => (r.trainer as { l2: number }).l2);
    expect(new Set(l2s).size).toBe(3);
    // The winner is the trial with the best validation ROC AUC, and only it carries the evaluation.
    const best = runs.reduce((a, b) =>
      (b.validationMetrics as { rocAuc: number }).rocAuc > (a.validationMetrics as { rocAuc: number }).rocAuc ? b : a,
    );
    expect(result.trainingRunId).toBe(best.id);
    expect(runs.filter((r) => r.gate !== null).map((r) => r.id)).toEqual([best.id]);
  });

  it('runs successive halving rungs with a growing budget', async () => {
    const halving = {
      ...config.pipeline,
      deploy: false,
      tuning: { strategy: 'successive-halving', space: { l2: [0.1, 1, 10] }, trials: 3, eta: 3, concurrency: 2, seed: 2 },
    };
    const result = await runPipeline(`train/${model}/halving`, halving);
    expect(result.trials).toBe(4);
    const runs = await harness.database.db
      .select()
      .from(trainingRuns)
      .where(eq(trainingRuns.workflowId, `train/${model}/halving`));
    const budgets = Object.fromEntries(runs.map((r) => [r.trial, (r.trainer as { maxIterations: number }).maxIterations]));
    const full = (config.pipeline.trainer as { maxIterations: number }).maxIterations;
    expect(Object.keys(budgets).filter((t) => t.startsWith('rung-0-'))).toHaveLength(3);
    expect(Object.values(budgets).filter((b) => b === Math.round(full / 3))).toHaveLength(3);
    expect(
      Object.entries(budgets)
        .filter(([t]) => t.startsWith('rung-1-'))
        .map(([, b]) => b),
    ).toEqual([full]);
  });

  it('ends without a new version when the gate rejects, recording why', async () => {
    const strict = { ...config.pipeline, gate: { minRocAuc: 0.99, maxDropVsProduction: 0 } };
    const before = await harness.database.db.select().from(modelVersions).where(eq(modelVersions.modelName, model));
    const result = await runPipeline(`train/${model}/strict`, strict);
    expect(result.status).toBe('rejected');
    if (result.status !== 'rejected') return;
    expect(result.reason).toContain('is below the minimum 0.99');
    const after = await harness.database.db.select().from(modelVersions).where(eq(modelVersions.modelName, model));
    expect(after).toHaveLength(before.length);
    const [run] = await harness.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, result.trainingRunId));
    expect(run.gate).toEqual({ passed: false, reasons: expect.arrayContaining([expect.stringContaining('below the minimum 0.99')]) });
  });

  it('rejects a tuning space naming a parameter the trainer does not have', async () => {
    const bad = { ...config.pipeline, tuning: { strategy: 'grid', space: { depth: [3, 4] } } };
    const error = await runPipeline(`train/${model}/bad-space`, bad).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(((error as WorkflowFailedError).cause as ApplicationFailure).message).toContain('tuning.space.depth');
  });

  it('trains with a bring-your-own program, verifies its ONNX and registers it', async () => {
    const byo = {
      ...config.pipeline,
      deploy: false,
      trainer: { kind: 'command', command: 'byo-example', params: { smoothing: 50 } },
      gate: { minRocAuc: 0.5, maxDropVsProduction: 1 },
    };
    const result = await runPipeline(`train/${model}/byo`, byo);
    expect(result.status).toBe('registered');
    expect(binaryMetricsOf(result.metrics).rocAuc).toBeGreaterThan(0.55);
    const [run] = await harness.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, result.trainingRunId));
    expect((run.trainer as { reportedMetrics: { train_rows: number } }).reportedMetrics.train_rows).toBeGreaterThan(30_000);
  });

  it('fails without retrying when the bring-your-own program fails, showing its output', async () => {
    const failing = {
      ...config.pipeline,
      trainer: { kind: 'command', command: 'byo-example', params: { fail: 'out of memory' } },
    };
    const error = await runPipeline(`train/${model}/byo-fails`, failing).then(
      () => undefined,
      (e: unknown) => e,
    );
    const cause = (error as WorkflowFailedError).cause as ActivityFailure;
    const failure = cause.cause as ApplicationFailure;
    expect(failure.type).toBe('ExternalTrainerError');
    expect(failure.message).toContain('failing on purpose: out of memory');
    expect(cause.retryState).toBe('NON_RETRYABLE_FAILURE');
  });

  it('trains gradient-boosted trees whose ONNX matches the in-process model, with both learning curves', async () => {
    const gbdt = {
      ...config.pipeline,
      deploy: false,
      trainer: {
        kind: 'gbdt',
        params: { objective: 'binary', numTrees: 40, maxLeaves: 31, learningRate: 0.1 },
        threads: 2,
        checkpointEvery: 10,
      },
      gate: { minRocAuc: 0.6, maxDropVsProduction: 1 },
    };
    const result = await runPipeline(`train/${model}/gbdt`, gbdt);
    expect(result.status).toBe('registered');
    expect(binaryMetricsOf(result.metrics).rocAuc).toBeGreaterThan(0.62);
    const [run] = await harness.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, result.trainingRunId));
    const curve = run.learningCurve as { metric: string; train: number[]; validation: number[] };
    expect(curve.train).toHaveLength(40);
    expect(curve.validation).toHaveLength(40);
    expect(curve.train[39]).toBeLessThan(curve.train[0]);
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

function runPipeline(workflowId: string, input: unknown): Promise<TrainingPipelineResult> {
  return harness.withWorkers(async () => {
    const handle = await harness.client.workflow.start('trainingPipeline', { taskQueue: taskQueues.control, workflowId, args: [input] });
    return (await handle.result()) as TrainingPipelineResult;
  });
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
