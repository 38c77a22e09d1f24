import { MockActivityEnvironment } from '@temporalio/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps';
import { evaluateActivities } from '../../activities/evaluate';
import { datasetRows } from '../../src/db/schema';
import { toGbdtTable, trainGbdt } from '../../src/ml/gbdt';
import { withValidatedThreshold } from '../../src/ml/threshold';
import { contractOf, exportOnnx, type TrainedModel } from '../../src/ml/trained-model';
import { setAlias } from '../../src/registry/aliases';
import { registerModelVersion } from '../../src/registry/model-registry';
import { decideGate } from '../../src/shared/gate';
import { gateSpecSchema, type SplitSpec } from '../../src/shared/pipeline-input';
import { taskMetrics } from '../../src/shared/task-metrics';
import { insertDatasetVersion, openTestRegistry, type TestRegistry } from './registry-fixtures';

/**
 * The gate must compare like with like: production is scored on the candidate's test rows with
 * its own decision threshold, so an identical retrain gets identical metrics and passes the gate
 * under every compare metric (a 0.5 threshold for production once rejected an identical model on
 * accuracy).
 */
const split: SplitSpec = { train: 0.6, validation: 0.2, test: 0.2, seed: 7 };
const features = [{ name: 'x', kind: 'numeric' as const }];

/** A minority positive class (about 15 %) on a noisy score: the F1-optimal threshold is far below 0.5. */
function rowsOf(n: number) {
  return Array.from({ length: n }, (_, i) => {
    const x = ((i * 7919) % 1000) / 1000;
    const noise = ((i * 104_729) % 997) / 997;
    return { x, late: x * 0.6 + noise * 0.4 > 0.72 ? 1 : 0 };
  });
}

describe('evaluating against production', () => {
  let registry: TestRegistry;
  let deps: ActivityDeps;
  const rows = rowsOf(600);
  /** Two trainings with the same data and seed: production, and its retrain. */
  let first: TrainedModel;
  let retrain: TrainedModel;

  beforeAll(async () => {
    registry = await openTestRegistry('pglite');
    deps = {
      database: registry.database,
      artifacts: registry.artifacts,
      codeVersion: { gitCommit: null, gitDirty: null },
      logger: pino({ level: 'silent' }),
    };
    await insertDatasetVersion(registry.database, 'ds-eval');
    await registry.database.db.insert(datasetRows).values(rows.map((data, rowIndex) => ({ datasetVersionId: 'ds-eval', rowIndex, data })));
    [first, retrain] = await Promise.all([train(), train()]);
  });
  afterAll(() => registry.close());

  async function train(): Promise<TrainedModel> {
    const train = rows.filter((_, i) => i % 5 < 3);
    const validation = rows.filter((_, i) => i % 5 === 3);
    // In process (trainForTask runs the same code in a worker thread), with the threshold chosen on validation.
    const model = await trainGbdt(
      toGbdtTable({ features, target: 'late', params: { objective: 'binary', numTrees: 20, seed: 3 }, train, validation }),
    );
    return withValidatedThreshold(model, validation);
  }

  async function registerProduction(model: string, contract: unknown, modelArtifactSha256?: string) {
    const onnx = exportOnnx(first);
    const sha = await registry.artifacts.put(onnx);
    const version = await registerModelVersion(registry.database.db, {
      modelName: model,
      idempotencyKey: `test/${model}`,
      artifactSha256: sha,
      artifactBytes: onnx.byteLength,
      contract,
      params: {},
      metrics: {},
      datasetVersionId: 'ds-eval',
      datasetHash: 'content-ds-eval',
      trainingRunId: '',
      workflowId: `train/${model}`,
      runId: 'run-1',
      creator: 'test',
      featurePipeline: modelArtifactSha256 ? { modelArtifactSha256 } : null,
    });
    await setAlias(registry.database.db, { model, alias: 'production', version: version.version, actor: 'user:test', reason: 'test' });
  }

  async function evaluateRetrain(model: string) {
    const candidate = retrain;
    const onnxSha256 = await registry.artifacts.put(exportOnnx(candidate));
    const modelArtifactSha256 = await registry.artifacts.putJson(candidate);
    const { evaluateModel } = evaluateActivities(deps);
    // In an activity's context: the evaluator heartbeats while it works.
    const evaluation: ReturnType<typeof evaluateModel> = new MockActivityEnvironment().run(evaluateModel, {
      model,
      datasetVersionId: 'ds-eval',
      split,
      target: 'late',
      modelArtifactSha256,
      onnxSha256,
      contract: contractOf(candidate),
    });
    return evaluation;
  }

  it('retrains byte-identically, and records the binary threshold (not 0.5 here) in the contract', async () => {
    expect(exportOnnx(retrain)).toEqual(exportOnnx(first));
    expect(contractOf(first).threshold).toBe((first as { threshold?: number }).threshold);
    expect(contractOf(first).threshold).not.toBe(0.5);
  });

  it('gives an identical retrain the metrics of production, and the gate passes on every binary metric', async () => {
    await registerProduction('same-seed', contractOf(first));
    const evaluation = await evaluateRetrain('same-seed');
    expect(evaluation.production?.metrics).toEqual(evaluation.metrics);
    for (const compareMetric of Object.keys(taskMetrics.binary)) {
      const gate = gateSpecSchema.parse({ compareMetric });
      const decision = decideGate(gate, 'binary', evaluation.metrics, evaluation.production);
      expect(decision, compareMetric).toMatchObject({ passed: true });
    }
  });

  it('reads the threshold of a version registered before contracts carried it from its trained model', async () => {
    const { threshold: _threshold, ...contract } = contractOf(first);
    await registerProduction('old-contract', contract, await registry.artifacts.putJson(first));
    const evaluation = await evaluateRetrain('old-contract');
    expect(evaluation.production?.metrics).toEqual(evaluation.metrics);
  });
});
