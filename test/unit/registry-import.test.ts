import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importOnnxModel, parseFeatureList } from '../../src/registry/import-onnx';
import { listModelVersions } from '../../src/registry/model-registry';
import { buildTinyLogisticOnnx, tinyLogisticProbability } from '../fixtures/tiny-logistic-onnx';
import { openTestRegistry, type TestRegistry, tinyOnnx, tinySpec } from './registry-fixtures';

const features = parseFeatureList('distance:float32, origin:string');

describe('importing an external ONNX model', () => {
  let registry: TestRegistry;
  beforeAll(async () => void (registry = await openTestRegistry('pglite')));
  afterAll(() => registry?.close());

  const importBytes = (bytes: Uint8Array, extra: Partial<Parameters<typeof importOnnxModel>[2]> = {}) =>
    importOnnxModel(registry.database.db, registry.artifacts, {
      model: 'external',
      bytes,
      fileName: 'model.onnx',
      features,
      creator: 'user:ana',
      ...extra,
    });

  it('validates by loading it and scoring a sample batch, then registers it; the same bytes again are the same version', async () => {
    const bytes = tinyOnnx(3);
    const result = await importBytes(bytes, { description: 'sklearn LR', tags: { framework: 'sklearn' }, metrics: { rocAuc: 0.71 } });
    expect(result.created).toBe(true);
    expect(result.version).toMatchObject({
      modelName: 'external',
      version: 1,
      source: 'import',
      creator: 'user:ana',
      description: 'sklearn LR',
      tags: { framework: 'sklearn' },
      metrics: { rocAuc: 0.71 },
      datasetVersionId: '',
      workflowId: '',
      contract: {
        inputs: [
          { name: 'distance', type: 'float32' },
          { name: 'origin', type: 'string' },
        ],
      },
    });
    expect(Buffer.from(await registry.artifacts.get(result.version.artifactSha256)).equals(Buffer.from(bytes))).toBe(true);
    // The sample batch really ran through the model.
    expect(result.sample.source).toBe('synthetic');
    if (result.sample.task !== 'binary') throw new Error(`expected a binary sample, got ${result.sample.task}`);
    expect(result.sample.probabilities[0]).toBeCloseTo(tinyLogisticProbability(tinySpec(3), { distance: 0, origin: 'a' }), 5);

    const again = await importBytes(bytes);
    expect(again.created).toBe(false);
    expect(again.version.id).toBe(result.version.id);
    expect(await listModelVersions(registry.database.db, 'external')).toHaveLength(1);
  });

  it.each([
    ['a text file', new TextEncoder().encode('hello, this is not a model at all'), /"model\.onnx" is not an ONNX model: it is plain text/],
    ['JSON', new TextEncoder().encode('{"weights": [1, 2]}'), /it is JSON text/],
    ['a Python pickle', Uint8Array.from([0x80, 0x04, 0x95, 0x10, 0, 0, 0]), /Python pickle .*skl2onnx/],
    ['a zip archive', Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]), /zip archive/],
    ['an empty file', new Uint8Array(), /is empty, not an ONNX model/],
    [
      'random bytes',
      Uint8Array.from({ length: 256 }, (_, i) => (i * 97 + 13) % 256),
      /is not a valid ONNX model: onnxruntime could not load it/,
    ],
  ])('refuses %s with a clear error and registers nothing', async (_case, bytes, message) => {
    await expect(importBytes(bytes, { model: 'junk' })).rejects.toThrow(message);
    expect(await listModelVersions(registry.database.db, 'junk')).toHaveLength(0);
  });

  it('refuses a model whose graph does not match the declared contract', async () => {
    await expect(
      importBytes(tinyOnnx(1), { model: 'mismatch', features: parseFeatureList('distance:float32,carrier:string') }),
    ).rejects.toThrow(/does not match the declared contract: the graph has no input "carrier"; graph input "origin" is not declared/);
    await expect(
      importBytes(tinyOnnx(1), { model: 'mismatch', features: parseFeatureList('distance:string,origin:string') }),
    ).rejects.toThrow(/input "distance" is a float32 tensor, declared string/);
    const noCategorical = buildTinyLogisticOnnx({ numeric: [{ name: 'x', weight: 1, mean: 0 }], categorical: [], bias: 0 });
    await expect(importBytes(noCategorical, { model: 'mismatch', features: parseFeatureList('x:float32') })).resolves.toMatchObject({
      created: true,
    });
  });

  it('rejects bad names and bad feature lists', async () => {
    await expect(importBytes(tinyOnnx(1), { model: 'a/b' })).rejects.toThrow(/path separators/);
    await expect(importBytes(tinyOnnx(1), { model: '..' })).rejects.toThrow(/path separators|"\.\."/);
    expect(() => parseFeatureList('distance')).toThrow(/write name:float32/);
    expect(() => parseFeatureList('distance:int8')).toThrow(/write name:float32/);
    expect(parseFeatureList('a:numeric,b:categorical')).toEqual([
      { name: 'a', type: 'float32' },
      { name: 'b', type: 'string' },
    ]);
  });
});
