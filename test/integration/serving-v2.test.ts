import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { predictionLog } from '../../src/db/schema';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { type ModelServer, startModelServer } from '../../src/serving/http-server';
import { type TinyLogisticSpec, tinyLogisticProbability } from '../fixtures/tiny-logistic-onnx';
import { registerTinyProduction } from '../fixtures/register-onnx';
import { parseJson } from '../fixtures/json';
import type { ServerAnswer } from '../fixtures/serving-answers';

/**
 * The Open Inference Protocol v2 REST API against the real server, PostgreSQL (when
 * DATABASE_URL is set) and two inference threads. Every request below is JSON written by hand
 * from the protocol specification (kserve docs/predict-api/v2/required_api.md: health, server and
 * model metadata, inference request/response and error objects) — no keel client code builds
 * them. `promtool check metrics` (Debian package `prometheus`) must accept /metrics.
 */

const SPEC: TinyLogisticSpec = {
  numeric: [{ name: 'distance', weight: 0.002, mean: 800 }],
  categorical: [{ name: 'origin', weights: { ORD: 0.7, JFK: -0.3 } }],
  bias: -1.2,
};

const model = `oip-${Date.now().toString(36)}`;
const broken = `${model}-broken`;
let dir: string;
let database: Database;
let artifacts: LocalArtifactStore;
let server: ModelServer;
/** Rows of every 200 answer, to check the prediction log holds each exactly once. */
let answeredRows = 0;

async function register(name: string, spec: TinyLogisticSpec, key: string) {
  const row = await registerTinyProduction({ database, artifacts }, name, { key, spec });
  return { version: row.version, sha: row.artifactSha256 };
}

async function http(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  expect(response.headers.get('content-type'), `${method} ${path}`).toMatch(/^application\/json/);
  const json = parseJson<ServerAnswer>(text);
  if (response.status === 200 && path.endsWith('/infer')) answeredRows += json.outputs[0].shape[0];
  return { status: response.status, body: json };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-oip-'));
  database = await openDatabase({ url: inject('databaseUrl') || undefined, dataDir: dir });
  artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  await register(model, SPEC, `${model}/1`);
  // A model whose only version fails its checksum: registered, promoted, then corrupted on disk.
  const { sha } = await register(broken, { ...SPEC, bias: 0.5 }, `${broken}/1`);
  await writeFile(artifacts.pathOf(sha), 'not the bytes that were registered');
  server = await startModelServer({
    database,
    artifacts,
    port: 0,
    refreshMs: 0,
    models: [model, broken],
    logger: pino({ level: 'silent' }),
    inferenceThreads: 2,
    maxBodyBytes: 1_000_000,
    apiKeys: { predict: [], admin: [] },
  });
});

