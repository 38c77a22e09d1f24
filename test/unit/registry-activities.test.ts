import { writeFile } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployActivities } from '../../activities/deploy';
import type { ActivityDeps } from '../../activities/deps';
import { registerActivities, type RegisterModelInput } from '../../activities/register';
import { aliasHistory, deployments, modelVersions, trainingRuns } from '../../src/db/schema';
import { resolveAlias } from '../../src/registry/model-registry';
import { CONTRACT, drivers, insertDatasetVersion, openTestRegistry, type TestRegistry, tinyOnnx } from './registry-fixtures';

const metrics = {
  n: 100,
  positives: 20,
  accuracy: 0.8,
  precision: 0.5,
  recall: 0.4,
  f1: 0.44,
  rocAuc: 0.7,
  logLoss: 0.5,
  confusionMatrix: { tp: 8, fp: 8, tn: 72, fn: 12 },
};

/** The activity context of one attempt of one activity in one workflow run. */
function attempt(workflowId: string, runId: string, n: number) {
  return new MockActivityEnvironment(
    { workflowExecution: { workflowId, runId }, attempt: n },
    // The SDK logs every failed attempt; the tests assert on the failures themselves.
    { logger: new DefaultLogger('ERROR', () => {}) },
  );
}

describe.each(drivers)('register and deploy activities on %s', (driver) => {
  let registry: TestRegistry;
  let deps: ActivityDeps;
  let input: RegisterModelInput;
  const model = `act-${driver}`;

  beforeAll(async () => {
    registry = await openTestRegistry(driver);
    deps = {
      database: registry.database,
      artifacts: registry.artifacts,
      codeVersion: { gitCommit: 'a'.repeat(40), gitDirty: false },
      logger: pino({ level: 'silent' }),
    };
    await insertDatasetVersion(registry.database, 'ds-act');
    const modelJson = await registry.artifacts.putJson({
      kind: 'logistic-regression',
      pipeline: {
        width: 3,
        features: [
          { name: 'distance', kind: 'numeric', mean: 800, std: 300 },
          { name: 'origin', kind: 'categorical', categories: ['SFO', 'LAX'] },
        ],
      },
    });
    await registry.database.db.insert(trainingRuns).values({
      id: 'train/x/run-1',
      modelName: model,
      workflowId: 'train/x',
      runId: 'run-1',
      datasetVersionId: 'ds-act',
      trainer: {},
      modelArtifactSha256: modelJson,
      learningCurve: [1, 0.5],
      trainSeconds: 1,
    });
    const onnx = tinyOnnx(1);
    input = {
      model,
      datasetVersionId: 'ds-act',
      trainingRunId: 'train/x/run-1',
      modelArtifactSha256: modelJson,
      onnxSha256: await registry.artifacts.put(onnx),
      bytes: onnx.byteLength,
      contract: CONTRACT,
      params: { trainer: { kind: 'logistic-regression', l2: 1 } },
      metrics,
    };
  });
  afterAll(() => registry?.close());

  const versionsOf = () => registry.database.db.select().from(modelVersions).where(eq(modelVersions.modelName, model));

  it('registers once per workflow run: a retry after the write finds the same version', async () => {
    const { registerModel } = registerActivities(deps);
    const first = await attempt('train/x', 'run-1', 1).run<[typeof input], { version: number }, typeof registerModel>(registerModel, input);
    // The worker crashed after the write, before reporting completion: Temporal retries.
    const retry = await attempt('train/x', 'run-1', 2).run(registerModel, input);
    expect(retry).toEqual(first);
    const rows = await versionsOf();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      version: first.version,
      idempotencyKey: 'train/x/run-1/register',
      workflowId: 'train/x',
      runId: 'run-1',
      creator: 'workflow:train/x',
      gitCommit: 'a'.repeat(40),
      gitDirty: false,
      datasetVersionId: 'ds-act',
      datasetHash: 'content-ds-act',
      source: 'pipeline',
      featurePipeline: {
        modelArtifactSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        features: [{ name: 'distance' }, { name: 'origin' }],
      },
    });
  });

  it('registers once even when two attempts run at the same time (a heartbeat timeout)', async () => {
    const { registerModel } = registerActivities(deps);
    const results = (await Promise.all([1, 2, 3].map((n) => attempt('train/x', 'run-2', n).run(registerModel, input)))) as {
      version: number;
    }[];
    expect(new Set(results.map((r) => r.version)).size).toBe(1);
    expect(await versionsOf()).toHaveLength(2);
  });

  it('refuses to register a corrupted artifact, without retrying', async () => {
    const { registerModel } = registerActivities(deps);
    const bytes = tinyOnnx(7);
    const sha = await registry.artifacts.put(bytes);
    await writeFile(registry.artifacts.pathOf(sha), 'corrupted');
    const error = await attempt('train/x', 'run-3', 1)
      .run(registerModel, { ...input, onnxSha256: sha, bytes: bytes.byteLength })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'ArtifactIntegrityError', nonRetryable: true, message: expect.stringMatching(/is corrupted/) });
    expect(await versionsOf()).toHaveLength(2);
  });

  it('deploys once per workflow run, and a retry reports the same previous version', async () => {
    const { deployModel } = deployActivities(deps);
    const first = await attempt('train/x', 'run-1', 1).run(deployModel, { model, version: 1, reason: 'gate passed' });
    const second = await attempt('train/x', 'run-2', 1).run(deployModel, { model, version: 2, reason: 'gate passed' });
    const retried = await attempt('train/x', 'run-2', 2).run(deployModel, { model, version: 2, reason: 'gate passed' });
    expect([first, second, retried]).toEqual([{ previousVersion: null }, { previousVersion: 1 }, { previousVersion: 1 }]);
    const moves = await registry.database.db.select().from(aliasHistory).where(eq(aliasHistory.modelName, model));
    expect(moves.map((m) => [m.fromVersion, m.toVersion, m.actor])).toEqual([
      [null, 1, 'workflow:train/x'],
      [1, 2, 'workflow:train/x'],
    ]);
    const deployed = await registry.database.db.select().from(deployments).where(eq(deployments.modelName, model)).orderBy(deployments.id);
    // The first deployment ended when the second superseded it; the second runs.
    expect(deployed.map((d) => [d.version, d.previousVersion, d.endedAt !== null])).toEqual([
      [1, null, true],
      [2, 1, false],
    ]);
  });

  it('refuses to deploy a version whose artifact is corrupted; production stays', async () => {
    const { registerModel } = registerActivities(deps);
    const { deployModel } = deployActivities(deps);
    const bytes = tinyOnnx(8);
    const sha = await registry.artifacts.put(bytes);
    const { version } = await attempt('train/x', 'run-4', 1).run<[typeof input], { version: number }, typeof registerModel>(registerModel, {
      ...input,
      onnxSha256: sha,
      bytes: bytes.byteLength,
    });
    await writeFile(registry.artifacts.pathOf(sha), 'bit rot');
    const error = await attempt('train/x', 'run-4', 1)
      .run(deployModel, { model, version, reason: 'gate passed' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ nonRetryable: true, message: expect.stringContaining(`refusing ${model}@${version}`) });
    expect((await resolveAlias(registry.database.db, model, 'production'))?.version).toBe(2);
  });
});
