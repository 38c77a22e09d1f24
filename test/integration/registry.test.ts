import { writeFile } from 'node:fs/promises';
import { NativeConnection } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities';
import { modelVersions } from '../../src/db/schema';
import { describeVersion } from '../../src/registry/lineage';
import { aliasHistoryOf, rollbackAlias, setAlias } from '../../src/registry/aliases';
import { getModelVersion, registerModelVersion, resolveAlias } from '../../src/registry/model-registry';
import { reproduceVersion } from '../../src/registry/reproduce';
import { readCodeVersion } from '../../src/runtime/code-version';
import { loadProjectConfig } from '../../src/runtime/project-config';
import { createWorkers } from '../../src/runtime/workers';
import { startModelServer } from '../../src/serving/http-server';
import type { TrainingPipelineResult } from '../../src/shared/pipeline-result';
import type { ProjectConfig } from '../../src/shared/project-config';
import { taskQueues } from '../../src/shared/task-queues';
import { buildTinyLogisticOnnx } from '../fixtures/tiny-logistic-onnx';
import { createHarness, type Harness } from './harness';

/**
 * The registry on real components: a trainingPipeline run on the real flights (the first 20,000
 * of January 2001) through a real Temporal dev server, on PostgreSQL in CI (PGlite otherwise).
 * The register activity "crashes" after its write once, so Temporal retries it: one version must
 * come out. Then the version is reproduced bit for bit, promotions race, and a corrupted
 * production artifact is refused while the model server keeps serving.
 */
