import { NativeConnection } from '@temporalio/worker';
import { eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities';
import { startListingsServer, type ListingsServer } from '../../examples/home-prices/serve';
import { getDatasetVersion, readDatasetRows } from '../../src/data/dataset-store';
import { ingestDataset } from '../../src/data/ingest';
import { validateDatasetVersion } from '../../src/data/validate';
import type { Database } from '../../src/db/database';
import { datasetIngests, datasetRows, datasetVersions } from '../../src/db/schema';
import { readCodeVersion } from '../../src/runtime/code-version';
import { loadProjectConfig } from '../../src/runtime/project-config';
import { createWorkers } from '../../src/runtime/workers';
import type { TrainingPipelineResult } from '../../src/shared/pipeline-result';
import { taskQueues } from '../../src/shared/task-queues';
import { homeConfig } from '../unit/data-helpers';
import { createHarness, type Harness } from './harness';

/**
 * Data ingest against the run's database (PostgreSQL in CI: the streaming COPY path) and, through
 * the real trainingPipeline on the Temporal dev server, an ingest activity whose first attempt
 * dies after its rows were written: Temporal retries it and the retry cleans up.
 */
describe('data ingest on the run database', () => {
  let harness: Harness;
  let server: ListingsServer;

  beforeAll(async () => {
    harness = await createHarness();
    server = await startListingsServer();
  });
  afterAll(async () => {
    await server?.close();
    await harness?.close();
  });

  async function count(id: string): Promise<number> {
    const [row] = await harness.database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(datasetRows)
      .where(eq(datasetRows.datasetVersionId, id));
    return row.n;
  }

  it('ingests the three home-price sources, passes the rules, and re-ingests into nothing new', async () => {
    const { dataset, rules } = homeConfig(server.url);
    const first = await ingestDataset(harness.database, dataset);
    expect(first).toMatchObject({ rowsRead: 413, rowCount: 325, quarantinedCount: 9, duplicateCount: 79, created: true });
    expect(await count(first.datasetVersionId)).toBe(325);
    await validateDatasetVersion(harness.database.db, first.datasetVersionId, rules);
    const second = await ingestDataset(harness.database, dataset);
    expect(second).toEqual({ ...first, created: false });
    expect(await count(first.datasetVersionId)).toBe(325);
    const versions = await harness.database.db.select().from(datasetVersions).where(eq(datasetVersions.name, 'home-prices'));
    expect(versions).toHaveLength(1);
    const rows = await readDatasetRows(harness.database.db, first.datasetVersionId);
    expect(rows.filter((r) => r.address === '15 Star Thistle, Irvine, CA 92604')).toHaveLength(1);
  });

  it('awkward text survives the bulk load unchanged (backslashes, quotes, tabs, newlines, unicode)', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join((await import('node:os')).tmpdir(), 'keel-awkward-'));
    const texts = ['C:\\temp\\new', 'say "hi"', 'tab\there', 'line\nbreak\r\n', 'naïve café ☕ 𝄞', '\\N', '', ' padded '];
    const path = join(dir, 'awkward.jsonl');
    writeFileSync(path, texts.map((text, i) => JSON.stringify({ i, text })).join('\n'));
    const result = await ingestDataset(harness.database, {
      name: 'awkward-text',
      recipe: 'mapping',
      columns: [
        { name: 'i', type: 'integer' },
        { name: 'text', type: 'string' },
      ],
      sources: [{ format: 'jsonl', name: 'awkward', path }],
    });
    const rows = await readDatasetRows(harness.database.db, result.datasetVersionId);
    // Strings are trimmed, and an empty one is missing (null): that is the mapping, not the load.
    expect(rows).toEqual(texts.map((text, i) => ({ i, text: text.trim() === '' ? null : text.trim() })));
  });

  it('trainingPipeline: an ingest attempt that dies after writing its rows is retried and cleaned up', async () => {
    const base = await loadProjectConfig('keel.config.json');
    const model = `data-retry-${Date.now().toString(36)}`;
    const input = {
      ...base.pipeline,
      model,
      deploy: false,
      dataset: { ...base.pipeline.dataset, name: `flights-retry-${Date.now().toString(36)}`, limit: 4000 },
    };
    const crashing = crashOnceAtPublish(harness.database);
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    try {
      const activities = createActivities({
        database: crashing,
        artifacts: harness.artifacts,
        codeVersion: readCodeVersion(),
        logger: pino({ level: 'warn' }),
      });
      const workers = await createWorkers({
        connection,
        namespace: 'default',
        activities,
        workflowBundle: { codePath: inject('workflowBundlePath') },
      });
      const handle = await harness.client.workflow.start('trainingPipeline', {
        taskQueue: taskQueues.control,
        workflowId: `train/${model}/retry`,
        args: [input],
      });
      const settled = handle.result().then(
        () => undefined,
        () => undefined,
      );
      await Promise.all(workers.map((worker) => worker.runUntil(settled)));
      const result = (await handle.result()) as TrainingPipelineResult;
      expect(crashing.crashes()).toBe(1);
      expect(['registered', 'rejected']).toContain(result.status);

      // Two attempts under one ingest key: the crashed one cleaned by the retry, the retry complete.
      const attempts = await harness.database.db.select().from(datasetIngests).where(eq(datasetIngests.name, input.dataset.name));
      expect(attempts).toHaveLength(2);
      expect(new Set(attempts.map((a) => a.ingestKey)).size).toBe(1);
      const crashed = attempts.find((a) => a.id !== result.datasetVersionId)!;
      expect(crashed.status).toBe('cleaned');
      expect(await count(crashed.id)).toBe(0);
      const version = await getDatasetVersion(harness.database.db, result.datasetVersionId);
      expect(version).toMatchObject({ rowsRead: 4000 });
      expect(await count(result.datasetVersionId)).toBe(version!.rowCount);
    } finally {
      await connection.close();
    }
  });
});

/**
 * The database as an ingest sees it, except that the first publish (the transaction that writes the
 * version row, after the attempt registered itself and wrote all its rows) "kills the worker": that
 * call and every call in the next 800 ms fail, so the attempt cannot clean up after itself; then
 * the database is back (Temporal retries after 1 s).
 */
function crashOnceAtPublish(database: Database): Database & { crashes(): number } {
  let crashes = 0;
  let armed = false;
  let downUntil = 0;
  const down = () => Date.now() < downUntil;
  const db = new Proxy(database.db, {
    get(target, property, receiver) {
      if (down()) throw new Error('simulated crash: the worker died');
      if (property === 'insert') {
        const insert = Reflect.get(target, property, receiver) as (table: unknown) => unknown;
        return (table: unknown) => {
          if (table === datasetIngests) armed = true;
          return insert.call(target, table);
        };
      }
      if (property === 'transaction' && armed && crashes === 0) {
        crashes++;
        downUntil = Date.now() + 800;
        throw new Error('simulated crash: the worker died');
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return {
    kind: database.kind,
    db,
    copyRows: (table, columns, rows) => {
      if (down()) return Promise.reject(new Error('simulated crash: the worker died'));
      return database.copyRows(table, columns, rows);
    },
    copyText: (table, columns, text) =>
      down() ? Promise.reject(new Error('simulated crash: the worker died')) : database.copyText(table, columns, text),
    close: () => database.close(),
    crashes: () => crashes,
  };
}
