// The model server for every task: a regression and a multiclass GBDT (trained by src/ml, exported
// to ONNX with their feature pipelines, a timestamp input among them) served next to each other.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, inArray } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { feedback, predictionLog } from '../../src/db/schema';
import { fitGbdt, gbdtContract, type GbdtModel, predictGbdt, toGbdtTable } from '../../src/ml/gbdt';
import { exportGbdtOnnx } from '../../src/ml/onnx/export-gbdt';
import type { Row } from '../../src/ml/row';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { setAlias } from '../../src/registry/aliases';
import { type ModelServer, startModelServer } from '../../src/serving/http-server';
import { ModelPool } from '../../src/serving/model-pool';
import { versionHealth } from '../../src/serving/rollouts';
import { InferencePool } from '../../src/serving/inference-pool';
import { instancesToColumns } from '../../src/serving/predict';
import { responseJson } from '../fixtures/json';
import { registerOnnxVersion } from '../fixtures/register-onnx';
import type { ServerAnswer, V2ModelMetadata } from '../fixtures/serving-answers';

const REGRESSION = 'delay-minutes';
const MULTICLASS = 'delay-class';
const CLASSES = ['early', 'on time', 'late'];
const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);

/** Synthetic flights: the delay grows with distance, is larger from "ORD" and late in the day. */
function flights(n: number): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const distance = (i * 37) % 1000;
    const origin = ['ORD', 'SFO', 'LAX'][i % 3];
    const departure = START + (i % 60) * DAY + ((i * 7) % 24) * 3_600_000;
    const hour = new Date(departure).getUTCHours();
    const delay = distance / 20 + (origin === 'ORD' ? 15 : 0) + (hour >= 18 ? 10 : 0) - 20;
    rows.push({ distance, origin, departure: new Date(departure).toISOString(), delay, delayClass: delay < 0 ? 0 : delay < 20 ? 1 : 2 });
  }
  return rows;
}

const features = [
  { name: 'distance', kind: 'numeric' as const },
  { name: 'origin', kind: 'categorical' as const },
  { name: 'departure', kind: 'datetime' as const },
];

let dir: string;
let database: Database;
let artifacts: LocalArtifactStore;
let server: ModelServer;
let regression: GbdtModel;
let multiclass: GbdtModel;
const logger = pino({ level: 'silent' });

async function register(name: string, bytes: Uint8Array, contract: unknown, seed: number): Promise<number> {
  const row = await registerOnnxVersion({ database, artifacts }, name, bytes, { key: `test/${name}/${seed}`, contract });
  return row.version;
}

async function post(path: string, body: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await responseJson<ServerAnswer>(response) };
}

const rows = flights(600);
const instance = (row: Row) => ({ distance: row.distance, origin: row.origin, departure: row.departure });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-serving-tasks-'));
  database = await openDatabase({ dataDir: join(dir, 'db') });
  artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  const params = { numTrees: 15, maxLeaves: 8, minSamplesLeaf: 5 };
  regression = fitGbdt(toGbdtTable({ features, target: 'delay', params: { objective: 'regression', ...params }, train: rows }));
  multiclass = fitGbdt(toGbdtTable({ features, target: 'delayClass', params: { objective: 'multiclass', ...params }, train: rows }));
  const r = await register(REGRESSION, exportGbdtOnnx(regression), { ...gbdtContract(regression), task: 'regression' }, 1);
  const m = await register(
    MULTICLASS,
    exportGbdtOnnx(multiclass),
    { ...gbdtContract(multiclass), task: 'multiclass', classes: CLASSES },
    1,
  );
  for (const [model, version] of [
    [REGRESSION, r],
    [MULTICLASS, m],
  ] as const) {
    await setAlias(database.db, { model, alias: 'production', version, actor: 'test', reason: 'test' });
  }
  server = await startModelServer({ database, artifacts, port: 0, refreshMs: 0, logger, inferenceThreads: 2 });
});

