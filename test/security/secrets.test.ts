import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSourcePolicy } from '../../src/data/source-policy';
import { openDatabase } from '../../src/db/database';
import { readEnvironment } from '../../src/runtime/environment';
import { taskQueues } from '../../src/shared/task-queues';
import { createHarness, type Harness } from '../integration/harness';

// Issue #14, "Secrets never leave": keel's processes and a pipeline run with secrets set, made to
// fail in each way; no secret may appear in stdout, stderr, logs, workflow histories or the database.

const secrets = {
  badScheme: 'pw-badscheme-4f1c9e',
  wrongPassword: 'pw-wrong-8a3d27',
  unreachable: 'pw-unreach-5b6e01',
  apiToken: 'tok-http401-c7e2f9',
  warehouse: 'pw-warehouse-91ad3c',
  adminKey: 'admin-key-e4b8a6d2c1',
  apiKey: 'api-key-0f9e8d7c6b',
};
const all = Object.values(secrets);
const leaks = (text: string) => all.filter((secret) => text.includes(secret) || text.includes(encodeURIComponent(secret)));

const run = promisify(execFile);
let dir: string;

/** `npm run server` (server-main) with this environment; its exit code and everything it printed. */
async function server(env: Record<string, string>, timeout = 60_000): Promise<{ code: number; output: string }> {
  const result = await run(process.execPath, ['--import', 'tsx', 'src/runtime/server-main.ts'], {
    env: {
      PATH: process.env.PATH!,
      KEEL_DATA_DIR: join(dir, 'data'),
      KEEL_PORT: '0',
      LOG_LEVEL: 'debug',
      KEEL_ADMIN_KEYS: secrets.adminKey,
      KEEL_API_KEYS: secrets.apiKey,
      ...env,
    },
    timeout,
  }).then(
    (r) => ({ code: 0, output: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, output: (e.stdout ?? '') + (e.stderr ?? '') }),
  );
  return result;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-sec-secrets-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the server, its database URL wrong in each way', () => {
  it('names what is wrong and where, never the password', async () => {
    // The real process once (what an operator sees on the terminal), the other ways in-process.
    const wrongPassword = await server({ DATABASE_URL: `postgres://keel:${secrets.wrongPassword}@127.0.0.1:5432/keel` });
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.output).toContain(
      'cannot connect to PostgreSQL at 127.0.0.1:5432 as user "keel", database "keel": password authentication failed',
    );
    const badScheme = messageOf(() => readEnvironment({ DATABASE_URL: `mysql://keel:${secrets.badScheme}@db.example:3306/keel` }));
    expect(badScheme).toContain('DATABASE_URL: must be a postgres:// URL (got "mysql://keel:***@db.example:3306/keel")');
    const unreachable = await openDatabase({ url: `postgres://keel:${secrets.unreachable}@127.0.0.1:1/keel`, dataDir: dir }).then(
      () => 'opened',
      (e: Error) => e.message,
    );
    expect(unreachable).toContain('cannot connect to PostgreSQL at 127.0.0.1:1 as user "keel", database "keel": connection refused');
    for (const output of [wrongPassword.output, badScheme, unreachable]) expect(leaks(output)).toEqual([]);
  });
});

function messageOf(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('a pipeline whose sources fail with secrets in play', () => {
  let harness: Harness;
  let api: Server;
  const logs: string[] = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    // The worst API: its 401 echoes the credentials it was sent.
    api = createServer((req, res) =>
      res
        .writeHead(401, { 'content-type': 'text/plain' })
        .end(`bad token ${req.headers.authorization}; try https://u:${secrets.apiToken}@x`),
    );
    await once(api.listen(0, '127.0.0.1'), 'listening');
    const origin = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    Object.assign(process.env, { API_TOKEN: secrets.apiToken, WAREHOUSE_URL: `postgres://keel:${secrets.warehouse}@127.0.0.1:5432/keel` });
    harness = await createHarness({
      sources: { ...defaultSourcePolicy(), http: [{ origin, env: ['API_TOKEN'] }], postgres: { warehouse: 'WAREHOUSE_URL' } },
      logger: pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) }),
    });
  });
  afterAll(async () => {
    process.env = saved;
    await harness?.close();
    api?.closeAllConnections();
    await new Promise((r) => api?.close(r));
  });

  const input = (source: Record<string, unknown>) => ({
    model: 'sec-secrets',
    dataset: {
      name: 'sec-secrets',
      columns: [
        { name: 'a', type: 'string' },
        { name: 'b', type: 'string' },
      ],
      sources: [source],
    },
    features: [{ name: 'a', kind: 'categorical' }],
    target: 'b',
    trainer: { kind: 'logistic-regression' },
  });

  it('fails with the cause, and no secret reaches the failure, the logs, the history or the database', async () => {
    const origin = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const cases = [
      {
        id: `sec/http-401/${Date.now()}`,
        source: { format: 'http', url: `${origin}/rows`, headers: { authorization: { env: 'API_TOKEN' } } },
        cause: /answered 401 Unauthorized: bad token \*\*\*/,
      },
      {
        id: `sec/pg-password/${Date.now()}`,
        source: { format: 'postgres', connection: 'warehouse', query: 'SELECT 1' },
        cause: /password authentication failed/,
      },
    ];
    const failures: string[] = [];
    await harness.withWorkers(async () => {
      for (const c of cases) {
        const error = await harness.client.workflow
          .execute('trainingPipeline', { taskQueue: taskQueues.control, workflowId: c.id, args: [input(c.source)] })
          .catch((e: unknown) => e as Error);
        const chain: string[] = [];
        for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) chain.push(String((e as Error).message));
        failures.push(chain.join(' <- '));
        expect(chain.join(' <- ')).toMatch(c.cause);
      }
    });
    const histories = await Promise.all(
      cases.map(async (c) => decodedPayloads(JSON.stringify(await harness.client.workflow.getHandle(c.id).fetchHistory()))),
    );
    const tables = await harness.database.db.execute<{ table_name: string }>(
      sql`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
    );
    const rows: string[] = [];
    for (const { table_name } of rowsOf<{ table_name: string }>(tables)) {
      rows.push(
        ...rowsOf<{ t: string }>(
          await harness.database.db.execute<{ t: string }>(sql.raw(`SELECT t::text AS t FROM "${table_name}" t`)),
        ).map((r) => r.t),
      );
    }
    expect(histories.join('\n')).toContain('sec-secrets');
    expect(rows.some((r) => r.includes('sec-secrets'))).toBe(true);
    expect(leaks(failures.join('\n'))).toEqual([]);
    expect(leaks(logs.join('\n'))).toEqual([]);
    expect(leaks(histories.join('\n'))).toEqual([]);
    expect(leaks(rows.join('\n'))).toEqual([]);
  });
});

/** A history as JSON, with every payload's data decoded next to it (payloads are base64 JSON). */
function decodedPayloads(json: string): string {
  const decoded = [...json.matchAll(/"data":"([A-Za-z0-9+/=]+)"/g)].map((m) => Buffer.from(m[1], 'base64').toString('utf8'));
  return `${json}\n${decoded.join('\n')}`;
}

function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
