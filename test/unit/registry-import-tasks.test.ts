import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatLineage } from '../../src/cli/model-version-text';
import { importOnnxModel, parseClassList, parseFeatureList, parseTask } from '../../src/registry/import-onnx';
import { describeVersion } from '../../src/registry/lineage';
import { listModelVersions, registerModelVersion } from '../../src/registry/model-registry';
import { modelContractSchema } from '../../src/shared/model-contract';
import { tinyMulticlassOnnx, tinyRegressionOnnx } from '../fixtures/tiny-task-onnx';
import { openTestRegistry, type TestRegistry, tinyOnnx } from './registry-fixtures';

describe('importing multiclass and regression ONNX models', () => {
  let registry: TestRegistry;
  beforeAll(async () => void (registry = await openTestRegistry('pglite')));
  afterAll(() => registry?.close());

  const importBytes = (bytes: Uint8Array, extra: Partial<Parameters<typeof importOnnxModel>[2]> = {}) =>
    importOnnxModel(registry.database.db, registry.artifacts, {
      model: 'external-task',
      bytes,
      fileName: 'model.onnx',
      features: parseFeatureList('x:float32'),
      creator: 'user:ana',
      ...extra,
    });

  it('registers a multiclass model with its classes: probabilities per class summing to 1, labels as class names', async () => {
    const result = await importBytes(tinyMulticlassOnnx(3), { model: 'weather', task: 'multiclass', classes: ['sun', 'rain', 'snow'] });
    expect(result.created).toBe(true);
    const contract = modelContractSchema.parse(result.version.contract);
    expect(contract).toMatchObject({
      task: 'multiclass',
      classes: ['sun', 'rain', 'snow'],
      outputs: [{ name: 'probabilities', shape: [-1, 3] }, { name: 'label' }],
    });
    if (result.sample.task !== 'multiclass') throw new Error('expected a multiclass sample');
    expect(result.sample.probabilities).toHaveLength(5);
    for (const row of result.sample.probabilities) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // x = 1000 (synthetic row 3): the logit of the last class (weight +1) dominates.
    expect(result.sample.labels[3]).toBe('snow');
    expect(result.sample.labels[2]).toBe('sun');
  });

  it('registers a regression model whose predictions are finite on every sample row', async () => {
    const result = await importBytes(tinyRegressionOnnx(), { model: 'delay', task: 'regression', metrics: { rmse: 12.5 } });
    expect(modelContractSchema.parse(result.version.contract)).toMatchObject({
      task: 'regression',
      outputs: [{ name: 'prediction', type: 'float32', shape: [-1, 1] }],
    });
    if (result.sample.task !== 'regression') throw new Error('expected a regression sample');
    // 2x + 1 over x = 0, 1, -1, 1000, missing (0).
    expect(result.sample.predictions).toEqual([1, 3, -1, 2001, 1]);
  });

  it('refuses outputs of the wrong task, unnormalised probabilities, labels beyond the classes and NaN predictions, registering nothing', async () => {
    await expect(
      importBytes(tinyOnnx(1), { model: 'wrong-task', task: 'regression', features: parseFeatureList('distance:float32,origin:string') }),
    ).rejects.toThrow(
      /does not match the declared contract: the graph has no output "prediction" \(a regression model outputs float32 \[N,1\]\)/,
    );
    await expect(importBytes(tinyRegressionOnnx(), { model: 'wrong-task', task: 'binary' })).rejects.toThrow(
      /the graph has no output "probability"/,
    );
    await expect(
      importBytes(tinyMulticlassOnnx(3, 'unnormalised'), { model: 'wrong-task', task: 'multiclass', classes: ['a', 'b', 'c'] }),
    ).rejects.toThrow(
      /failed the sample batch: output "probabilities" rows must sum to 1 \(row 0 sums to 1\.\d+\); is the last node a Softmax\?/,
    );
    await expect(importBytes(tinyMulticlassOnnx(3), { model: 'wrong-task', task: 'multiclass', classes: ['a', 'b'] })).rejects.toThrow(
      /output "probabilities" has 15 values for 5 rows \(expected shape \[N,2\]\)/,
    );
    await expect(importBytes(tinyRegressionOnnx('nan'), { model: 'wrong-task', task: 'regression' })).rejects.toThrow(
      /output "prediction" is not finite for sample row 2 \(NaN; inputs \{"x":-1\}\)/,
    );
    expect(await listModelVersions(registry.database.db, 'wrong-task')).toHaveLength(0);
  });

  it('checks --task and --classes, naming the value', async () => {
    expect(parseTask('regression')).toBe('regression');
    expect(() => parseTask('ranking')).toThrow('--task must be one of binary, multiclass, regression, got "ranking"');
    expect(parseClassList(' sun, rain ,snow')).toEqual(['sun', 'rain', 'snow']);
    expect(() => parseClassList('sun,sun')).toThrow('--classes "sun,sun" lists "sun" twice');
    expect(() => parseClassList('sun')).toThrow('--classes "sun" needs at least two classes');
    expect(() => parseClassList('sun,,rain')).toThrow('has an empty class name');
    await expect(importBytes(tinyMulticlassOnnx(3), { model: 'bad', task: 'multiclass' })).rejects.toThrow(
      /a multiclass model needs its classes: --classes a,b,c/,
    );
    await expect(importBytes(tinyRegressionOnnx(), { model: 'bad', task: 'regression', classes: ['a', 'b'] })).rejects.toThrow(
      '--classes is for multiclass models; this one is regression',
    );
    expect(parseFeatureList('when:datetime,holiday:boolean')).toEqual([
      { name: 'when', type: 'float64' },
      { name: 'holiday', type: 'string' },
    ]);
  });

  it('`models show` prints boolean and datetime features of the fitted pipeline as the graph applies them', async () => {
    const version = await registerModelVersion(registry.database.db, {
      modelName: 'kinds',
      idempotencyKey: 'kinds/1',
      artifactSha256: 'a'.repeat(64),
      artifactBytes: 10,
      contract: {
        task: 'binary',
        inputs: [{ name: 'distance', type: 'float32' }],
        outputs: [],
        treeEnsemble: { op: 'TreeEnsemble', mlOpset: 5, categoricalSplits: 'BRANCH_MEMBER' },
      },
      params: {},
      metrics: {},
      datasetVersionId: '',
      datasetHash: '',
      trainingRunId: '',
      gitCommit: null,
      gitDirty: null,
      workflowId: '',
      runId: '',
      creator: 'user:ana',
      featurePipeline: {
        width: 12,
        features: [
          { name: 'distance', kind: 'numeric', mean: 800, std: 300 },
          { name: 'origin', kind: 'categorical', categories: ['ATL', 'ORD'], encoding: 'ordinal' },
          { name: 'holiday', kind: 'boolean', share: 0.125 },
          {
            name: 'departure',
            kind: 'datetime',
            parts: [
              { part: 'hour', encoding: 'one-hot', values: [6, 7, 8, 9] },
              { part: 'month', encoding: 'numeric', mean: 6.5, std: 3.4 },
            ],
          },
          // Tree pipelines: numeric without statistics, booleans without a share, parts by name.
          { name: 'load', kind: 'numeric' },
          { name: 'wet', kind: 'boolean' },
          { name: 'arrival', kind: 'datetime', parts: ['weekday', 'year'] },
        ],
      },
      source: 'import',
    });
    const text = formatLineage(await describeVersion(registry.database.db, version, { temporalUi: 'http://ui', namespace: 'default' }));
    expect(text).toContain('  distance       numeric: impute mean 800, scale by std 300');
    expect(text).toContain('  origin         categorical: ordinal over 2 categories (ATL, ORD)');
    expect(text).toContain('  holiday        boolean: 1 true / 0 false, missing = 0.1250 (training share of true)');
    expect(text).toContain('  departure      datetime (UTC): hour one-hot over 4 values, month numeric');
    expect(text).toContain('  load           numeric: passed to the trees as is (missing stays missing)');
    expect(text).toContain('  wet            boolean: 1 true / 0 false, missing stays missing');
    expect(text).toContain('  arrival        datetime (UTC): weekday, year');
    expect(text).toContain('  trees       TreeEnsemble (ai.onnx.ml opset 5), native categorical splits as BRANCH_MEMBER');
    expect(text).not.toMatch(/0 categories/);
  });
});