afterAll(async () => {
  await server?.close();
  await database?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('regression model', () => {
  it('answers {id, prediction} per instance; a timestamp may be ISO 8601 text, milliseconds or null', async () => {
    const sent = rows.slice(0, 5).map(instance);
    sent[1] = { ...sent[1], departure: Date.parse(sent[1].departure as string) };
    sent[2] = { ...sent[2], departure: null };
    const { status, body } = await post(`/v1/models/${REGRESSION}:predict`, { instances: sent });
    expect(status).toBe(200);
    const expected = predictGbdt(regression, sent);
    expect(body.predictions).toHaveLength(5);
    body.predictions.forEach((p, i) => {
      expect(Object.keys(p)).toEqual(['id', 'prediction']);
      expect(p.prediction).toBeCloseTo(expected[i], 3);
    });
    // Milliseconds and the same instant as text give the same prediction.
    const asText = await post(`/v1/models/${REGRESSION}:predict`, { instances: [rows[1]].map(instance) });
    expect(asText.body.predictions[0].prediction).toBe(body.predictions[1].prediction);

    await server.logWriter.flush();
    const logged = await database.db
      .select()
      .from(predictionLog)
      .where(
        inArray(
          predictionLog.id,
          body.predictions.map((p) => p.id),
        ),
      );
    const byId = new Map(logged.map((row) => [row.id, row]));
    body.predictions.forEach((p, i) => {
      expect(byId.get(p.id)).toMatchObject({ modelName: REGRESSION, inputs: sent[i], outputs: { prediction: p.prediction } });
    });
  });

  it.each([
    { departure: 'yesterday', message: /instances\[0\]\.departure must be a timestamp: an ISO 8601 string/ },
    { departure: '2024-13-01', message: /instances\[0\]\.departure must be a timestamp/ },
    { departure: true, message: /instances\[0\]\.departure must be a timestamp.*got true/ },
    { departure: 1e20, message: /instances\[0\]\.departure is outside the timestamp range/ },
  ])('answers a bad timestamp ($departure) with a 400 naming instance and field', async ({ departure, message }) => {
    const { status, body } = await post(`/v1/models/${REGRESSION}:predict`, { instances: [{ ...instance(rows[0]), departure }] });
    expect(status).toBe(400);
    expect(body.error).toMatch(message);
  });

  it('speaks OIP v2: FP64 timestamps in, prediction FP32 [N,1] out, metadata listing both', async () => {
    const meta = await fetch(`${server.url}/v2/models/${REGRESSION}`).then((r) => responseJson<V2ModelMetadata>(r));
    expect(meta.inputs).toEqual([
      { name: 'distance', datatype: 'FP32', shape: [-1, 1] },
      { name: 'origin', datatype: 'BYTES', shape: [-1, 1] },
      { name: 'departure', datatype: 'FP64', shape: [-1, 1] },
    ]);
    expect(meta.outputs).toEqual([
      { name: 'prediction', datatype: 'FP32', shape: [-1, 1] },
      { name: 'prediction_id', datatype: 'BYTES', shape: [-1, 1] },
    ]);
    const two = rows.slice(10, 12);
    const { status, body } = await post(`/v2/models/${REGRESSION}/infer`, {
      inputs: [
        { name: 'distance', datatype: 'FP32', shape: [2, 1], data: two.map((r) => r.distance) },
        { name: 'origin', datatype: 'BYTES', shape: [2, 1], data: two.map((r) => r.origin) },
        { name: 'departure', datatype: 'FP64', shape: [2], data: two.map((r) => Date.parse(r.departure as string)) },
      ],
    });
    expect(status).toBe(200);
    const expected = predictGbdt(regression, two);
    expect(body.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['prediction', 'FP32', [2, 1]],
      ['prediction_id', 'BYTES', [2, 1]],
    ]);
    body.outputs[0].data.forEach((y: number, i: number) => expect(y).toBeCloseTo(expected[i], 3));

    const wrong = (departure: Record<string, unknown>, outputs?: unknown) =>
      post(`/v2/models/${REGRESSION}/infer`, {
        inputs: [
          { name: 'distance', datatype: 'FP32', shape: [1], data: [1] },
          { name: 'origin', datatype: 'BYTES', shape: [1], data: ['ORD'] },
          { name: 'departure', shape: [1], ...departure },
        ],
        ...(outputs !== undefined && { outputs }),
      });
    expect((await wrong({ datatype: 'BYTES', data: ['2024-01-01'] })).body.error).toMatch(
      /input "departure" is a timestamp: its datatype is FP64/,
    );
    expect((await wrong({ datatype: 'FP64', data: [9e15] })).body.error).toMatch(
      /input "departure" data\[0\] is outside the timestamp range/,
    );
    expect((await wrong({ datatype: 'FP64', data: ['2024-01-01'] })).body.error).toMatch(
      /input "departure" data\[0\] must be a number \(FP64\)/,
    );
    const byInt = await wrong({ datatype: 'INT64', data: [START] });
    expect(byInt.status).toBe(200);
    const unknown = await wrong({ datatype: 'FP64', data: [START] }, [{ name: 'probability' }]);
    expect(unknown).toEqual({
      status: 400,
      body: { error: expect.stringMatching(/unknown output "probability" \(outputs of this model: prediction, prediction_id\)/) },
    });
  });

  it('takes a number as feedback, and refuses a label', async () => {
    const { body } = await post(`/v1/models/${REGRESSION}:predict`, { instances: [instance(rows[3])] });
    const id = body.predictions[0].id;
    // Sent at once: the prediction may still be in the log queue; the server flushes it first.
    expect(await post('/v1/feedback', { prediction_id: id, value: 12.5 })).toEqual({ status: 200, body: { recorded: 1 } });
    expect(await database.db.select().from(feedback).where(eq(feedback.predictionId, id))).toEqual([
      expect.objectContaining({ label: null, value: 12.5 }),
    ]);
    const label = await post('/v1/feedback', { prediction_id: id, label: 1 });
    expect(label).toEqual({
      status: 400,
      body: { error: expect.stringMatching(/a regression model: send its observed "value" \(a number\), not a "label"/) },
    });
  });
});

describe('multiclass model', () => {
  it('answers {id, label: class, probabilities: {class: p}} per instance', async () => {
    const sent = rows.slice(20, 26).map(instance);
    const { status, body } = await post(`/v1/models/${MULTICLASS}:predict`, { instances: sent });
    expect(status).toBe(200);
    const expected = predictGbdt(multiclass, sent);
    body.predictions.forEach((p, i) => {
      expect(Object.keys(p)).toEqual(['id', 'label', 'probabilities']);
      expect(Object.keys(p.probabilities)).toEqual(CLASSES);
      CLASSES.forEach((c, k) => expect(p.probabilities[c]).toBeCloseTo(expected[i * 3 + k], 5));
      const best = CLASSES.reduce((a, b) => (p.probabilities[b] > p.probabilities[a] ? b : a));
      expect(p.label).toBe(best);
    });

    await server.logWriter.flush();
    const [logged] = await database.db.select().from(predictionLog).where(eq(predictionLog.id, body.predictions[0].id));
    expect(logged.outputs).toEqual({
      label: body.predictions[0].label,
      probabilities: CLASSES.map((c) => body.predictions[0].probabilities[c]),
    });
  });

  it('splits a micro-batch of concurrent requests back per row, K probabilities each', async () => {
    const sent = rows.slice(100, 160).map(instance);
    const expected = predictGbdt(multiclass, sent);
    const contract = { ...gbdtContract(multiclass), task: 'multiclass' as const, classes: CLASSES };
    const batches: number[] = [];
    const inference = await InferencePool.create({ logger, threads: 1, onBatch: (_key, _rows, requests) => batches.push(requests) });
    try {
      await inference.load('m', exportGbdtOnnx(multiclass), {
        inputs: contract.inputs,
        outputs: [
          { name: 'probabilities', type: 'float32', width: 3 },
          { name: 'label', type: 'int64', width: 1 },
        ],
      });
      // Requests of 1, 2 and 3 rows, submitted in one turn: one batch, answered each with its own rows.
      const requests: { start: number; size: number }[] = [];
      for (let start = 0, size = 1; start < sent.length; start += size, size = (size % 3) + 1)
        requests.push({ start, size: Math.min(size, sent.length - start) });
      const replies = await Promise.all(
        requests.map(({ start, size }) => inference.submit('m', instancesToColumns(contract, sent.slice(start, start + size)), size)),
      );
      expect(batches).toEqual([requests.length]);
      replies.forEach((reply, r) => {
        const { start, size } = requests[r];
        expect(reply.probabilities).toHaveLength(size * 3);
        expect(reply.label).toHaveLength(size);
        reply.probabilities.forEach((p, j) => expect(p).toBeCloseTo(expected[start * 3 + j], 5));
      });
    } finally {
      await inference.close();
    }
  });

  it('speaks OIP v2: probabilities FP32 [N,K] and label INT64 [N,1] (the class index)', async () => {
    const meta = await fetch(`${server.url}/v2/models/${MULTICLASS}`).then((r) => responseJson<V2ModelMetadata>(r));
    expect(meta.outputs).toEqual([
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      { name: 'label', datatype: 'INT64', shape: [-1, 1] },
      { name: 'prediction_id', datatype: 'BYTES', shape: [-1, 1] },
    ]);
    const two = rows.slice(30, 32);
    const { status, body } = await post(`/v2/models/${MULTICLASS}/infer`, {
      inputs: [
        { name: 'distance', datatype: 'FP64', shape: [2, 1], data: two.map((r) => r.distance) },
        { name: 'origin', datatype: 'BYTES', shape: [2, 1], data: two.map((r) => r.origin) },
        { name: 'departure', datatype: 'FP64', shape: [2, 1], data: [[Date.parse(two[0].departure as string)], [null]] },
      ],
      outputs: [{ name: 'label' }, { name: 'probabilities' }],
    });
    expect(status).toBe(200);
    const [label, probabilities] = body.outputs;
    expect(label).toMatchObject({ name: 'label', datatype: 'INT64', shape: [2, 1] });
    expect(probabilities).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [2, 3] });
    const expected = predictGbdt(multiclass, [two[0], { ...two[1], departure: null }]);
    probabilities.data.forEach((p: number, i: number) => expect(p).toBeCloseTo(expected[i], 5));
    for (let row = 0; row < 2; row++) {
      const ps = probabilities.data.slice(row * 3, row * 3 + 3);
      expect(label.data[row]).toBe(ps.indexOf(Math.max(...ps)));
    }
  });

  it('takes a class name as feedback (stored as its index), and refuses anything else', async () => {
    const { body } = await post(`/v1/models/${MULTICLASS}:predict`, { instances: [instance(rows[40])] });
    const id = body.predictions[0].id;
    expect((await post('/v1/feedback', { prediction_id: id, label: 'late' })).status).toBe(200);
    expect(await database.db.select().from(feedback).where(eq(feedback.predictionId, id))).toEqual([
      expect.objectContaining({ label: 2, value: null }),
    ]);
    const unknown = await post('/v1/feedback', { prediction_id: id, label: 'cancelled' });
    expect(unknown).toEqual({
      status: 400,
      body: {
        error: expect.stringMatching(
          /a multiclass model: "label" must be one of its classes \("early", "on time", "late"\), got "cancelled"/,
        ),
      },
    });
    expect((await post('/v1/feedback', { prediction_id: id, value: 2 })).body.error).toMatch(/must be one of its classes .*got a "value"/);
  });
});