afterAll(async () => {
  await server?.close();
  await database?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Open Inference Protocol v2', () => {
  it('health: live, and not ready while a served model has no loadable version', async () => {
    expect(await http('GET', '/v2/health/live')).toEqual({ status: 200, body: { live: true } });
    const ready = await http('GET', '/v2/health/ready');
    expect(ready.status).toBe(400);
    expect(ready.body).toMatchObject({ ready: false, error: expect.stringContaining(broken) });
    expect(await http('GET', `/v2/models/${model}/ready`)).toEqual({ status: 200, body: { name: model, ready: true } });
    expect(await http('GET', `/v2/models/${model}/versions/1/ready`)).toEqual({
      status: 200,
      body: { name: model, version: '1', ready: true },
    });
  });

  it('server and model metadata', async () => {
    const server = await http('GET', '/v2');
    expect(server.status).toBe(200);
    expect(server.body).toEqual({ name: 'keel', version: expect.any(String), extensions: [] });
    const metadata = await http('GET', `/v2/models/${model}`);
    expect(metadata).toEqual({
      status: 200,
      body: {
        name: model,
        versions: ['1'],
        platform: 'onnx_onnxv1',
        inputs: [
          { name: 'distance', datatype: 'FP32', shape: [-1, 1] },
          { name: 'origin', datatype: 'BYTES', shape: [-1, 1] },
        ],
        outputs: [
          { name: 'probability', datatype: 'FP32', shape: [-1, 1] },
          { name: 'label', datatype: 'INT64', shape: [-1, 1] },
          { name: 'prediction_id', datatype: 'BYTES', shape: [-1, 1] },
        ],
      },
    });
    expect((await http('GET', `/v2/models/${model}/versions/1`)).body.name).toBe(model);
  });

  it('infers a batch as in the specification example: id echoed, requested outputs only', async () => {
    const body = `{
      "id" : "42",
      "inputs" : [
        { "name" : "distance", "shape" : [ 2, 1 ], "datatype" : "FP32", "data" : [ 733.0, 2475.0 ] },
        { "name" : "origin", "shape" : [ 2, 1 ], "datatype" : "BYTES", "data" : [ "ORD", "JFK" ] }
      ],
      "outputs" : [ { "name" : "probability" } ]
    }`;
    const { status, body: reply } = await http('POST', `/v2/models/${model}/infer`, body);
    expect(status).toBe(200);
    expect(reply).toEqual({
      model_name: model,
      model_version: '1',
      id: '42',
      outputs: [{ name: 'probability', shape: [2, 1], datatype: 'FP32', data: [expect.any(Number), expect.any(Number)] }],
    });
    expect(reply.outputs[0].data[0]).toBeCloseTo(tinyLogisticProbability(SPEC, { distance: 733, origin: 'ORD' }), 6);
    expect(reply.outputs[0].data[1]).toBeCloseTo(tinyLogisticProbability(SPEC, { distance: 2475, origin: 'JFK' }), 6);
  });

  it('returns every output when none is named, and accepts [N] shapes, nested data, integer codes and null', async () => {
    const body = `{
      "inputs" : [
        { "name" : "origin", "shape" : [ 3 ], "datatype" : "BYTES", "data" : [ "ORD", null, "SFO" ] },
        { "name" : "distance", "shape" : [ 3, 1 ], "datatype" : "INT32", "data" : [ [ 100 ], [ 200 ], [ null ] ] }
      ]
    }`;
    const { status, body: reply } = await http('POST', `/v2/models/${model}/versions/1/infer`, body);
    expect(status).toBe(200);
    expect(reply.id).toEqual(expect.any(String));
    expect(reply.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['probability', 'FP32', [3, 1]],
      ['label', 'INT64', [3, 1]],
      ['prediction_id', 'BYTES', [3, 1]],
    ]);
    const [probability, label, ids] = reply.outputs.map((o: { data: unknown[] }) => o.data);
    const rows = [
      { distance: 100, origin: 'ORD' },
      { distance: 200, origin: null },
      { distance: null, origin: 'SFO' },
    ];
    rows.forEach((row, i) => {
      const expected = tinyLogisticProbability(SPEC, row);
      expect(probability[i]).toBeCloseTo(expected, 6);
      expect(label[i]).toBe(expected > 0.5 ? 1 : 0);
    });
    // The prediction ids are those of the log, and take feedback.
    await server.logWriter.flush();
    const id = ids[1] as string; // a BYTES tensor: strings
    const logged = await database.db.select().from(predictionLog).where(eq(predictionLog.id, id));
    expect(logged).toEqual([
      expect.objectContaining({ modelName: model, version: 1, inputs: { origin: null, distance: 200 }, shadow: false }),
    ]);
    const feedback = await http('POST', '/v1/feedback', `{ "prediction_id": "${id}", "label": 1 }`);
    expect(feedback).toEqual({ status: 200, body: { recorded: 1 } });
  });

  const input = (name: string, shape: string, datatype: string, data: string) =>
    `{ "name" : "${name}", "shape" : ${shape}, "datatype" : "${datatype}", "data" : ${data} }`;
  const goodDistance = input('distance', '[ 1, 1 ]', 'FP32', '[ 733.0 ]');
  const goodOrigin = input('origin', '[ 1, 1 ]', 'BYTES', '[ "ORD" ]');
  const inferBody = (...inputs: string[]) => `{ "inputs" : [ ${inputs.join(', ')} ] }`;

  it.each([
    {
      case: 'a wrong tensor shape',
      body: inferBody(input('distance', '[ 1, 2 ]', 'FP32', '[ 1.0, 2.0 ]'), goodOrigin),
      status: 400,
      error: /shape \[1,2\]; this model takes \[N, 1\] or \[N\]/,
    },
    {
      case: 'data that does not fill the shape',
      body: inferBody(input('distance', '[ 2, 1 ]', 'FP32', '[ 1.0 ]'), input('origin', '[ 2, 1 ]', 'BYTES', '[ "ORD", "JFK" ]')),
      status: 400,
      error: /1 values in "data" but its shape \[2,1\] holds 2/,
    },
    {
      case: 'inputs with different batch sizes',
      body: inferBody(input('distance', '[ 2, 1 ]', 'FP32', '[ 1.0, 2.0 ]'), goodOrigin),
      status: 400,
      error: /every input needs the same N/,
    },
    {
      case: 'a wrong datatype for a numeric input',
      body: inferBody(input('distance', '[ 1, 1 ]', 'BOOL', '[ true ]'), goodOrigin),
      status: 400,
      error: /"distance" is numeric: its datatype is FP32.*got BOOL/,
    },
    {
      case: 'a wrong datatype for a categorical input',
      body: inferBody(goodDistance, input('origin', '[ 1, 1 ]', 'FP32', '[ 1.5 ]')),
      status: 400,
      error: /"origin" is categorical: its datatype is BYTES.*got FP32/,
    },
    {
      case: 'an unknown datatype',
      body: inferBody(input('distance', '[ 1, 1 ]', 'FLOAT', '[ 1.0 ]'), goodOrigin),
      status: 400,
      error: /unknown datatype "FLOAT"/,
    },
    { case: 'a missing input', body: inferBody(goodDistance), status: 400, error: /missing input "origin"/ },
    {
      case: 'an extra input',
      body: inferBody(goodDistance, goodOrigin, input('colour', '[ 1, 1 ]', 'BYTES', '[ "red" ]')),
      status: 400,
      error: /input "colour" is not an input of this model \(inputs: distance, origin\)/,
    },
    {
      case: 'an input given twice',
      body: inferBody(goodDistance, goodDistance, goodOrigin),
      status: 400,
      error: /input "distance" is given twice/,
    },
    {
      case: '"NaN" as a string for FP32',
      body: inferBody(input('distance', '[ 1, 1 ]', 'FP32', '[ "NaN" ]'), goodOrigin),
      status: 400,
      error: /input "distance" data\[0\] must be a number or null, got "NaN"/,
    },
    {
      case: 'a number for BYTES',
      body: inferBody(goodDistance, input('origin', '[ 1, 1 ]', 'BYTES', '[ 7 ]')),
      status: 400,
      error: /input "origin" data\[0\] must be a string \(BYTES\) or null, got 7/,
    },
    {
      case: 'a fraction for INT64',
      body: inferBody(input('distance', '[ 1, 1 ]', 'INT64', '[ 1.5 ]'), goodOrigin),
      status: 400,
      error: /must be an integer \(INT64\)/,
    },
    {
      case: 'a value beyond FP32',
      body: inferBody(input('distance', '[ 1, 1 ]', 'FP64', '[ 1e300 ]'), goodOrigin),
      status: 400,
      error: /outside the float32 range/,
    },
    {
      case: 'an empty batch',
      body: inferBody(input('distance', '[ 0, 1 ]', 'FP32', '[ ]'), input('origin', '[ 0, 1 ]', 'BYTES', '[ ]')),
      status: 400,
      error: /empty batch/,
    },
    { case: 'no inputs', body: '{ "inputs" : [ ] }', status: 400, error: /"inputs" is empty/ },
    {
      case: 'an unknown requested output',
      body: `{ "inputs" : [ ${goodDistance}, ${goodOrigin} ], "outputs" : [ { "name" : "logits" } ] }`,
      status: 400,
      error: /unknown output "logits"/,
    },
    {
      case: 'the binary data extension',
      body: `{ "inputs" : [ ${goodDistance}, ${goodOrigin} ], "parameters" : { "binary_data_output" : true } }`,
      status: 400,
      error: /binary tensor data extension is not supported/,
    },
    { case: 'a misspelt field', body: `{ "input" : [ ${goodDistance}, ${goodOrigin} ] }`, status: 400, error: /unknown field "input"/ },
    { case: 'invalid JSON', body: '{ "inputs" : [ ', status: 400, error: /invalid JSON body/ },
  ])('answers $case with $status and an error object', async ({ body, status, error }) => {
    const reply = await http('POST', `/v2/models/${model}/infer`, body);
    expect(reply.status).toBe(status);
    expect(Object.keys(reply.body)).toEqual(['error']);
    expect(reply.body.error).toMatch(error);
  });

  it('answers unknown models and versions with 404, a malformed version with 400', async () => {
    const body = inferBody(goodDistance, goodOrigin);
    expect((await http('POST', '/v2/models/no-such-model/infer', body)).status).toBe(404);
    expect((await http('GET', '/v2/models/no-such-model')).status).toBe(404);
    expect((await http('GET', '/v2/models/no-such-model/ready')).status).toBe(404);
    const version = await http('POST', `/v2/models/${model}/versions/7/infer`, body);
    expect(version).toEqual({ status: 404, body: { error: `model "${model}" has no version 7 loaded (loaded versions: 1)` } });
    expect((await http('POST', `/v2/models/${model}/versions/latest/infer`, body)).body.error).toMatch(/positive integer/);
  });

  it('answers a model whose artifact fails its checksum with 503 naming the cause', async () => {
    const reply = await http('POST', `/v2/models/${broken}/infer`, inferBody(goodDistance, goodOrigin));
    expect(reply.status).toBe(503);
    expect(reply.body.error).toMatch(
      new RegExp(`model "${broken}" has no loadable version: version 1 was refused: artifact [0-9a-f]{64} is corrupted`),
    );
    expect((await http('GET', `/v2/models/${broken}/ready`)).status).toBe(400);
  });

  it('refuses a 50 MB body with 413, declared or streamed, and stays up', async () => {
    const declared = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${server.url}/v2/models/${model}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': 50 * 1024 * 1024 },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode!, text });
          req.destroy();
        });
      });
      req.write(' '.repeat(64 * 1024));
    });
    expect(declared.status).toBe(413);
    expect(parseJson<ServerAnswer>(declared.text).error).toMatch(/exceeds the limit of 1000000 bytes/);

    const chunk = new TextEncoder().encode(' '.repeat(1024 * 1024));
    let sent = 0;
    const stream = new ReadableStream({
      pull(controller) {
        if (sent++ >= 50) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const streamed = await fetch(`${server.url}/v2/models/${model}/infer`, { method: 'POST', body: stream, duplex: 'half' });
    expect(streamed.status).toBe(413);

    expect((await http('GET', '/v2/health/live')).status).toBe(200);
    expect((await http('POST', `/v2/models/${model}/infer`, inferBody(goodDistance, goodOrigin))).status).toBe(200);
  });

  it('logs every answered row exactly once and nothing for refused requests', async () => {
    await server.logWriter.flush();
    const rows = await database.db
      .select({ id: predictionLog.id, error: predictionLog.error })
      .from(predictionLog)
      .where(eq(predictionLog.modelName, model));
    expect(rows).toHaveLength(answeredRows);
    expect(new Set(rows.map((r) => r.id)).size).toBe(answeredRows);
    expect(rows.every((r) => r.error === null)).toBe(true);
    expect(server.logWriter.stats()).toMatchObject({ dropped: 0, failedFlushes: 0 });
  });

  it('exposes /metrics that promtool accepts, with the per-version series', async () => {
    const response = await fetch(`${server.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const file = join(dir, 'metrics.txt');
    await writeFile(file, text);
    const { stdout, stderr } = await promisify(execFile)('sh', ['-c', `promtool check metrics < "${file}"`]).catch(
      (error: { stdout: string; stderr: string; code: number }) => {
        throw new Error(`promtool check metrics failed (exit ${error.code}):\n${error.stdout}${error.stderr}`);
      },
    );
    expect(stdout + stderr).toBe('');
    for (const series of [
      `keel_predict_requests_total{model="${model}",version="1",protocol="v2"}`,
      `keel_predict_errors_total{model="${model}",version="1",protocol="v2",code="400"}`,
      `keel_predict_duration_seconds_bucket{model="${model}",version="1",protocol="v2",le="+Inf"}`,
      `keel_inference_batch_rows_count{model="${model}",version="1"}`,
      'keel_prediction_log_queue_depth',
      'keel_prediction_log_dropped_total 0',
      'keel_http_requests_total{route="/v2/models/{name}/infer",method="POST",code="413"}',
    ]) {
      expect(text).toContain(series);
    }
  });
});