describe('model registry end to end', () => {
  let harness: Harness;
  let config: ProjectConfig;
  let connection: NativeConnection;
  const model = `registry-it-${Date.now().toString(36)}`;
  let result: Extract<TrainingPipelineResult, { status: 'registered' }>;
  let registerAttempts = 0;

  beforeAll(async () => {
    harness = await createHarness();
    connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const base = await loadProjectConfig('keel.config.json');
    config = { ...base, pipeline: { ...base.pipeline, model, dataset: { ...base.pipeline.dataset, limit: 20_000 }, deploy: true } };

    const activities = createActivities({
      database: harness.database,
      artifacts: harness.artifacts,
      codeVersion: readCodeVersion(),
      logger: pino({ level: 'silent' }),
    });
    const registerModel = activities.registerModel;
    activities.registerModel = async (input) => {
      registerAttempts++;
      const registered = await registerModel(input);
      // The worker dies after the database write, before Temporal hears of the completion.
      if (registerAttempts === 1) throw new Error('simulated crash after the register write');
      return registered;
    };
    const workers = await createWorkers({
      connection,
      namespace: 'default',
      activities,
      workflowBundle: { codePath: inject('workflowBundlePath') },
    });
    const handle = await harness.client.workflow.start('trainingPipeline', {
      taskQueue: taskQueues.control,
      workflowId: `train/${model}/registry-it`,
      args: [config.pipeline],
    });
    const done = handle.result();
    await Promise.all(
      workers.map((w) =>
        w.runUntil(
          done.then(
            () => undefined,
            () => undefined,
          ),
        ),
      ),
    );
    const outcome = (await done) as TrainingPipelineResult;
    if (outcome.status !== 'registered') throw new Error(`the pipeline did not register a version: ${JSON.stringify(outcome)}`);
    result = outcome;
  });

  afterAll(async () => {
    await connection?.close();
    await harness?.close();
  });

  it('registers exactly once although the register activity was retried after its write', async () => {
    expect(registerAttempts).toBe(2);
    expect(result.version).toBe(1);
    const rows = await harness.database.db.select().from(modelVersions).where(eq(modelVersions.modelName, model));
    expect(rows).toHaveLength(1);
    expect(rows[0].idempotencyKey).toBe(`train/${model}/registry-it/${rows[0].runId}/register`);
    expect((await resolveAlias(harness.database.db, model, 'production'))?.version).toBe(1);
  });

  it('records the lineage: dataset with profile, code, producing run with its Temporal UI link, feature pipeline', async () => {
    const row = (await getModelVersion(harness.database.db, model, 1))!;
    const lineage = await describeVersion(harness.database.db, row, {
      temporalUi: 'http://127.0.0.1:8233',
      namespace: 'default',
      artifacts: harness.artifacts,
    });
    expect(lineage).toMatchObject({
      creator: `workflow:train/${model}/registry-it`,
      source: 'pipeline',
      artifact: { check: 'ok' },
      dataset: { id: result.datasetVersionId, rowCount: expect.any(Number) },
      run: {
        workflowId: `train/${model}/registry-it`,
        url: expect.stringContaining(`/workflows/train%2F${model}%2Fregistry-it/${row.runId}/history`),
      },
      params: { split: config.pipeline.split, target: 'delayed' },
    });
    expect(Object.keys(lineage.dataset!.profile ?? {})).toEqual(expect.arrayContaining(['distance', 'origin', 'delayed']));
    expect(lineage.featurePipeline?.features.map((f) => f.name)).toEqual(config.pipeline.features.map((f) => f.name));
    expect(lineage.code.gitCommit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('reproduces the version: re-training from the recorded dataset, config and seed gives the same ONNX bytes', async () => {
    const row = (await getModelVersion(harness.database.db, model, 1))!;
    const report = await reproduceVersion(harness.database.db, row, { codeVersion: readCodeVersion() });
    expect(report.reproduced.onnxSha256).toBe(row.artifactSha256);
    expect(report).toMatchObject({ match: true, datasetIntact: true, modelJsonMatch: true });
  });

  it('serialises racing promotions on this database: all recorded, chained', async () => {
    const race = `${model}-race`;
    const count = 12;
    for (let i = 1; i <= count; i++) {
      await registerModelVersion(harness.database.db, {
        modelName: race,
        idempotencyKey: `${race}/${i}`,
        artifactSha256: result.artifactSha256,
        artifactBytes: 1,
        contract: {},
        params: {},
        metrics: {},
        datasetVersionId: '',
        datasetHash: '',
        trainingRunId: '',
        workflowId: '',
        runId: '',
      });
    }
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        setAlias(harness.database.db, { model: race, alias: 'production', version: i + 1, actor: `racer-${i}`, reason: 'race' }),
      ),
    );
    const history = await aliasHistoryOf(harness.database.db, race, 'production');
    expect(history).toHaveLength(count);
    history.forEach((h, i) => expect(h.fromVersion).toBe(i === 0 ? null : history[i - 1].toVersion));
    expect((await resolveAlias(harness.database.db, race, 'production'))?.version).toBe(history.at(-1)!.toVersion);
  });

  it('refuses a corrupted production artifact while the server keeps serving the previous version, and follows the rollback', async () => {
    const { database, artifacts } = harness;
    const v1 = (await getModelVersion(database.db, model, 1))!;
    const contract = v1.contract as { inputs: { name: string; type: string }[] };
    const bytes = buildTinyLogisticOnnx({
      numeric: contract.inputs.filter((i) => i.type === 'float32').map((i) => ({ name: i.name, weight: 0.001, mean: 0 })),
      categorical: contract.inputs.filter((i) => i.type === 'string').map((i) => ({ name: i.name, weights: { ORD: 0.5 } })),
      bias: -1,
    });
    const sha = await artifacts.put(bytes);
    const { id: _id, version: _version, createdAt: _createdAt, status: _status, statusChangedAt: _changed, ...lineage } = v1;
    const v2 = await registerModelVersion(database.db, {
      ...lineage,
      idempotencyKey: `${model}/v2-corrupt`,
      artifactSha256: sha,
      artifactBytes: bytes.byteLength,
      source: 'import',
    });
    await writeFile(artifacts.pathOf(sha), 'bit rot');

    const server = await startModelServer({
      database,
      artifacts,
      port: 0,
      refreshMs: 100,
      inferenceThreads: 0,
      models: [model],
      logger: pino({ level: 'silent' }),
    });
    try {
      const predict = async () => {
        const response = await fetch(`${server.url}/v1/models/${model}:predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ instances: [{ hour: 17, weekday: 5, distance: 733, origin: 'ORD', destination: 'LGA' }] }),
        });
        expect(response.status).toBe(200);
        return ((await response.json()) as { version: number }).version;
      };
      expect(await predict()).toBe(1);
      await expect(
        setAlias(database.db, { model, alias: 'production', version: v2.version, actor: 't', reason: 'r', artifacts }),
      ).rejects.toThrow(/refusing .*@2: artifact .* is corrupted/);
      // A promotion that skipped verification: the server refuses to load it and keeps v1.
      await setAlias(database.db, { model, alias: 'production', version: v2.version, actor: 't', reason: 'unverified' });
      const report = await server.pool.refresh();
      expect(report.refused).toEqual([expect.objectContaining({ version: 2, error: expect.stringContaining('is corrupted') })]);
      expect(await predict()).toBe(1);
      const rollback = await rollbackAlias(database.db, { model, actor: 'user:ops', reason: 'v2 artifact corrupted' });
      expect(rollback).toMatchObject({ fromVersion: 2, toVersion: 1 });
      expect(await predict()).toBe(1);
    } finally {
      await server.close();
    }
  });
});
