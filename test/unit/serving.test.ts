import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inArray } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { predictionLog } from '../../src/db/schema';
import { LocalArtifactStore, type ArtifactStore } from '../../src/registry/artifact-store';
import { setAlias } from '../../src/registry/aliases';
import { type ModelServer, startModelServer } from '../../src/serving/http-server';
import { InferencePool } from '../../src/serving/inference-pool';
import { ModelPool } from '../../src/serving/model-pool';
import { instancesToColumns } from '../../src/serving/predict';
import { logLine, type PredictionLogEntry } from '../../src/serving/log-line';
import { databaseSink, PredictionLogWriter } from '../../src/serving/prediction-log';
import { buildTinyLogisticOnnx, type TinyLogisticSpec, tinyLogisticProbability } from '../fixtures/tiny-logistic-onnx';
import { registerOnnxVersion, TINY_CONTRACT } from '../fixtures/register-onnx';
import { parseJson, responseJson } from '../fixtures/json';
import type { ServerAnswer } from '../fixtures/serving-answers';

const MODEL = 'flights';
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Distinct weights per version, so every version has distinct bytes and distinct outputs. */
function specFor(seed: number): TinyLogisticSpec {
  return {
    numeric: [{ name: 'distance', weight: 0.001 * seed, mean: 800 }],
    categorical: [{ name: 'origin', weights: { SFO: 0.4 * seed, LAX: -0.6 } }],
    bias: -1 + 0.1 * seed,
  };
}

const CONTRACT = TINY_CONTRACT;

let dir: string;
let database: Database;
let artifacts: ArtifactStore;
let server: ModelServer;
const logLines: Record<string, unknown>[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(parseJson(line)) });

async function registerVersion(seed: number, { model = MODEL, contract = CONTRACT } = {}): Promise<{ version: number; sha: string }> {
  const row = await registerOnnxVersion({ database, artifacts }, model, buildTinyLogisticOnnx(specFor(seed)), {
    key: `test/${model}/${seed}`,
    contract,
  });
  return { version: row.version, sha: row.artifactSha256 };
}

/** Points production at a version, as a deployment does. */
async function promote(version: number, model = MODEL): Promise<void> {
  await setAlias(database.db, { model, alias: 'production', version, actor: 'test', reason: 'test' });
}

async function call(path: string, init?: { method?: string; body?: string }) {
  const response = await fetch(`${server.url}${path}`, {
    method: init?.method ?? (init?.body === undefined ? 'GET' : 'POST'),
    headers: init?.body === undefined ? {} : { 'content-type': 'application/json' },
    body: init?.body,
  });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return { status: response.status, body: await responseJson<ServerAnswer>(response) };
}

/** A POST that sends its headers and half its body now, and the rest on finish(). */
function slowRequest(url: string, body: string) {
  let finish!: () => void;
  const promise = new Promise<{ status: number; connection?: string; text: string }>((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, text }));
    });
    req.write(body.slice(0, 10));
    finish = () => req.end(body.slice(10));
  });
  return { promise, finish };
}

const predictPath = `/v1/models/${MODEL}:predict`;
const predictBody = (instances: unknown) => JSON.stringify({ instances });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-serving-'));
  database = await openDatabase({ dataDir: join(dir, 'db') });
  artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  await promote((await registerVersion(1)).version);
  // Background refresh off: these tests move the alias and refresh explicitly.
  server = await startModelServer({ database, artifacts, port: 0, refreshMs: 0, maxBodyBytes: 100_000, logger });
});

