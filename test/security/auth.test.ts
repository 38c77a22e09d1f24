import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { readEnvironment } from '../../src/runtime/environment';
import { actorOf, type ApiKeys, Authenticator, noKeys } from '../../src/serving/auth';
import { type ModelServer, startModelServer } from '../../src/serving/http-server';
import { actionAccess } from '../../src/ui/actions';

// Issue #14, "Auth is off by default": each attack of 2026-12-06 against a real model server.

let dir: string;
let database: Database;
const lines: { msg: string; level: number }[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string; level: number }) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-sec-auth-'));
  database = await openDatabase({ url: inject('databaseUrl') || undefined, dataDir: dir });
});
afterAll(async () => {
  await database?.close();
  await rm(dir, { recursive: true, force: true });
});

async function withServer<T>(options: { host?: string; apiKeys: ApiKeys }, work: (server: ModelServer) => Promise<T>): Promise<T> {
  const server = await startModelServer({
    database,
    artifacts: new LocalArtifactStore(join(dir, 'artifacts')),
    port: 0,
    host: options.host,
    refreshMs: 0,
    models: ['none'],
    inferenceThreads: 0,
    logger,
    apiKeys: options.apiKeys,
    predictionLog: { spool: undefined },
  });
  try {
    return await work(server);
  } finally {
    await server.close();
  }
}

const base = (server: ModelServer) => `http://127.0.0.1:${server.port}`;
const refresh = (server: ModelServer, headers: Record<string, string> = {}) =>
  fetch(`${base(server)}/v1/admin/refresh`, { method: 'POST', headers });
const deleteRoute = (server: ModelServer, headers: Record<string, string> = {}) =>
  fetch(`${base(server)}/v1/admin/routes/flights`, { method: 'DELETE', headers });
const predict = (server: ModelServer, headers: Record<string, string> = {}) =>
  fetch(`${base(server)}/v1/models/none:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{"instances":[{"x":1}]}',
  });

describe('admin routes', () => {
  it('stay closed to anonymous callers when only KEEL_API_KEYS is set (was: open)', async () => {
    const apiKeys = readEnvironment({ KEEL_API_KEYS: 'client-key-0123456789' }).apiKeys;
    await withServer({ apiKeys }, async (server) => {
      for (const send of [refresh, deleteRoute]) {
        const anonymous = await send(server);
        expect(anonymous.status).toBe(403);
        expect(((await anonymous.json()) as { error: string }).error).toMatch(
          /admin routes are closed: API keys are configured but no admin key/,
        );
        expect((await send(server, { authorization: 'Bearer client-key-0123456789' })).status).toBe(403);
      }
      expect((await predict(server)).status).toBe(401);
    });
  });

  it('are closed when the server listens beyond loopback with no admin key, and say so at start', async () => {
    lines.length = 0;
    await withServer({ host: '0.0.0.0', apiKeys: { predict: [], admin: [] } }, async (server) => {
      expect((await refresh(server)).status).toBe(403);
      expect((await deleteRoute(server)).status).toBe(403);
      // Prediction stays open (no KEEL_API_KEYS), and the start-up line says so.
      expect((await predict(server)).status).toBe(404);
    });
    const access = lines.find((l) => l.msg.startsWith('model server access:'));
    expect(access?.msg).toMatch(
      /predict, feedback, metadata open to anyone.*admin \(refresh, routes\) CLOSED \(listening on 0\.0\.0\.0, not loopback/,
    );
    expect(access?.level).toBe(40);
  });

  it('stay open on loopback with no key at all, and the start-up line warns', async () => {
    lines.length = 0;
    await withServer({ apiKeys: { predict: [], admin: [] } }, async (server) => {
      expect((await refresh(server)).status).toBe(200);
    });
    expect(lines.find((l) => l.msg.startsWith('model server access:'))?.msg).toMatch(
      /admin \(refresh, routes\) OPEN to anyone on this machine/,
    );
  });
});

describe('keys', () => {
  const apiKeys: ApiKeys = {
    predict: ['client-key-0123456789'],
    admin: ['admin-key-0123456789'],
    named: [{ name: 'alice', key: 'alice-key-0123456789', role: 'admin' }],
  };

  it('accept the bearer scheme in any case and X-API-Key; refuse unknown keys and a prediction key on admin routes', async () => {
    await withServer({ apiKeys }, async (server) => {
      for (const scheme of ['Bearer', 'bearer', 'BEARER'])
        expect((await predict(server, { authorization: `${scheme} client-key-0123456789` })).status, scheme).toBe(404);
      expect((await predict(server, { 'x-api-key': 'client-key-0123456789' })).status).toBe(404);
      expect((await predict(server, { authorization: 'Bearer client-key-012345678' })).status).toBe(401);
      expect((await predict(server, { authorization: 'Basic client-key-0123456789' })).status).toBe(401);
      expect((await refresh(server, { authorization: 'bearer client-key-0123456789' })).status).toBe(403);
      expect((await refresh(server, { authorization: 'bearer admin-key-0123456789' })).status).toBe(200);
      expect((await refresh(server, { 'x-api-key': 'alice-key-0123456789' })).status).toBe(200);
    });
  });

  it('close the dashboard actions when any key is configured but no admin key', () => {
    const temporal = async () => ({}) as never;
    expect(actionAccess({ adminKeys: [], host: '127.0.0.1', temporal })).toMatchObject({ enabled: true, keyRequired: false });
    expect(
      actionAccess({ adminKeys: [], apiKeys: { predict: ['client-key-0123456789'], admin: [] }, host: '127.0.0.1', temporal }),
    ).toMatchObject({ enabled: false });
    expect(actionAccess({ adminKeys: [], host: '0.0.0.0', temporal })).toMatchObject({ enabled: false });
    expect(actionAccess({ adminKeys: ['admin-key-0123456789'], host: '0.0.0.0', temporal })).toMatchObject({
      enabled: true,
      keyRequired: true,
    });
  });
});

describe('the keys file', () => {
  it('names who acted, and a bad file is refused naming the field, never a key', async () => {
    const file = join(dir, 'keys.json');
    await writeFile(file, JSON.stringify({ keys: [{ name: 'alice', key: 'alice-key-0123456789', role: 'admin' }] }));
    const env = readEnvironment({ KEEL_KEYS_FILE: file });
    expect(env.apiKeys.named).toEqual([{ name: 'alice', key: 'alice-key-0123456789', role: 'admin' }]);
    expect(env.adminKeys).toEqual(['alice-key-0123456789']);
    const caller = new Authenticator(env.apiKeys).check({ authorization: 'Bearer alice-key-0123456789' }, 'admin');
    expect(actorOf(caller, 'user:mallory', 'http:admin')).toBe('key:alice');
    expect(actorOf(new Authenticator(noKeys).check({}, 'admin'), 'user:bob', 'http:admin')).toBe('user:bob');

    await writeFile(file, JSON.stringify({ keys: [{ name: 'bob', key: 'short-s3cret', role: 'root' }] }));
    const error = (() => {
      try {
        readEnvironment({ KEEL_KEYS_FILE: file });
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(error).toMatch(/KEEL_KEYS_FILE .*keys\.json: keys\.0\.key: must be at least 16 characters; keys\.0\.role: /);
    expect(error).not.toContain('short-s3cret');
  });
});
