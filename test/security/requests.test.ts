import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { predictionLog } from '../../src/db/schema';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { type ModelServer, startModelServer } from '../../src/serving/http-server';
import { registerTinyProduction } from '../fixtures/register-onnx';
import { parseJson } from '../fixtures/json';

// The request attacks of issue 14 that worked on 2026-12-06, against the real model server on
// the run's PostgreSQL: each is now refused, bounded or counted.
const MODEL = 'requests';
let dir: string;
let database: Database;
let server: ModelServer;
const logLines: { level: number; msg: string; [key: string]: unknown }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-security-requests-'));
  database = await openDatabase({ url: inject('databaseUrl') || undefined, dataDir: dir });
  const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  const spec = {
    numeric: [{ name: 'distance', weight: 0.001, mean: 800 }],
    categorical: [{ name: 'origin', weights: { SFO: 0.4 } }],
    bias: -1,
  };
  await registerTinyProduction({ database, artifacts }, MODEL, { key: `test/${MODEL}/1`, spec });
  server = await startModelServer({
    database,
    artifacts,
    port: 0,
    refreshMs: 0,
    models: [MODEL],
    logger: pino({ level: 'debug' }, { write: (line: string) => void logLines.push(parseJson(line)) }),
    limits: { headersTimeoutMs: 1000, requestTimeoutMs: 1500 },
  });
});

afterAll(async () => {
  await server?.close();
  await database?.close();
  await rm(dir, { recursive: true, force: true });
});

async function predict(body: string | Uint8Array) {
  const response = await fetch(`${server.url}/v1/models/${MODEL}:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, body: (await response.json()) as { error?: string; predictions?: { id: string }[] } };
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

async function storedOrigins(): Promise<string[]> {
  await server.logWriter.flush();
  const rows = await database.db.select({ inputs: predictionLog.inputs }).from(predictionLog).where(eq(predictionLog.modelName, MODEL));
  return rows.map((row) => (row.inputs as { origin: string }).origin);
}

/** Opens a connection, sends `text`, and resolves when the server closes it, with what it answered. */
function sendAndWait(text: string): Promise<{ answer: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ answer, ms: performance.now() - started }));
  });
}

describe('request attacks on the model server', () => {
  it('refuses a 900 KB categorical value with a 400 naming the feature and the limit, and logs nothing', async () => {
    const before = (await storedOrigins()).length;
    const reply = await predict(JSON.stringify({ instances: [{ distance: 700, origin: 'S'.repeat(900_000) }] }));
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatch(/instances\[0\]\.origin is 900000 characters long, over the limit of 1024 .*KEEL_MAX_CATEGORY_LENGTH/);
    expect(reply.body.error!.length).toBeLessThan(400);
    expect((await storedOrigins()).length).toBe(before);
  });

  it('refuses NUL and lone surrogates, naming the feature, and stores everything else exactly as sent', async () => {
    // A JSON text with the escapes, as a client sends it: JSON.parse gives "\0" and a lone U+D800.
    const nul = await predict('{"instances":[{"distance":1,"origin":"S\\u0000FO"}]}');
    expect(nul.status).toBe(400);
    expect(nul.body.error).toMatch(/instances\[0\]\.origin contains a NUL character/);
    const surrogate = await predict('{"instances":[{"distance":1,"origin":"S\\ud800FO"}]}');
    expect(surrogate.status).toBe(400);
    expect(surrogate.body.error).toMatch(/instances\[0\]\.origin contains an unpaired UTF-16 surrogate \(\\ud800\)/);
    const v2 = await fetch(`${server.url}/v2/models/${MODEL}/infer`, {
      method: 'POST',
      body: '{"inputs":[{"name":"distance","shape":[1,1],"datatype":"FP32","data":[1]},{"name":"origin","shape":[1,1],"datatype":"BYTES","data":["\\udc00x"]}]}',
    });
    expect(v2.status).toBe(400);
    expect(((await v2.json()) as { error: string }).error).toMatch(/input "origin" data\[0\] contains an unpaired UTF-16 surrogate/);
    // Bytes that are not UTF-8 would decode to U+FFFD: refused too.
    const latin1 = Buffer.concat([Buffer.from('{"instances":[{"distance":1,"origin":"caf'), Buffer.from([0xe9]), Buffer.from('"}]}')]);
    const invalid = await predict(latin1);
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatch(/not valid UTF-8/);

    const faithful = ['tab\there "quoted" back\\slash', 'emoji 😀 pair', 'already \uFFFD replacement', 'é'.repeat(1024)];
    const before = await storedOrigins();
    const ok = await predict(JSON.stringify({ instances: faithful.map((origin) => ({ distance: 1, origin })) }));
    expect(ok.status).toBe(200);
    const stored = (await storedOrigins()).slice(before.length);
    expect(stored.sort()).toEqual([...faithful].sort());
  });

  it('closes a request whose headers or body arrive too slowly, counts it, and logs it once at debug level', async () => {
    const errorsBefore = logLines.filter((l) => l.level >= 50).length;
    // Headers that never end (slowloris): closed after the 1 s headers deadline, not 20 s later.
    const headers = await sendAndWait(`POST /v1/models/${MODEL}:predict HTTP/1.1\r\nHost: x\r\n`);
    expect(headers.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(headers.ms).toBeLessThan(4000);
    // A body that stops halfway: closed after the 1.5 s request deadline.
    const body = await sendAndWait(
      `POST /v1/models/${MODEL}:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"instances":`,
    );
    expect(body.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(body.ms).toBeLessThan(5000);
    expect(await metric('keel_http_request_timeouts_total{phase="headers"}')).toBe(1);
    expect(await metric('keel_http_request_timeouts_total{phase="body"}')).toBe(1);
    const slow = logLines.filter((l) => l.msg === 'slow request closed');
    expect(slow.map((l) => [l.level, l.phase])).toEqual([
      [20, 'headers'],
      [20, 'body'],
    ]);
    expect(logLines.filter((l) => l.level >= 50).length).toBe(errorsBefore);
  });

  it('counts 1,000 abandoned requests without one error-level log line', async () => {
    const linesBefore = logLines.length;
    const abortedBefore = await metric('keel_http_aborted_requests_total');
    for (let batch = 0; batch < 10; batch++) {
      const sockets = await Promise.all(
        Array.from(
          { length: 100 },
          () =>
            new Promise<Socket>((resolve) => {
              const socket = connect(server.port, '127.0.0.1', () => {
                socket.write(`POST /v1/models/${MODEL}:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"inst`, () =>
                  resolve(socket),
                );
              });
            }),
        ),
      );
      // Let the server start reading each body, then walk away.
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const socket of sockets) socket.destroy();
    }
    await expect.poll(() => metric('keel_http_aborted_requests_total'), { timeout: 10_000 }).toBe(abortedBefore + 1000);
    const newLines = logLines.slice(linesBefore);
    expect(newLines.filter((l) => l.level >= 40)).toEqual([]);
    // The server still answers.
    expect((await predict(JSON.stringify({ instances: [{ distance: 1, origin: 'SFO' }] }))).status).toBe(200);
  });
});