afterAll(async () => {
  await server?.close();
  await database?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('model server', () => {
  it('reports health and the served models', async () => {
    expect(await call('/healthz')).toEqual({ status: 200, body: { status: 'ok', models: 1 } });
    const list = await call('/v1/models');
    expect(list.body.models).toEqual([{ name: MODEL, version: 1, loadedAt: expect.any(String) }]);
    const one = await call(`/v1/models/${MODEL}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ name: MODEL, version: 1, contract: CONTRACT, loaded: true });
    expect(await call('/v1/models/nope')).toEqual({
      status: 404,
      body: { error: expect.stringContaining('"nope" is not served') },
    });
  });

  it('predicts raw rows and logs every prediction under the same id', async () => {
    const instances = [
      { distance: 300, origin: 'SFO' },
      { distance: null, origin: null }, // missing values: imputed by the graph
      { distance: 2500, origin: 'XYZ' }, // an unseen category
      { distance: 1200, origin: 7 }, // a categorical given a number: encoded as "7"
    ];
    const { status, body } = await call(predictPath, { body: predictBody(instances) });
    expect(status).toBe(200);
    expect(body.model).toBe(MODEL);
    expect(body.version).toBe(1);
    expect(body.predictions).toHaveLength(instances.length);
    body.predictions.forEach((p, i) => {
      const expected = tinyLogisticProbability(specFor(1), instances[i]);
      expect(p.id).toMatch(UUID_V7);
      expect(p.probability).toBeCloseTo(expected, 6);
      expect(p.label).toBe(expected > 0.5 ? 1 : 0);
    });

    await server.logWriter.flush();
    const ids = body.predictions.map((p) => p.id);
    const rows = await database.db.select().from(predictionLog).where(inArray(predictionLog.id, ids));
    const byId = new Map(rows.map((r) => [r.id, r]));
    body.predictions.forEach((p, i) => {
      expect(byId.get(p.id)).toMatchObject({
        modelName: MODEL,
        version: 1,
        inputs: instances[i],
        outputs: { probability: p.probability, label: p.label },
      });
      expect(byId.get(p.id)!.latencyMs).toBeGreaterThanOrEqual(0);
    });
    expect(server.logWriter.stats()).toMatchObject({ queued: 0, dropped: 0, failedFlushes: 0, leftInSpool: 0, replayed: 0 });
  });

  it('refuses instances whose strings the log cannot store as sent, naming the feature', async () => {
    const before = server.logWriter.stats().written;
    const { status, body } = await call(predictPath, { body: predictBody([{ distance: 1, origin: 'a\u0000b\ud800' }]) });
    expect(status).toBe(400);
    expect(body.error).toMatch(/instances\[0\]\.origin contains a NUL character/);
    await server.logWriter.flush();
    expect(server.logWriter.stats()).toMatchObject({ written: before, failedFlushes: 0 });
  });

  it.each([
    { case: 'invalid JSON', body: '{"instances": [', status: 400, message: /invalid JSON body/ },
    { case: 'a body that is not an object', body: '[1, 2]', status: 400, message: /"instances"/ },
    {
      case: 'an unknown top-level field',
      body: '{"instances": [], "instance": []}',
      status: 400,
      message: /unknown field "instance" \(did you mean instances\?\)/,
    },
    {
      case: 'instances that are not an array',
      body: '{"instances": {"distance": 1}}',
      status: 400,
      message: /"instances" must be an array/,
    },
    { case: 'an empty batch', body: predictBody([]), status: 400, message: /"instances" is empty/ },
    { case: 'an instance that is not an object', body: predictBody([5]), status: 400, message: /instances\[0\] must be an object.*got 5/ },
    { case: 'a missing feature', body: predictBody([{ origin: 'SFO' }]), status: 400, message: /instances\[0\]\.distance is missing/ },
    {
      case: 'an unknown feature',
      body: predictBody([
        { distance: 1, origin: 'SFO' },
        { distance: 1, origin: 'SFO', colour: 'red' },
      ]),
      status: 400,
      message: /instances\[1\]\.colour is not a feature of this model \(features: distance, origin\)/,
    },
    {
      case: 'a number given as a string',
      body: predictBody([{ distance: '12', origin: 'SFO' }]),
      status: 400,
      message: /instances\[0\]\.distance must be a number or null, got "12"/,
    },
    {
      case: '"NaN" for a number',
      body: predictBody([{ distance: 'NaN', origin: 'SFO' }]),
      status: 400,
      message: /instances\[0\]\.distance must be a number or null, got "NaN"/,
    },
    {
      case: 'a number beyond float32',
      body: predictBody([{ distance: 1e39, origin: 'SFO' }]),
      status: 400,
      message: /instances\[0\]\.distance is outside the float32 range/,
    },
    {
      case: 'an object for a category',
      body: predictBody([{ distance: 1, origin: { a: 1 } }]),
      status: 400,
      message: /instances\[0\]\.origin must be a string.*got \{"a":1\}/,
    },
    {
      case: 'an array for a category',
      body: predictBody([{ distance: 1, origin: ['SFO'] }]),
      status: 400,
      message: /instances\[0\]\.origin must be a string.*got \["SFO"\]/,
    },
    {
      case: 'a body over the size limit',
      body: predictBody(Array.from({ length: 5000 }, () => ({ distance: 1, origin: 'SFO' }))),
      status: 413,
      message: /exceeds the limit of 100000 bytes/,
    },
  ])('answers $case with $status naming the problem', async ({ body, status, message }) => {
    const reply = await call(predictPath, { body });
    expect(reply.status).toBe(status);
    expect(reply.body.error).toMatch(message);
  });

  it('answers unknown models, routes and methods, and stays up after bad input', async () => {
    expect((await call('/v1/models/nope:predict', { body: predictBody([{}]) })).status).toBe(404);
    expect((await call('/v2/anything')).status).toBe(404);
    const wrongMethod = await fetch(`${server.url}${predictPath}`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    // A body far over the limit, streamed without a Content-Length: cut off mid-stream.
    const chunks = new ReadableStream({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode(' '.repeat(64 * 1024)));
      },
    });
    const huge = await fetch(`${server.url}${predictPath}`, { method: 'POST', body: chunks, duplex: 'half' });
    expect(huge.status).toBe(413);
    expect((await call(predictPath, { body: predictBody([{ distance: 1, origin: 'SFO' }]) })).status).toBe(200);
  });

  it('refuses a version whose artifact is corrupt and keeps serving the previous one', async () => {
    const { version, sha } = await registerVersion(2);
    await writeFile(artifacts.pathOf(sha), 'not an onnx model');
    await promote(version);

    const { status, body } = await call('/v1/admin/refresh', { method: 'POST' });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      loaded: [],
      refused: [{ model: MODEL, version, role: 'baseline', servingVersion: 1, error: expect.stringContaining('corrupted') }],
    });
    expect(logLines).toContainEqual(
      expect.objectContaining({ level: 50, model: MODEL, version, msg: expect.stringContaining('refused to load') }),
    );
    const info = await call(`/v1/models/${MODEL}`);
    expect(info.body).toMatchObject({ version: 1, refused: { version } });
    expect((await call(predictPath, { body: predictBody([{ distance: 1, origin: 'SFO' }]) })).body.version).toBe(1);
  });

  it('hot-swaps to a new production version without a restart; in-flight requests keep their session', async () => {
    const lease = server.pool.acquire(MODEL)!;
    expect(lease.model.version).toBe(1);

    const { version } = await registerVersion(3);
    await promote(version);
    const refreshed = await call('/v1/admin/refresh', { method: 'POST' });
    expect(refreshed.body.loaded).toEqual([{ model: MODEL, version, role: 'baseline', previousVersion: 1 }]);

    // The request that leased version 1 before the swap still runs on it (in every thread)...
    const row = { distance: 640, origin: 'SFO' };
    const feeds = instancesToColumns(lease.model.contract, [row]);
    const olds = await Promise.all([1, 2, 3, 4].map(() => server.inference.submit(lease.model.key, feeds, 1)));
    for (const old of olds) expect(old.probability[0]).toBeCloseTo(tinyLogisticProbability(specFor(1), row), 6);
    // ...and new requests get the new version.
    const { body } = await call(predictPath, { body: predictBody([row]) });
    expect(body.version).toBe(version);
    expect(body.predictions[0].probability).toBeCloseTo(tinyLogisticProbability(specFor(3), row), 6);

    // The retired version is unloaded with its last lease.
    lease.release();
    await expect(server.inference.submit(lease.model.key, feeds, 1)).rejects.toThrow(/not loaded/);
  });

  it('finishes a request that was in flight during a hot swap on the version it started with', async () => {
    const before = server.pool.get(MODEL)!.version;
    const row = { distance: 900, origin: 'LAX' };
    const body = predictBody([row]);
    expect(before).toBe(3);
    const { promise, finish } = slowRequest(`${server.url}${predictPath}`, body);
    // The server has the request (and its lease) once the headers and half the body arrived.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { version } = await registerVersion(6);
    await promote(version);
    expect((await call('/v1/admin/refresh', { method: 'POST' })).body.loaded).toEqual([
      { model: MODEL, version, role: 'baseline', previousVersion: before },
    ]);
    finish();
    const reply = await promise;
    expect(reply.status).toBe(200);
    const answered = parseJson<ServerAnswer>(reply.text);
    expect(answered.version).toBe(before);
    expect(answered.predictions[0].probability).toBeCloseTo(tinyLogisticProbability(specFor(3), row), 6);
    expect((await call(predictPath, { body })).body.version).toBe(version);
  });

  it('drops no request while versions swap back and forth under concurrent load', async () => {
    const a = server.pool.get(MODEL)!.version;
    const { version: b } = await registerVersion(7);
    const statuses: number[] = [];
    let stop = false;
    const client = async () => {
      while (!stop) {
        const response = await fetch(`${server.url}${predictPath}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: predictBody([{ distance: 10, origin: 'SFO' }]),
        });
        statuses.push(response.status);
        await response.arrayBuffer();
      }
    };
    const clients = Array.from({ length: 16 }, client);
    for (let i = 0; i < 6; i++) {
      await promote(i % 2 === 0 ? b : a);
      await server.pool.refresh();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    stop = true;
    await Promise.all(clients);
    expect(statuses.length).toBeGreaterThan(50);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(server.pool.get(MODEL)!.version).toBe(a);
  });

  it('replaces a crashed inference thread; the server keeps answering', async () => {
    await server.inference.crashThreadForTest(0);
    await vi.waitFor(() => expect(server.inference.stats()).toMatchObject({ restarts: 1 }), { timeout: 10_000 });
    const replies = await Promise.all(
      Array.from({ length: 8 }, () => call(predictPath, { body: predictBody([{ distance: 5, origin: 'SFO' }]) })),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(8).fill(200));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^keel_inference_thread_restarts_total 1$/m);
    // Every batch so far ran somewhere: the two counts add up to the batches the pool ran.
    const { inlineBatches, threadBatches } = server.inference.stats();
    expect(threadBatches).toBeGreaterThan(0);
    expect(metrics).toMatch(new RegExp(`^keel_inference_batches_total\\{where="inline"\\} ${inlineBatches}$`, 'm'));
    expect(metrics).toMatch(new RegExp(`^keel_inference_batches_total\\{where="thread"\\} ${threadBatches}$`, 'm'));
  });
});

