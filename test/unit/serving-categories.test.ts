// The model server and categorical text: raw spellings score as their canonical values (the graph
// canonicalises), unknown values are counted per model, version and feature in /metrics, and each
// feature's policy (bucket, reject, nearest) is applied.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { fitGbdt, gbdtContract, toGbdtTable } from '../../src/ml/gbdt';
import type { Row } from '../../src/ml/row';
import { exportOnnx } from '../../src/ml/trained-model';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { setAlias } from '../../src/registry/aliases';
import type { CanonicalCategories } from '../../src/shared/category-spellings';
import { type ModelServer, startModelServer } from '../../src/serving/http-server';
import { registerOnnxVersion } from '../fixtures/register-onnx';
import { responseJson } from '../fixtures/json';
import type { ServerAnswer } from '../fixtures/serving-answers';

const BUCKET = 'patients-bucket';
const POLICIES = 'patients-policies';
const sexTokens = { f: 'female', female: 'female', m: 'male', male: 'male', not_known: 'unknown', unknown: 'unknown' };

function patients(n: number): Row[] {
  return Array.from({ length: n }, (_, i) => {
    const sex = ['male', 'female', 'unknown'][i % 3];
    const city = ['Paris', 'Lyon', 'Nice'][Math.floor(i / 3) % 3];
    const age = 20 + ((i * 37) % 60);
    return { sex, city, age, sick: (sex === 'male' ? 30 : 0) + (city === 'Lyon' ? 20 : 0) + age > 70 ? 1 : 0 };
  });
}

let dir: string;
let database: Database;
let server: ModelServer;

async function post(model: string, instances: unknown[]) {
  const response = await fetch(`${server.url}/v1/models/${model}:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances }),
  });
  return { status: response.status, body: await responseJson<ServerAnswer>(response) };
}
const probabilities = (body: ServerAnswer) => body.predictions.map((p) => p.probability);

async function unknownCount(model: string, feature: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`keel_unknown_category_values_total{model="${model}",version="1",feature="${feature}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-serving-categories-'));
  database = await openDatabase({ dataDir: join(dir, 'db') });
  const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  const features = [
    { name: 'sex', kind: 'categorical' as const },
    { name: 'city', kind: 'categorical' as const },
    { name: 'age', kind: 'numeric' as const },
  ];
  const trained = fitGbdt(
    toGbdtTable({
      features,
      target: 'sick',
      params: { objective: 'binary', numTrees: 15, maxLeaves: 8, minSamplesLeaf: 5 },
      train: patients(900),
    }),
  );
  const tables: Record<string, CanonicalCategories> = {
    [BUCKET]: { sex: { tokens: sexTokens }, city: { tokens: {} } },
    [POLICIES]: { sex: { tokens: sexTokens, unknown: 'reject' }, city: { tokens: {}, unknown: 'nearest' } },
  };
  for (const [name, table] of Object.entries(tables)) {
    const bytes = exportOnnx({ ...trained, canonicalCategories: table });
    const row = await registerOnnxVersion({ database, artifacts }, name, bytes, {
      key: `test/${name}`,
      contract: { ...gbdtContract(trained), task: 'binary' },
    });
    await setAlias(database.db, { model: name, alias: 'production', version: row.version, actor: 'test', reason: 'test' });
  }
  server = await startModelServer({ database, artifacts, port: 0, refreshMs: 0, logger: pino({ level: 'silent' }), inferenceThreads: 1 });
});

afterAll(async () => {
  await server?.close();
  await database?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('categorical text at the model server', () => {
  it('scores every raw spelling as its canonical value, and counts what is still unknown (bucket)', async () => {
    const raw = await post(BUCKET, [
      { sex: 'MALE', city: ' Lyon ', age: 50 },
      { sex: ' f ', city: 'Paris', age: 50 },
      { sex: 'Not-Known', city: 'Nice', age: 50 },
    ]);
    const canonical = await post(BUCKET, [
      { sex: 'male', city: 'Lyon', age: 50 },
      { sex: 'female', city: 'Paris', age: 50 },
      { sex: 'unknown', city: 'Nice', age: 50 },
    ]);
    expect(raw.status).toBe(200);
    expect(probabilities(raw.body)).toEqual(probabilities(canonical.body));
    expect(await unknownCount(BUCKET, 'sex')).toBe(0);

    const unknown = await post(BUCKET, [
      { sex: 'martian', city: 'Lyon', age: 50 },
      { sex: 'venusian', city: 'Tokyo', age: 50 },
      { sex: null, city: '', age: 50 },
    ]);
    expect(unknown.status).toBe(200);
    expect(await unknownCount(BUCKET, 'sex')).toBe(2);
    expect(await unknownCount(BUCKET, 'city')).toBe(1);
  });

  it('reject: answers 422 naming the feature and the value, and counts it', async () => {
    const { status, body } = await post(POLICIES, [
      { sex: 'male', city: 'Lyon', age: 50 },
      { sex: 'Martian', city: 'Lyon', age: 50 },
    ]);
    expect(status).toBe(422);
    expect(JSON.stringify(body)).toContain('instances[1].sex: unknown category \\"Martian\\"');
    expect(await unknownCount(POLICIES, 'sex')).toBe(1);
    // Known spellings are not unknown.
    expect((await post(POLICIES, [{ sex: 'M', city: 'Lyon', age: 50 }])).status).toBe(200);
  });

  it('nearest: a misspelt category scores as the nearest known one; a far one stays unknown', async () => {
    const near = await post(POLICIES, [
      { sex: 'male', city: 'Pariss', age: 50 },
      { sex: 'male', city: 'lyon', age: 50 },
    ]);
    const exact = await post(POLICIES, [
      { sex: 'male', city: 'Paris', age: 50 },
      { sex: 'male', city: 'Lyon', age: 50 },
    ]);
    expect(probabilities(near.body)).toEqual(probabilities(exact.body));
    const far = await post(POLICIES, [{ sex: 'male', city: 'Tokyo', age: 50 }]);
    const bucketed = await post(BUCKET, [{ sex: 'male', city: 'Tokyo', age: 50 }]);
    expect(probabilities(far.body)).toEqual(probabilities(bucketed.body));
    expect(await unknownCount(POLICIES, 'city')).toBe(3);
  });
});
