import { execFile } from 'node:child_process';
import { mkdir, open, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { openArtifactStore } from '../../src/registry/artifact-config';
import { freePort } from '../../src/runtime/ports';
import { registerTinyProduction } from '../fixtures/register-onnx';
import { recordFault } from './support/figures';
import { runLoad, type Sample } from './support/load';
import { type KeelProcess, ProcessSet } from './support/processes';

const run = promisify(execFile);
const RATE = 100;
const PHASE_SECONDS = 4;

/**
 * The prediction spool's disk fills up under load, then space returns. The spool's directory is a
 * 2 MB tmpfs of the test's own (mounting needs root, as the suite runs here), filled to the last
 * byte by a filler file. What keel promises: an answer goes out only once its log line is in the
 * spool, so while no line can be written the server answers 503 (with Retry-After) rather than
 * acknowledge a prediction it could lose; it stays up; once space returns it answers 200 again;
 * and every prediction it answered 2xx, before, during and after, is logged exactly once.
 */
describe('the prediction spool’s disk full', () => {
  const model = `disk-full-${Date.now().toString(36)}`;
  const processes = new ProcessSet();
  let database: Database;
  let server: KeelProcess;
  let serverUrl: string;
  let spoolDir: string;
  let mounted = false;

  beforeAll(async () => {
    const dir = join(inject('faultsWorkDir'), model);
    spoolDir = join(dir, 'spool');
    await mkdir(spoolDir, { recursive: true });
    await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', spoolDir]).catch((error: Error) => {
      throw new Error(`the disk-full fault mounts a small tmpfs for the spool and needs root: ${error.message}`);
    });
    mounted = true;
    database = await openDatabase({ url: inject('faultsDatabaseUrl'), dataDir: dir });
    const artifacts = openArtifactStore({ kind: 'local', dir: join(dir, 'artifacts') });
    await registerTinyProduction({ database, artifacts }, model, { key: `${model}/1` });
    const port = await freePort();
    server = await processes.start('server', {
      DATABASE_URL: inject('faultsDatabaseUrl'),
      KEEL_DATA_DIR: dir,
      KEEL_PORT: String(port),
      KEEL_SERVE_MODELS: model,
      KEEL_ARTIFACT_STORE: join(dir, 'artifacts'),
      KEEL_PREDICTION_SPOOL_DIR: spoolDir,
    });
    serverUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await processes.stopAll();
    await database?.close();
    if (mounted) await run('umount', [spoolDir]);
  });

  it('answers 503 while the spool cannot write, loses no acknowledged prediction, and recovers when space returns', async () => {
    await recordFault(inject('faultsFiguresPath'), 'disk full: prediction spool', async (figures) => {
      let n = 0;
      let retryAfter = 0;
      const send = async () => {
        const response = await fetch(`${serverUrl}/v1/models/${model}:predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ instances: [{ distance: 100 + (n++ % 2900), origin: n % 2 ? 'ORD' : 'JFK' }] }),
        });
        await response.arrayBuffer();
        if (response.status === 503 && response.headers.get('retry-after')) retryAfter++;
        return response.status;
      };
      const phase = () => runLoad({ rate: RATE, seconds: PHASE_SECONDS, send });
      const count = (samples: Sample[]) => {
        const statuses: Record<number, number> = {};
        for (const s of samples) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
        return statuses;
      };

      const before = await phase();
      // Idle, the server closes and deletes its settled segment within a flush tick (200 ms); then
      // the filler takes that room too, and not a line more can be spooled.
      await sleep(1_500);
      const filler = join(spoolDir, 'filler');
      await fillUp(filler);
      const full = await phase();
      await rm(filler);
      // The first group written after space returns answers again; give the event loop a moment.
      await sleep(500);
      const after = await phase();
      console.log(
        `disk full: statuses before ${JSON.stringify(count(before.samples))}, while full ${JSON.stringify(count(full.samples))}, ` +
          `after ${JSON.stringify(count(after.samples))}; ${retryAfter} 503s with Retry-After`,
      );

      const all = [...before.samples, ...full.samples, ...after.samples];
      const ok = all.filter((s) => s.status >= 200 && s.status < 300).length;
      const sql = postgres(inject('faultsDatabaseUrl'), { max: 1, onnotice: () => {} });
      let logged = 0;
      let distinct = 0;
      try {
        for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(250)) {
          [{ logged, distinct }] = await sql<{ logged: number; distinct: number }[]>`
            SELECT count(*)::int AS logged, count(DISTINCT id)::int AS distinct FROM prediction_log WHERE model_name = ${model}`;
          if (logged >= ok) break;
        }
      } finally {
        await sql.end();
      }
      figures.predictionsLost = Math.max(0, ok - distinct);
      figures.rowsDuplicated = logged - distinct;
      expect(server.exited(), 'the server ended when its disk filled').toBe(false);
      expect(count(before.samples)[503], 'the spool refused lines while it had room').toBeUndefined();
      expect(count(full.samples), 'the server acknowledged predictions it could not spool').toEqual({ 503: full.samples.length });
      expect(retryAfter).toBe(full.samples.length);
      // Recovered: no more 503s. (A request can still fail in transport on a machine far beyond its
      // cores; that is no answer, and nothing to log.)
      expect(count(after.samples)[503], 'the server still refused to answer once space returned').toBeUndefined();
      expect(count(after.samples)[200] ?? 0, 'the server did not recover when space returned').toBeGreaterThan(after.samples.length * 0.9);
      expect(distinct, 'acknowledged predictions missing from the log').toBe(ok);
      expect(figures.rowsDuplicated).toBe(0);
    });
  });
});

/** Fills the filesystem of `path` to the last byte it will take (ENOSPC). */
async function fillUp(path: string): Promise<void> {
  const { bavail, bsize } = await statfs(join(path, '..'));
  const file = await open(path, 'w');
  try {
    await file.write(Buffer.alloc(Number(bavail) * Number(bsize)));
    for (const chunk = Buffer.alloc(512); ;) await file.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await file.close();
  }
}
