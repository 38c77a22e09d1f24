import { createHash } from 'node:crypto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { compileMapper } from '../../src/data/mapping';
import { onnxFeedColumns } from '../../src/ml/onnx/feed-columns';
import type { Row } from '../../src/ml/row';
import { trainForTask } from '../../src/ml/train-for-task';
import { contractOf, exportOnnx, predictOutputs, type TrainedModel } from '../../src/ml/trained-model';
import { canonicalCategoriesOf, canonicalCategory } from '../../src/shared/category-spellings';
import { datasetSpecSchema } from '../../src/shared/dataset-spec';
import type { FeatureSpec } from '../../src/shared/feature-spec';
import { gbdtTrainerSchema, logisticTrainerSchema } from '../../src/shared/pipeline-input';

/**
 * No skew at serving: ingest canonicalises categorical text (trim; an enum's spellings, matched by
 * enumToken), and the exported graph does the same, so every raw spelling of the sources scores
 * exactly as its canonical value — through onnxruntime, for both model families.
 */

const dataset = datasetSpecSchema.parse({
  name: 'patients',
  sources: [
    {
      name: 'clinic-a',
      format: 'csv',
      path: 'a.csv',
      mapping: { sex: { from: 'sex', values: { M: 'male', F: 'female', 'Not Known': 'unknown' } } },
    },
    { name: 'clinic-b', format: 'csv', path: 'b.csv', mapping: { sex: { from: 'gender', values: { man: 'male', woman: 'female' } } } },
  ],
  columns: [
    { name: 'sex', type: 'string', enum: ['male', 'female', 'unknown'] },
    { name: 'city', type: 'string' },
    { name: 'age', type: 'number' },
    { name: 'sick', type: 'integer' },
  ],
});
const features: FeatureSpec[] = [
  { name: 'sex', kind: 'categorical' },
  { name: 'city', kind: 'categorical' },
  { name: 'age', kind: 'numeric' },
];
const table = canonicalCategoriesOf(dataset, features);

// Raw spellings as the sources may write them, with the canonical value ingest stores.
const spellings: [string, string][] = [
  ['MALE', 'male'],
  [' Male ', 'male'],
  ['m', 'male'],
  ['Man', 'male'],
  ['F', 'female'],
  ['\tWOMAN', 'female'],
  ['not known', 'unknown'],
  ['NOT-KNOWN', 'unknown'],
  ['not__known', 'unknown'],
  [' not - known ', 'unknown'],
  ['Unknown', 'unknown'],
];
const cities: [string, string][] = [
  ['  Paris ', 'Paris'],
  ['Lyon', 'Lyon'],
  [' Lyon', 'Lyon'],
];

function rows(n: number, seed: number): Row[] {
  let state = seed;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, () => {
    const sex = ['male', 'female', 'unknown'][Math.floor(next() * 3)];
    const city = ['Paris', 'Lyon', 'Nice'][Math.floor(next() * 3)];
    const age = 20 + next() * 60;
    const risk = (sex === 'male' ? 1 : sex === 'female' ? -1 : 0) + (city === 'Lyon' ? 0.8 : 0) + (age - 50) / 20;
    return { sex, city, age, sick: next() < 1 / (1 + Math.exp(-risk)) ? 1 : 0 };
  });
}

async function scores(model: TrainedModel, feed: readonly Row[]): Promise<Float32Array> {
  const inputs = contractOf(model).inputs;
  const session = await InferenceSession.create(exportOnnx(model));
  const columns = onnxFeedColumns(inputs, feed);
  const out = await session.run(
    Object.fromEntries(inputs.map(({ name, type }) => [name, new Tensor(type, columns[name], [feed.length, 1])])),
  );
  return out.probability.data as Float32Array;
}

const trainers = {
  'logistic regression': logisticTrainerSchema.parse({ kind: 'logistic-regression' }),
  gbdt: gbdtTrainerSchema.parse({
    kind: 'gbdt',
    params: { objective: 'binary', numTrees: 20, maxLeaves: 8, minSamplesLeaf: 5 },
    threads: 1,
  }),
};