describe('model pool', () => {
  let inference: InferencePool;
  beforeAll(async () => {
    inference = await InferencePool.create({ logger, threads: 0 });
  });
  afterAll(() => inference?.close());

  it('follows the production alias on its periodic refresh', async () => {
    const pool = await ModelPool.open({ database, artifacts, inference, logger, models: [MODEL], refreshMs: 20 });
    try {
      const before = pool.get(MODEL)!.version;
      const { version } = await registerVersion(4);
      await promote(version);
      await vi.waitFor(() => expect(pool.get(MODEL)?.version).toBe(version), { timeout: 5000 });
      expect(version).not.toBe(before);
    } finally {
      await pool.close();
    }
  });

  it('refuses a version whose contract does not match its ONNX graph', async () => {
    const contract = { ...CONTRACT, inputs: [{ name: 'distance', type: 'float32' }] };
    await promote((await registerVersion(5, { model: 'mismatched', contract })).version, 'mismatched');
    const pool = await ModelPool.open({ database, artifacts, inference, logger, models: ['mismatched'], refreshMs: 0 });
    try {
      expect(pool.get('mismatched')).toBeUndefined();
      expect(pool.refusal('mismatched')?.error).toMatch(/graph input "origin" is not in the contract/);
    } finally {
      await pool.close();
    }
  });
});