describe('rollout health', () => {
  it('judges multiclass accuracy by class: the logged name against the feedback index', async () => {
    const model = 'accuracy-multiclass';
    const version = await register(
      model,
      exportGbdtOnnx(multiclass),
      { ...gbdtContract(multiclass), task: 'multiclass', classes: CLASSES },
      3,
    );
    const at = new Date();
    const id = (n: number) => `0190a5b8-0000-7000-8000-${String(n).padStart(12, '0')}`;
    const logged = ['late', 'early', 'on time', 'late'];
    await database.db.insert(predictionLog).values(
      logged.map((label, n) => ({
        id: id(n),
        modelName: model,
        version,
        inputs: {},
        outputs: { label, probabilities: [0.2, 0.3, 0.5] },
        latencyMs: 1,
        createdAt: at,
      })),
    );
    // Truth: late (right), on time (wrong), on time (right); the fourth has no feedback.
    await database.db.insert(feedback).values([2, 1, 1].map((label, n) => ({ predictionId: id(n), label })));
    const health = await versionHealth(database.db, model, version, false, {
      from: new Date(at.getTime() - 1000),
      to: new Date(at.getTime() + 1000),
    });
    expect(health).toMatchObject({ rows: 4, labelled: 3, accuracy: 2 / 3 });
  });
});

describe('contract check', () => {
  it('refuses a multiclass version whose graph outputs another number of classes than its contract lists', async () => {
    const contract = gbdtContract(multiclass);
    const twoClasses = {
      ...contract,
      task: 'multiclass',
      classes: ['no', 'yes'],
      outputs: contract.outputs.map((o) => (o.name === 'probabilities' ? { ...o, shape: [-1, 2] } : o)),
    };
    const version = await register('mislabelled', exportGbdtOnnx(multiclass), twoClasses, 2);
    await setAlias(database.db, { model: 'mislabelled', alias: 'production', version, actor: 'test', reason: 'test' });
    const inference = await InferencePool.create({ logger, threads: 0 });
    const pool = await ModelPool.open({ database, artifacts, inference, logger, models: ['mislabelled'], refreshMs: 0 });
    try {
      expect(pool.get('mislabelled')).toBeUndefined();
      expect(pool.refusal('mislabelled')?.error).toMatch(/graph output "probabilities" has width 3, the contract says 2/);
    } finally {
      await pool.close();
      await inference.close();
    }
  });
});