describe('canonical categories at serving', () => {
  it("derives the spelling tables from the dataset spec: enum values and every source's spellings, plain text only trimmed", () => {
    expect(table).toEqual({
      sex: {
        tokens: {
          f: 'female',
          female: 'female',
          m: 'male',
          male: 'male',
          man: 'male',
          not_known: 'unknown',
          unknown: 'unknown',
          woman: 'female',
        },
      },
      city: { tokens: {} },
    });
    for (const [raw, canonical] of spellings) expect(canonicalCategory(raw, table.sex)).toBe(canonical);
    expect(canonicalCategory(' Nice ', table.city)).toBe('Nice');
    expect(canonicalCategory('NICE', table.city)).toBe('NICE');
  });

  it("keeps a feature's unknown-category policy, also where nothing is canonicalised (the flights recipe)", () => {
    const withPolicy: FeatureSpec[] = [
      { name: 'sex', kind: 'categorical', unknown: 'reject' },
      { name: 'city', kind: 'categorical', unknown: 'bucket' },
    ];
    expect(canonicalCategoriesOf(dataset, withPolicy)).toEqual({
      sex: { tokens: table.sex.tokens, unknown: 'reject' },
      city: { tokens: {} },
    });
    const flights = datasetSpecSchema.parse({
      name: 'f',
      recipe: 'flights',
      source: { format: 'parquet', path: 'vega-datasets:flights-3m.parquet' },
      period: { from: '2001-01-01', to: '2001-02-01' },
    });
    expect(
      canonicalCategoriesOf(flights, [
        { name: 'origin', kind: 'categorical', unknown: 'nearest' },
        { name: 'destination', kind: 'categorical' },
      ]),
    ).toEqual({
      origin: { tokens: {}, unknown: 'nearest' },
    });
  });

  it('canonicalises as ingest does: every spelling a source accepts becomes what ingest stores', () => {
    if (!('columns' in dataset)) throw new Error('a mapped dataset');
    const mappers = dataset.sources.map((source) =>
      compileMapper({ columns: dataset.columns, mapping: source.mapping }, source.name ?? 'source'),
    );
    for (const [raw] of spellings) {
      const stored = mappers
        .map((m, i) => m.map({ [i === 0 ? 'sex' : 'gender']: raw, city: '  Paris ', age: 40, sick: 0 }))
        .filter((o) => o.kind === 'row');
      expect(stored.length, raw).toBeGreaterThan(0);
      for (const outcome of stored) {
        expect(outcome.row.sex, raw).toBe(canonicalCategory(raw, table.sex));
        expect(outcome.row.city).toBe(canonicalCategory('  Paris ', table.city));
      }
    }
  });

  for (const [name, trainer] of Object.entries(trainers)) {
    it(`${name}: each raw spelling scores exactly as its canonical form through onnxruntime`, async () => {
      const trained = await trainForTask({
        task: 'binary',
        features,
        target: 'sick',
        trainer,
        train: rows(3000, 1),
        validation: rows(500, 2),
      });
      const model: TrainedModel = { ...trained, canonicalCategories: table };
      const raw: Row[] = [];
      const canonical: Row[] = [];
      for (const [sexRaw, sex] of spellings) {
        for (const [cityRaw, city] of cities) {
          raw.push({ sex: sexRaw, city: cityRaw, age: 40 });
          canonical.push({ sex, city, age: 40 });
        }
      }
      const fromRaw = await scores(model, raw);
      const fromCanonical = await scores(model, canonical);
      expect([...fromRaw]).toEqual([...fromCanonical]);
      // The canonical rows score as the in-process model does (the parity the pipeline checks).
      const inProcess = predictOutputs(model, canonical);
      fromCanonical.forEach((p, i) => expect(Math.abs(p - inProcess[i])).toBeLessThan(1e-5));
      // Without the tables the same raw spellings are unknown categories: the graph is what fixes it.
      const bare = await scores(trained, raw);
      expect([...bare]).not.toEqual([...fromCanonical]);
      // A value no spelling matches stays what it is (trimmed): unknown, as before.
      const [unknown] = await scores(model, [{ sex: ' martian ', city: 'Paris', age: 40 }]);
      const [unknownBare] = await scores(trained, [{ sex: 'martian', city: 'Paris', age: 40 }]);
      expect(unknown).toBe(unknownBare);
      // Missing and blank stay missing; an all-blank batch runs.
      const blanks = await scores(model, [
        { sex: '', city: '   ', age: 40 },
        { sex: '  ', city: '', age: 40 },
      ]);
      const missing = await scores(trained, [
        { sex: '', city: '', age: 40 },
        { sex: '', city: '', age: 40 },
      ]);
      expect([...blanks]).toEqual([...missing]);
      // Byte-identical export.
      const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
      expect(sha(exportOnnx(model))).toBe(sha(exportOnnx(JSON.parse(JSON.stringify(model)) as TrainedModel)));
    });
  }
});
