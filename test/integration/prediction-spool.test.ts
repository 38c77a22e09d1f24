import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { predictionLog } from '../../src/db/schema';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { freePort } from '../../src/runtime/ports';
import { registerTinyProduction } from '../fixtures/register-onnx';
import { childrenOf, waitUntil } from './server-process-support';

const url = inject('databaseUrl');
const model = `spool-${Date.now().toString(36)}`;

/**
 * `npm run server` killed with SIGKILL under load, as a crash or the OOM killer would: every
 * prediction answered 200 must reach prediction_log exactly once, through the spool's replay
 * when the server (or the cluster primary's replacement process) starts again.
 */
describe.skipIf(!url)('the prediction spool: no answered prediction is lost when a server process is killed', () => {
  let dir: string;
  let database: Database;
  let port: number;
  let base: string;
  const servers: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-spool-it-'));
    database = await openDatabase({ url, dataDir: dir });
    const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
    await registerTinyProduction({ database, artifacts }, model, { key: `${model}/1` });
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
  }, 60_000);

  afterAll(async () => {
    for (const server of servers) if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    await database.close();
    await rm(dir, { recursive: true, force: true });
  });

  const start = (processes: number) => {
    const server = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/server-main.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: url,
        KEEL_DATA_DIR: dir,
        KEEL_PORT: String(port),
        KEEL_SERVER_PROCESSES: String(processes),
        KEEL_SERVE_MODELS: model,
        LOG_LEVEL: 'warn',
        KEEL_API_KEYS: '',
        KEEL_ADMIN_KEYS: '',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    servers.push(server);
    return server;
  };
  const ready = async () => (await fetch(`${base}/v2/health/ready`, { headers: { connection: 'close' } })).status === 200;

  /**
   * ~200 requests/s (one every 5 ms, a connection each: node:cluster spreads connections) until
   * `kill` is called after `killAfterMs`; the ids of every prediction answered 200, and how many
   * of those answered before the kill were not in the database half a second after it (what the
   * killed process held in memory; measured before any replacement could replay them).
   */
  async function loadUntilKilled(killAfterMs: number, kill: () => void): Promise<{ answered: string[]; notLoggedAtKill: number }> {
    const answered: string[] = [];
    const inFlight: Promise<void>[] = [];
    let i = 0;
    const send = () =>
      fetch(`${base}/v1/models/${model}:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ instances: [{ distance: 100 + (i++ % 900), origin: 'ORD' }] }),
        signal: AbortSignal.timeout(5000),
      }).then(
        async (response) => {
          if (response.status !== 200) return;
          const body = (await response.json()) as { predictions: { id: string }[] };
          answered.push(body.predictions[0].id);
        },
        () => {},
      );
    const started = Date.now();
    while (Date.now() - started < killAfterMs) {
      inFlight.push(send());
      await new Promise((r) => setTimeout(r, 5));
    }
    kill();
    const answeredAtKill = [...answered];
    const measured = new Promise((r) => setTimeout(r, 500)).then(() => notLogged(answeredAtKill));
    // A few more while the process is gone (refused, or answered by the other process).
    for (let k = 0; k < 20; k++) {
      inFlight.push(send());
      await new Promise((r) => setTimeout(r, 5));
    }
    // (A connection the cluster primary handed to the killed process hangs until its timeout.)
    await Promise.all(inFlight);
    return { answered, notLoggedAtKill: (await measured).length };
  }

  const loggedCounts = async (ids: string[]) => {
    const rows = await database.db
      .select({ id: predictionLog.id, n: sql<number>`count(*)::int` })
      .from(predictionLog)
      .where(inArray(predictionLog.id, ids))
      .groupBy(predictionLog.id);
    return new Map(rows.map((r) => [r.id, r.n]));
  };

  /** Waits for every id to be logged, then checks each is there exactly once. */
  async function expectEachLoggedOnce(ids: string[]): Promise<void> {
    await waitUntil(async () => (await loggedCounts(ids)).size === ids.length, 60_000).catch(() => {});
    const counts = await loggedCounts(ids);
    const lost = ids.filter((id) => !counts.has(id));
    const duplicated = [...counts].filter(([, n]) => n !== 1);
    expect({ answered: ids.length, lost: lost.length, duplicated: duplicated.length }).toEqual({
      answered: ids.length,
      lost: 0,
      duplicated: 0,
    });
    // And the model's log holds no row twice (its total counts every row, answered or not).
    const [{ rows, distinct }] = await database.db
      .select({ rows: sql<number>`count(*)::int`, distinct: sql<number>`count(distinct ${predictionLog.id})::int` })
      .from(predictionLog)
      .where(sql`${predictionLog.modelName} = ${model}`);
    expect(rows).toBe(distinct);
  }

  /** The ids answered but not (yet) in the database: what the killed process held in memory. */
  const notLogged = async (ids: string[]) => {
    const counts = await loggedCounts(ids);
    return ids.filter((id) => !counts.has(id));
  };

  it('replays what a SIGKILLed server answered but had not written, when it starts again', async () => {
    const first = start(1);
    await waitUntil(ready, 60_000);
    const exited = once(first, 'exit');
    const { answered, notLoggedAtKill } = await loadUntilKilled(2000, () => first.kill('SIGKILL'));
    await exited;
    expect(answered.length).toBeGreaterThan(100);
    // The kill did catch answered predictions not yet in the database: the replay has work to do.
    expect(notLoggedAtKill).toBeGreaterThan(0);

    const second = start(1);
    await waitUntil(ready, 60_000);
    await expectEachLoggedOnce(answered);
    // The dead process's segments are replayed and deleted: only the running process's directory is left.
    await waitUntil(
      async () => (await spoolFiles()).every((f) => !f.includes('replay-')) && (await readdir(join(dir, 'prediction-spool'))).length === 1,
      10_000,
    );
    second.kill('SIGTERM');
    const [code] = (await once(second, 'exit')) as [number | null];
    expect(code).toBe(0);
    // A clean stop leaves no spool behind.
    expect(await spoolFiles()).toEqual([]);
  }, 180_000);

  it('replays what a SIGKILLed process of several answered, in the process the primary starts instead', async () => {
    const primary = start(2);
    // Both listening (each answers the primary's metrics scrape only from then on), so both take load.
    await waitUntil(
      async () =>
        (await ready()) &&
        new Set((await (await fetch(`${base}/metrics`, { headers: { connection: 'close' } })).text()).match(/process="\d+"/g)).size === 2,
      60_000,
    );
    const [victim] = childrenOf(primary.pid!);
    const { answered, notLoggedAtKill } = await loadUntilKilled(2000, () => process.kill(victim, 'SIGKILL'));
    expect(answered.length).toBeGreaterThan(100);
    expect(notLoggedAtKill).toBeGreaterThan(0);
    // The replacement replays the dead process's segments; the primary and the survivor keep running.
    await expectEachLoggedOnce(answered);
    expect(childrenOf(primary.pid!).filter((pid) => pid !== victim)).toHaveLength(2);
    primary.kill('SIGTERM');
    const [code] = (await once(primary, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(await spoolFiles()).toEqual([]);
  }, 180_000);

  async function spoolFiles(): Promise<string[]> {
    const root = join(dir, 'prediction-spool');
    const found: string[] = [];
    for (const owner of await readdir(root).catch(() => []))
      for (const file of await readdir(join(root, owner)).catch(() => [])) found.push(`${owner}/${file}`);
    return found;
  }
});
