import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { openArtifactStore } from '../../src/registry/artifact-config';
import { freePort } from '../../src/runtime/ports';
import { registerTinyProduction, TINY_SPEC } from '../fixtures/register-onnx';
import { recordFault } from './support/figures';
import { percentile, runLoad } from './support/load';
import { type KeelProcess, ProcessSet } from './support/processes';
import { createScratchCluster, type ScratchCluster } from './support/scratch-cluster';

const RATE = 250;
const SECONDS = 25;
/** The database is down from OUTAGE_FROM_S to OUTAGE_TO_S of the load. */
const OUTAGE_FROM_S = 5;
const OUTAGE_TO_S = 17;

/**
 * PostgreSQL crashes (`pg_ctl stop -m immediate`) under a bounded load on the model server, and
 * comes back 12 s later. The server answers every request throughout (it serves from memory),
 * the prediction log holds the rows and retries, and once the database is back the log holds
 * exactly one row per 2xx answer: none lost, none twice. The p99 latency during the outage is
 * reported. The cluster is the test's own (the machine's cluster serves other work).
 */
describe('PostgreSQL down under load', () => {
  const model = `pg-outage-${Date.now().toString(36)}`;
  const processes = new ProcessSet();
  let cluster: ScratchCluster;
  let database: Database;
  let serverUrl: string;
  let server: KeelProcess;

  beforeAll(async () => {
    const dir = join(inject('faultsWorkDir'), model);
    await mkdir(dir, { recursive: true });
    cluster = await createScratchCluster();
    database = await openDatabase({ url: cluster.url, dataDir: dir });
    const artifacts = openArtifactStore({ kind: 'local', dir: join(dir, 'artifacts') });
    const spec = { ...TINY_SPEC, categorical: [{ name: 'origin', weights: { ORD: 0.7, JFK: -0.3 } }] };
    await registerTinyProduction({ database, artifacts }, model, { key: `${model}/1`, spec });
    const port = await freePort();
    server = await processes.start('server', {
      DATABASE_URL: cluster.url,
      KEEL_DATA_DIR: dir,
      KEEL_PORT: String(port),
      KEEL_SERVE_MODELS: model,
      KEEL_ARTIFACT_STORE: '',
    });
    serverUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await processes.stopAll();
    await database?.close().catch(() => {});
    await cluster?.remove();
  });

  it('keeps answering, and logs every answered prediction once the database is back', async () => {
    await recordFault(inject('faultsFiguresPath'), 'postgres outage under load', async (figures) => {
      const origins = ['ORD', 'JFK', 'LAX', 'ATL'];
      let n = 0;
      const send = async () => {
        const response = await fetch(`${serverUrl}/v1/models/${model}:predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ instances: [{ distance: 100 + (n++ % 2900), origin: origins[n % 4] }] }),
        });
        await response.arrayBuffer();
        return response.status;
      };
      const outage = (async () => {
        await sleep(OUTAGE_FROM_S * 1000);
        await cluster.crash();
        await sleep((OUTAGE_TO_S - OUTAGE_FROM_S) * 1000);
        await cluster.start();
      })();
      const { samples, skipped } = await runLoad({ rate: RATE, seconds: SECONDS, send, maxInFlight: 1000 });
      await outage;

      const ok = samples.filter((s) => s.status >= 200 && s.status < 300).length;
      const duringOutage = samples.filter((s) => s.at >= OUTAGE_FROM_S * 1000 && s.at < OUTAGE_TO_S * 1000);
      figures.outageP99Ms =
        Math.round(
          percentile(
            duringOutage.map((s) => s.latencyMs),
            99,
          ) * 10,
        ) / 10;

      // The log catches up once the database is back: the writer retries its held rows, after
      // postgres.js's reconnect backoff (up to 20 s after many refused connections).
      const sql = postgres(cluster.url, { max: 1, onnotice: () => {} });
      let logged = -1;
      try {
        for (let lastChange = Date.now(); Date.now() - lastChange < 25_000; await sleep(500)) {
          const [{ count }] = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM prediction_log WHERE model_name = ${model}`;
          if (count !== logged) lastChange = Date.now();
          logged = count;
          if (logged >= ok) break;
        }
        const [{ distinct }] = await sql<
          { distinct: number }[]
        >`SELECT count(DISTINCT id)::int AS distinct FROM prediction_log WHERE model_name = ${model}`;
        figures.rowsDuplicated = logged - distinct;
      } finally {
        await sql.end();
      }
      figures.predictionsLost = Math.max(0, ok - logged);
      const statuses: Record<number, number> = {};
      for (const s of samples) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
      console.log(
        `postgres outage: ${samples.length} requests (${skipped} not sent: too many in flight), statuses ${JSON.stringify(statuses)}, ` +
          `${duringOutage.length} during the outage with p99 ${figures.outageP99Ms} ms (p50 ${percentile(
            duringOutage.map((s) => s.latencyMs),
            50,
          ).toFixed(1)} ms); ` +
          `${logged} rows logged for ${ok} 2xx answers`,
      );
      const logWarnings = server
        .log()
        .split('\n')
        .filter((line) => /prediction log/.test(line));
      if (logWarnings.length)
        console.log(`the server's prediction-log warnings (${logWarnings.length}), the last ones:\n${logWarnings.slice(-4).join('\n')}`);
      expect(skipped).toBe(0);
      expect(duringOutage.length).toBeGreaterThan(RATE * (OUTAGE_TO_S - OUTAGE_FROM_S) * 0.9);
      expect(ok, 'the server failed requests while the database was down').toBe(samples.length);
      expect(logged - (figures.rowsDuplicated ?? 0), 'answered predictions missing from the log').toBe(ok);
      expect(figures.rowsDuplicated).toBe(0);
    });
  });
});
