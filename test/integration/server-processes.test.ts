import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { predictionLog } from '../../src/db/schema';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { setAlias } from '../../src/registry/aliases';
import { freePort } from '../../src/runtime/ports';
import { buildTinyLogisticOnnx } from '../fixtures/tiny-logistic-onnx';
import { registerOnnxVersion } from '../fixtures/register-onnx';
import { childrenOf, waitUntil } from './server-process-support';

const url = inject('databaseUrl');
const model = `procs-${Date.now().toString(36)}`;

/**
 * `npm run server` with KEEL_SERVER_PROCESSES=2, as a user starts it: two processes on one port
 * behind node:cluster, PostgreSQL (the embedded PGlite database belongs to one process).
 */
describe.skipIf(!url)('the model server as several processes (KEEL_SERVER_PROCESSES)', () => {
  let dir: string;
  let database: Database;
  let server: ChildProcess;
  let base: string;
  let register: (weight: number, version: number) => Promise<number>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-procs-'));
    database = await openDatabase({ url, dataDir: dir });
    const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
    register = async (weight, key) => {
      const spec = {
        numeric: [{ name: 'distance', weight, mean: 800 }],
        categorical: [{ name: 'origin', weights: { ORD: 0.7 } }],
        bias: -1.2,
      };
      return (await registerOnnxVersion({ database, artifacts }, model, buildTinyLogisticOnnx(spec), { key: `${model}/${key}` })).version;
    };
    const version = await register(0.002, 1);
    await setAlias(database.db, { model, alias: 'production', version, actor: 'test', reason: 'test' });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/server-main.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: url,
        KEEL_DATA_DIR: dir,
        KEEL_PORT: String(port),
        KEEL_SERVER_PROCESSES: '2',
        // Earlier test files leave their models in the shared database, with artifacts elsewhere.
        KEEL_SERVE_MODELS: model,
        // No periodic refresh: only an explicit one (and what it tells the other process) can change routing.
        KEEL_ROUTING_REFRESH_MS: '0',
        LOG_LEVEL: 'warn',
        KEEL_API_KEYS: '',
        KEEL_ADMIN_KEYS: '',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    await waitUntil(async () => (await listening()) === 2, 60_000);
  }, 90_000);

  afterAll(async () => {
    if (server.exitCode === null) server.kill('SIGKILL');
    await database.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Processes that listen: each answers the primary's metrics scrape only from then on. */
  const listening = async () => {
    const text = await (await fetch(`${base}/metrics`, { headers: { connection: 'close' } })).text();
    return new Set(text.match(/process="\d+"/g)).size;
  };

  const predict = async (i: number) => {
    const response = await fetch(`${base}/v1/models/${model}:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ instances: [{ distance: 100 + i, origin: 'ORD' }] }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { predictions: { id: string }[] }).predictions[0].id;
  };

  it('answers from both processes, and /metrics counts them all in one document promtool accepts', async () => {
    // A connection per request: node:cluster hands connections to the processes in turn.
    const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => predict(i)));
    expect(new Set(ids).size).toBe(40);
    const text = await (await fetch(`${base}/metrics`)).text();
    const file = join(dir, 'metrics.txt');
    await writeFile(file, text);
    await promisify(execFile)('sh', ['-c', `promtool check metrics < "${file}"`]).catch((error: { stdout: string; stderr: string }) => {
      throw new Error(`promtool check metrics failed:\n${error.stdout}${error.stderr}`);
    });
    const requests = text
      .split('\n')
      .filter((line) => line.startsWith(`keel_predict_requests_total{`) && line.includes(`model="${model}"`));
    expect(requests.map((line) => /process="(\d+)"/.exec(line)?.[1]).sort()).toEqual(['1', '2']);
    expect(requests.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0)).toBe(40);
  });

  it('takes feedback right after an answer, whichever process the feedback reaches', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const id = await predict(i);
        const response = await fetch(`${base}/v1/feedback`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', connection: 'close' },
          body: JSON.stringify({ prediction_id: id, label: i % 2 }),
        });
        return response.status;
      }),
    );
    expect(statuses).toEqual(Array(12).fill(200));
  });

  it('routes a change made through one process in every process, without waiting for a refresh period', async () => {
    const baseline = (await fetch(`${base}/v1/models/${model}`, { headers: { connection: 'close' } }).then((r) => r.json())) as {
      version: number;
    };
    const candidate = await register(0.003, 2);
    const put = await fetch(`${base}/v1/admin/routes/${model}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ baseline: baseline.version, candidate, candidateWeight: 0.5, reason: 'test' }),
    });
    expect(put.status).toBe(200);
    // Connections alternate between the two processes: four answers in a row cover both.
    const routedCandidate = async () => {
      const info = (await (await fetch(`${base}/v1/models/${model}`, { headers: { connection: 'close' } })).json()) as {
        route: { candidate?: number } | null;
      };
      return info.route?.candidate === candidate;
    };
    await waitUntil(async () => (await Promise.all([1, 2, 3, 4].map(routedCandidate))).every(Boolean), 10_000);
  });

  it('replaces a process that dies, and keeps answering', async () => {
    const before = childrenOf(server.pid!);
    expect(before).toHaveLength(2);
    process.kill(before[0], 'SIGKILL');
    await waitUntil(async () => childrenOf(server.pid!).filter((pid) => !before.includes(pid)).length === 1, 60_000);
    await waitUntil(async () => (await listening()) === 2, 60_000);
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => predict(i)));
    expect(ids).toHaveLength(10);
  }, 90_000);

  it('stops every process on SIGTERM, after writing each answered prediction to the log', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => predict(i)));
    server.kill('SIGTERM');
    const [code] = (await once(server, 'exit')) as [number | null];
    expect(code).toBe(0);
    const rows = await database.db.select({ id: predictionLog.id }).from(predictionLog).where(inArray(predictionLog.id, ids));
    expect(rows).toHaveLength(20);
  }, 60_000);
});
