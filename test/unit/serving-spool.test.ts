import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inArray } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { predictionLog } from '../../src/db/schema';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { setAlias } from '../../src/registry/aliases';
import { startModelServer } from '../../src/serving/http-server';
import { logLine, type PredictionLogEntry } from '../../src/serving/log-line';
import { databaseSink } from '../../src/serving/prediction-log';
import { buildTinyLogisticOnnx } from '../fixtures/tiny-logistic-onnx';
import { registerOnnxVersion } from '../fixtures/register-onnx';

const MODEL = 'spooled';
const quiet = pino({ level: 'silent' });
let dir: string;
let database: Database;
let artifacts: LocalArtifactStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-serving-spool-'));
  database = await openDatabase({ dataDir: join(dir, 'db') });
  artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  const spec = {
    numeric: [{ name: 'distance', weight: 0.002, mean: 800 }],
    categorical: [{ name: 'origin', weights: { ORD: 0.7 } }],
    bias: -1.2,
  };
  const { version } = await registerOnnxVersion({ database, artifacts }, MODEL, buildTinyLogisticOnnx(spec), { key: `${MODEL}/1` });
  await setAlias(database.db, { model: MODEL, alias: 'production', version, actor: 'test', reason: 'test' });
});

afterAll(async () => {
  await database?.close();
  await rm(dir, { recursive: true, force: true });
});

const entry = (id: string): PredictionLogEntry => ({
  id,
  model: MODEL,
  version: 1,
  inputs: { distance: 1 },
  outputs: '{"probability":0.5,"label":1}',
  latencyMs: 1,
  createdAt: new Date(),
});
const logged = async (ids: string[]) =>
  (await database.db.select({ id: predictionLog.id }).from(predictionLog).where(inArray(predictionLog.id, ids))).map((r) => r.id).sort();

describe('the model server with a prediction spool (embedded PGlite)', () => {
  it("replays a dead process's segment on start, skipping what is logged and a torn last line, then answers through the spool", async () => {
    const spoolDir = join(dir, 'spool');
    const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const deadDir = join(spoolDir, `${deadPid}-0-0badc0de`);
    await mkdir(deadDir, { recursive: true });
    const ids = ['0190aaaa-0000-7000-8000-000000000001', '0190aaaa-0000-7000-8000-000000000002', '0190aaaa-0000-7000-8000-000000000003'];
    // The dead process had committed the first before it died.
    await databaseSink(database)([logLine(entry(ids[0]))], 0);
    const torn = logLine(entry('0190aaaa-0000-7000-8000-000000000004')).slice(0, 30);
    await writeFile(join(deadDir, '00000001.spool'), ids.map((id) => logLine(entry(id))).join('') + torn);

    const server = await startModelServer({
      database,
      artifacts,
      port: 0,
      refreshMs: 0,
      logger: quiet,
      predictionLog: { spool: { dir: spoolDir } },
    });
    try {
      await server.replay!.idle();
      expect(await logged([...ids, '0190aaaa-0000-7000-8000-000000000004'])).toEqual(ids);
      expect(server.logWriter.stats()).toMatchObject({ replayed: 2, dropped: 0 });
      // The dead process's directory is gone; only this process's remains.
      expect(await readdir(spoolDir)).toEqual([server.logWriter.spoolDir!.slice(spoolDir.length + 1)]);

      const response = await fetch(`${server.url}/v1/models/${MODEL}:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances: [{ distance: 300, origin: 'ORD' }] }),
      });
      expect(response.status).toBe(200);
      const [{ id }] = ((await response.json()) as { predictions: { id: string }[] }).predictions;
      // Answered: its line is in this process's spool already.
      expect(await readdir(server.logWriter.spoolDir!)).toHaveLength(1);
      await server.close();
      expect(await logged([id])).toEqual([id]);
      // A clean stop leaves no spool behind.
      expect(await readdir(spoolDir)).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