describe('server shutdown', () => {
  it('finishes an in-flight request and flushes its prediction log before closing', async () => {
    const second = await startModelServer({ database, artifacts, port: 0, refreshMs: 0, logger });
    const body = predictBody([{ distance: 10, origin: 'LAX' }]);
    const response = new Promise<{ status: number; connection?: string; text: string }>((resolve, reject) => {
      const req = request(`${second.url}${predictPath}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, text }));
      });
      // Send half the body, close the server while the request is in flight, then finish it.
      req.write(body.slice(0, 10));
      setTimeout(() => {
        closed = second.close();
        setTimeout(() => req.end(body.slice(10)), 50);
      }, 100);
    });
    let closed: Promise<void> | undefined;

    const reply = await response;
    expect(reply.status).toBe(200);
    expect(reply.connection).toBe('close');
    await closed;
    const [prediction] = parseJson<ServerAnswer>(reply.text).predictions;
    const rows = await database.db
      .select()
      .from(predictionLog)
      .where(inArray(predictionLog.id, [prediction.id]));
    expect(rows).toHaveLength(1);
    await expect(fetch(`${second.url}/healthz`)).rejects.toThrow();
  });
});

describe('prediction log writer', () => {
  // Without a spool, append() queues the rows and returns undefined: nothing to await.
  const entry = (i: number): PredictionLogEntry => ({
    id: `id-${i}`,
    model: MODEL,
    version: 1,
    inputs: { distance: i },
    outputs: '{"probability":0.5,"label":0}',
    latencyMs: 1,
    createdAt: new Date(),
  });
  const quiet = pino({ level: 'silent' });

  it('counts rows dropped when the queue is full, and warns', async () => {
    const warnings: unknown[] = [];
    const watching = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    const writer = new PredictionLogWriter(async () => {}, { logger: watching, capacity: 3, flushMs: 10_000 });
    void writer.append([entry(1), entry(2)]);
    void writer.append([entry(3), { ...entry(4), version: 2 }, entry(5)]);
    expect(writer.stats()).toEqual({ queued: 3, written: 0, dropped: 2, failedFlushes: 0, leftInSpool: 0, replayed: 0 });
    // Per model version, for the dashboards: the queue counted from its lines, the drops as they happen.
    expect(writer.byVersion()).toEqual([
      { model: MODEL, version: '1', queued: 3, dropped: 1 },
      { model: MODEL, version: '2', queued: 0, dropped: 1 },
    ]);
    await writer.close();
    expect(writer.byVersion()).toEqual([
      { model: MODEL, version: '1', queued: 0, dropped: 1 },
      { model: MODEL, version: '2', queued: 0, dropped: 1 },
    ]);
    expect(writer.stats()).toEqual({ queued: 0, written: 3, dropped: 2, failedFlushes: 0, leftInSpool: 0, replayed: 0 });
    expect(warnings).toContainEqual(expect.objectContaining({ dropped: 2, msg: expect.stringContaining('queue full') }));
  });

  it('retries a failed batch on the next flush, then drops it after maxAttempts', async () => {
    let failures = 1;
    const written: PredictionLogEntry[] = [];
    const sink = vi.fn(async (lines: string[]) => {
      if (failures-- > 0) throw new Error('database unavailable');
      written.push(...lines.map((line) => ({ id: line.split('\t')[0] }) as PredictionLogEntry));
    });
    const writer = new PredictionLogWriter(sink, { logger: quiet, flushMs: 10_000, maxAttempts: 2 });
    void writer.append([entry(1), entry(2)]);
    await writer.flush();
    expect(writer.stats()).toEqual({ queued: 2, written: 0, dropped: 0, failedFlushes: 1, leftInSpool: 0, replayed: 0 });
    await writer.flush();
    expect(writer.stats()).toEqual({ queued: 0, written: 2, dropped: 0, failedFlushes: 1, leftInSpool: 0, replayed: 0 });
    expect(written.map((e) => e.id)).toEqual(['id-1', 'id-2']);

    failures = 2;
    void writer.append([{ ...entry(3), model: 'other', version: 7 }]);
    await writer.flush();
    expect(writer.byVersion()).toEqual([{ model: 'other', version: '7', queued: 1, dropped: 0 }]);
    await writer.flush();
    expect(writer.stats()).toEqual({ queued: 0, written: 2, dropped: 1, failedFlushes: 3, leftInSpool: 0, replayed: 0 });
    expect(writer.byVersion()).toEqual([{ model: 'other', version: '7', queued: 0, dropped: 1 }]);
    await writer.close();
  });

  it('writes every field through the database sink, and a retried batch logs nothing twice', async () => {
    const sink = databaseSink(database);
    const at = new Date('2026-01-02T03:04:05.678Z');
    const rows: PredictionLogEntry[] = [
      {
        id: 'sink-1',
        model: 'sink',
        version: 3,
        inputs: { a: 'x\u0000y', b: null, c: 2.5 },
        outputs: '{"probability":0.25,"label":0}',
        latencyMs: 1.5,
        createdAt: at,
      },
      {
        id: 'sink-2',
        model: 'sink',
        version: 4,
        inputs: { a: '"quoted"\ttab' },
        outputs: null,
        latencyMs: 2,
        createdAt: at,
        shadow: true,
        primaryId: 'sink-1',
        error: 'boom \u0000\tat\nline \\2',
      },
      {
        id: 'sink-3',
        model: 'sink',
        version: 4,
        inputs: { 'back\\slash': 'C:\\temp\r\n' },
        outputs: '{"label":"a\\\\b\\"c","probabilities":[1]}',
        latencyMs: 0.0004,
        createdAt: at,
      },
    ];
    await sink(rows.map(logLine), 0);
    // A retry of a batch that did commit (its answer lost): recognised, nothing written twice.
    await sink(rows.map(logLine), 1);
    await expect(sink(rows.map(logLine), 0)).rejects.toThrow();
    const stored = await database.db
      .select()
      .from(predictionLog)
      .where(inArray(predictionLog.id, ['sink-1', 'sink-2', 'sink-3']))
      .orderBy(predictionLog.id);
    expect(stored).toEqual([
      {
        id: 'sink-1',
        modelName: 'sink',
        version: 3,
        inputs: { a: 'x\uFFFDy', b: null, c: 2.5 },
        outputs: { probability: 0.25, label: 0 },
        latencyMs: 1.5,
        createdAt: at,
        shadow: false,
        primaryId: null,
        error: null,
      },
      {
        id: 'sink-2',
        modelName: 'sink',
        version: 4,
        inputs: { a: '"quoted"\ttab' },
        outputs: null,
        latencyMs: 2,
        createdAt: at,
        shadow: true,
        primaryId: 'sink-1',
        error: 'boom \uFFFD\tat\nline \\2',
      },
      {
        id: 'sink-3',
        modelName: 'sink',
        version: 4,
        inputs: { 'back\\slash': 'C:\\temp\r\n' },
        outputs: { label: 'a\\b"c', probabilities: [1] },
        latencyMs: 0,
        createdAt: at,
        shadow: false,
        primaryId: null,
        error: null,
      },
    ]);
  });

  it('knows the model and version of the predictions it still holds (feedback right after an answer)', async () => {
    const writer = new PredictionLogWriter(async () => {}, { logger: quiet, flushMs: 10_000 });
    void writer.append([entry(1), { ...entry(2), model: 'other-model', version: 12 }]);
    expect(writer.pending(['id-2', 'id-1', 'id-9'])).toEqual(
      new Map([
        ['id-1', { model: MODEL, version: 1 }],
        ['id-2', { model: 'other-model', version: 12 }],
      ]),
    );
    await writer.close();
    expect(writer.pending(['id-1']).size).toBe(0);
  });

  it('flushes a full batch at once, without waiting for the timer', async () => {
    const sink = vi.fn(async () => {});
    const writer = new PredictionLogWriter(sink, { logger: quiet, batchSize: 2, flushMs: 10_000 });
    void writer.append([entry(1), entry(2), entry(3)]);
    await vi.waitFor(() => expect(writer.stats().written).toBe(3));
    expect(sink).toHaveBeenCalledTimes(2);
    await writer.close();
  });

  it('writes a backlog in few large COPYs (20,000 rows by default), and reports each write', async () => {
    // A slow commit (the database's WAL flush) must not cap the log at one small batch per commit:
    // what piled up during the slow write goes out together in the next one.
    const batches: number[] = [];
    const reported: [number, number][] = [];
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const writer = new PredictionLogWriter(
      async (rows) => {
        if (batches.push(rows.length) === 1) await slow;
      },
      { logger: quiet, flushMs: 10_000, capacity: 1_000_000, onWrite: (rows, seconds) => reported.push([rows, seconds]) },
    );
    void writer.append([entry(0)]);
    const first = writer.flush();
    void writer.append(Array.from({ length: 45_000 }, (_, i) => entry(i + 1)));
    release();
    await first;
    await writer.flush();
    expect(batches).toEqual([1, 20_000, 20_000, 5_000]);
    expect(reported.map(([rows]) => rows)).toEqual(batches);
    expect(reported.every(([, seconds]) => seconds >= 0 && seconds < 10)).toBe(true);
    await writer.close();
  });

  it('a flush returns once the rows queued before it are written, however much traffic keeps arriving', async () => {
    // Every write lets two more rows arrive, as steady traffic does: a flush that chased the
    // queue until it was empty would never return (feedback waits on one).
    let next = 100;
    const writer: PredictionLogWriter = new PredictionLogWriter(
      async () => {
        await new Promise((r) => setTimeout(r, 1));
        void writer.append([entry(next++), entry(next++)]);
      },
      { logger: quiet, batchSize: 2, flushMs: 10_000, capacity: 1_000_000 },
    );
    void writer.append([entry(1), entry(2), entry(3), entry(4), entry(5)]);
    await writer.flush();
    expect(writer.stats().written).toBeGreaterThanOrEqual(5);
    expect(writer.stats().written).toBeLessThan(40);
    await writer.close();
  });

  it('a flush asked for while one runs also writes the rows queued since (feedback right after an answer)', async () => {
    const written: string[] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => (release = r));
    let calls = 0;
    const writer = new PredictionLogWriter(
      async (rows) => {
        if (calls++ === 0) await first;
        written.push(...rows.map((line) => line.split('\t')[0]));
      },
      { logger: quiet, flushMs: 10_000 },
    );
    void writer.append([entry(1)]);
    const running = writer.flush();
    void writer.append([entry(2)]);
    const mine = writer.flush();
    release();
    await running;
    await mine;
    expect(written).toEqual(['id-1', 'id-2']);
    await writer.close();
  });
});
