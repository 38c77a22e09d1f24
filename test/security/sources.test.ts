import { once } from 'node:events';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities';
import { ingestDataset } from '../../src/data/ingest';
import { defaultSourcePolicy, type SourcePolicy } from '../../src/data/source-policy';
import { runExternalTrainer } from '../../src/ml/external-trainer';
import { readCodeVersion } from '../../src/runtime/code-version';
import { readEnvironment } from '../../src/runtime/environment';
import { taskQueues } from '../../src/shared/task-queues';
import { createHarness, type Harness } from '../integration/harness';

// Issue #14, "Pipeline inputs are an attack surface": each attack of 2026-12-06, now refused.

let harness: Harness;
let dir: string;
const columns = [
  { name: 'a', type: 'string' },
  { name: 'b', type: 'string' },
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-sec-src-'));
  harness = await createHarness(); // the worker's default policy: the project directory and vega-datasets
});
afterAll(async () => {
  await harness?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The ApplicationFailure under a failed workflow's activity failure. */
function rootFailure(error: unknown): ApplicationFailure {
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const activity = (error as WorkflowFailedError).cause as ActivityFailure;
  expect(activity.retryState).toBe('NON_RETRYABLE_FAILURE');
  return activity.cause as ApplicationFailure;
}

describe('file sources', () => {
  it('refuses /etc/passwd from a pipeline input, without retrying, naming the field and the roots', async () => {
    const input = {
      model: 'sec-files',
      dataset: { name: 'sec-passwd', columns, sources: [{ format: 'csv', path: '/etc/passwd', header: false, columns: ['a', 'b'] }] },
      features: [{ name: 'a', kind: 'categorical' }],
      target: 'b',
      trainer: { kind: 'logistic-regression' },
    };
    const error = await harness
      .withWorkers(() =>
        harness.client.workflow.execute('trainingPipeline', {
          taskQueue: taskQueues.control,
          workflowId: `sec/passwd/${Date.now()}`,
          args: [input],
        }),
      )
      .catch((e: unknown) => e);
    const failure = rootFailure(error);
    expect(failure.type).toBe('InvalidInputError');
    expect(failure.message).toContain('dataset.sources.0.path: "/etc/passwd" is refused: it resolves outside the allowed source roots');
    expect(failure.message).toContain(`KEEL_SOURCE_ROOTS: ${resolve('.')}, vega-datasets:`);
  });

  it('follows symlinks before the check: a link inside a root to a file outside is refused', async () => {
    const root = join(dir, 'root');
    await mkdir(root);
    await writeFile(join(root, 'ok.csv'), 'a,b\nx,y\n');
    await symlink('/etc/passwd', join(root, 'link.csv'));
    const policy: SourcePolicy = { ...defaultSourcePolicy(), roots: [root] };
    const ingest = (path: string) =>
      ingestDataset(harness.database, { name: 'sec-link', columns, sources: [{ format: 'csv', path }] } as never, {
        sourceOptions: { policy },
      });
    await expect(ingest(join(root, 'link.csv'))).rejects.toThrow(/dataset\.sources\.0\.path: .*link\.csv" is refused: it resolves outside/);
    await expect(ingest(join(root, '..', 'root', '..', 'x.csv'))).rejects.toThrow(/is refused/);
    expect((await ingest(join(root, 'ok.csv'))).rowCount).toBe(1);
  });
});

describe('HTTP sources', () => {
  const seen: { server: string; url: string; headers: IncomingHttpHeaders }[] = [];
  let api: Server;
  let other: Server;
  const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  const secret = 'tok-9b1f44c0e2a7d5';

  beforeAll(async () => {
    other = createServer((req, res) => {
      seen.push({ server: 'other', url: req.url!, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' }).end('[{"a":"o","b":"p"}]');
    });
    api = createServer((req, res) => {
      seen.push({ server: 'api', url: req.url!, headers: req.headers });
      if (req.url === '/redirect') res.writeHead(302, { location: `${urlOf(other)}/landing` }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('[{"a":"x","b":"y"}]');
    });
    for (const s of [api, other]) await once(s.listen(0, '127.0.0.1'), 'listening');
  });
  afterAll(() => Promise.all([api, other].map((s) => new Promise((r) => s.close(r).closeAllConnections()))));

  const ingest = (url: string, policy: SourcePolicy, headers: Record<string, unknown> = { authorization: { env: 'API_TOKEN' } }) =>
    ingestDataset(harness.database, { name: 'sec-http', columns, sources: [{ format: 'http', url, headers }] } as never, {
      sourceOptions: { policy, env: { API_TOKEN: secret, DATABASE_URL: 'postgres://keel:db-pw-7731@db/keel' }, sleep: async () => {} },
    });

  it('refuses an origin not allowed, and an environment header to an origin not allowed for that variable, before sending anything', async () => {
    seen.length = 0;
    const policy = readEnvironment({ KEEL_HTTP_SOURCES: `${urlOf(api)}=API_TOKEN` }).sources;
    await expect(ingest(`${urlOf(other)}/x`, policy)).rejects.toThrow(
      /dataset\.sources\.0\.url: http:\/\/127\.0\.0\.1:\d+ is refused: not an allowed HTTP source origin \(KEEL_HTTP_SOURCES: /,
    );
    await expect(ingest(`${urlOf(api)}/x`, policy, { authorization: { env: 'DATABASE_URL' } })).rejects.toThrow(
      /dataset\.sources\.0\.headers\.authorization: the environment variable DATABASE_URL may not be sent to http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(seen).toEqual([]);
  });

  it('sends an environment header to its origin, never across a redirect to another origin', async () => {
    seen.length = 0;
    const policy = readEnvironment({ KEEL_HTTP_SOURCES: `${urlOf(api)}=API_TOKEN,${urlOf(other)}` }).sources;
    expect((await ingest(`${urlOf(api)}/redirect`, policy)).rowCount).toBe(1);
    expect(seen.map((s) => [s.server, s.headers.authorization])).toEqual([
      ['api', secret],
      ['other', undefined],
    ]);
    // A redirect to an origin not allowed is refused.
    const apiOnly = readEnvironment({ KEEL_HTTP_SOURCES: `${urlOf(api)}=API_TOKEN` }).sources;
    await expect(ingest(`${urlOf(api)}/redirect`, apiOnly)).rejects.toThrow(/is refused: not an allowed HTTP source origin/);
  });
});

describe.runIf(inject('databaseUrl'))('postgres sources', () => {
  const url = () => inject('databaseUrl');
  beforeAll(async () => {
    const sql = postgres(url(), { max: 1, onnotice: () => {} });
    await sql`CREATE TABLE IF NOT EXISTS sec_target (a text, b text)`;
    await sql.end();
  });
  const ingest = (source: Record<string, unknown>, policy: SourcePolicy) =>
    ingestDataset(harness.database, { name: 'sec-pg', columns, sources: [{ format: 'postgres', ...source }] } as never, {
      sourceOptions: { policy, env: { DATABASE_URL: url(), WAREHOUSE_URL: url() } },
    });

  it("refuses keel's own database and any connection the operator did not name", async () => {
    const none = defaultSourcePolicy();
    await expect(ingest({ query: 'SELECT usename AS a, usename AS b FROM pg_user' }, none)).rejects.toThrow(
      /dataset\.sources\.0: a postgres source names no connection; set connection to one of the operator's aliases \(KEEL_POSTGRES_SOURCES: \(none\)\)/,
    );
    await expect(ingest({ query: 'SELECT 1', urlEnv: 'DATABASE_URL' }, none)).rejects.toThrow(
      /names the variable DATABASE_URL, which no connection alias uses/,
    );
    await expect(ingest({ query: 'SELECT 1', connection: 'prod' }, { ...none, postgres: { warehouse: 'WAREHOUSE_URL' } })).rejects.toThrow(
      /dataset\.sources\.0\.connection: "prod" is refused: not a connection the operator named \(KEEL_POSTGRES_SOURCES: warehouse\)/,
    );
  });

  it('runs read-only with a statement timeout: INSERT … RETURNING and a long query are refused', async () => {
    const policy = readEnvironment({ KEEL_POSTGRES_SOURCES: 'warehouse=WAREHOUSE_URL', KEEL_POSTGRES_SOURCE_TIMEOUT_MS: '300' }).sources;
    await expect(
      ingest({ connection: 'warehouse', query: "INSERT INTO sec_target VALUES ('x', 'y') RETURNING a, b" }, policy),
    ).rejects.toThrow(/SQLSTATE 25006: postgres sources are read-only/);
    await expect(ingest({ connection: 'warehouse', query: 'SELECT pg_sleep(5)::text AS a, 1::text AS b' }, policy)).rejects.toThrow(
      /SQLSTATE 57014/,
    );
    const sql = postgres(url(), { max: 1, onnotice: () => {} });
    expect((await sql`SELECT count(*)::int AS n FROM sec_target`)[0].n).toBe(0);
    await sql.end();
    expect((await ingest({ connection: 'warehouse', query: "SELECT 'x' AS a, 'y' AS b" }, policy)).rowCount).toBe(1);
  });
});

describe('command trainer', () => {
  it('refuses a program and arguments from the input, and a name not registered', async () => {
    const activities = createActivities({
      ...harnessDeps(),
      trainers: { 'byo-example': { argv: ['node', 'train.mjs'], dir: '.', passEnv: [] } },
    });
    const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    const input = (command: unknown) => ({
      model: 'm',
      datasetVersionId: 'none',
      features: [],
      target: 't',
      task: 'binary',
      trainer: { kind: 'command', command, params: {}, timeoutSeconds: 5 },
      split: {} as never,
      trial: 't',
    });
    await expect(env.run(activities.trainExternalModel, input(['sh', '-c', 'id']) as never)).rejects.toThrow(
      /trainer\.command: a program and its arguments are refused; name a trainer command instead \(registered in keel\.config\.json `trainers`: byo-example\)/,
    );
    await expect(env.run(activities.trainExternalModel, input('evil') as never)).rejects.toThrow(
      /trainer\.command: "evil" is not a registered trainer command/,
    );
  });

  it('gives the program a minimal environment and a temporary working directory: no DATABASE_URL, no keys', async () => {
    const script = `const fs=require('fs');fs.writeFileSync('model.onnx','x');fs.writeFileSync('metrics.json',JSON.stringify({env:process.env,cwd:process.cwd()}))`;
    const saved = { ...process.env };
    Object.assign(process.env, {
      DATABASE_URL: 'postgres://keel:pw-55aa@db/keel',
      KEEL_ADMIN_KEYS: 'admin-key-0123456789',
      TEMPORAL_API_KEY: 'tk-0123456789',
    });
    try {
      const result = await runExternalTrainer({
        command: ['node', '-e', script],
        params: {},
        features: [],
        target: 't',
        task: 'binary',
        train: [],
        validation: [],
        timeoutMs: 20_000,
      });
      const { env, cwd } = result.reportedMetrics as { env: Record<string, string>; cwd: string };
      expect(
        Object.keys(env)
          .filter((k) => !k.startsWith('KEEL_'))
          .sort(),
      ).toEqual(['HOME', 'LANG', 'PATH', 'TMPDIR']);
      expect(
        Object.keys(env)
          .filter((k) => k.startsWith('KEEL_'))
          .sort(),
      ).toEqual(['KEEL_OUTPUT_DIR', 'KEEL_PARAMS_FILE', 'KEEL_TRAIN_FILE', 'KEEL_VALIDATION_FILE']);
      expect(cwd.startsWith(tmpdir())).toBe(true);
      expect(env.HOME).toBe(cwd);
    } finally {
      process.env = saved;
    }
  });
});

function harnessDeps() {
  return { database: harness.database, artifacts: harness.artifacts, codeVersion: readCodeVersion(), logger: { warn() {} } as never };
}
