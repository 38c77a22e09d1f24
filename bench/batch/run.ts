/**
 * bench:batch — rows per second of the `batchScore` workflow against raw onnxruntime.
 *
 *   keel: one worker process (this one: a control and a training worker, as `npm run worker`
 *         runs them) scores a dataset version of real flights (3 M by default) with a registered
 *         100-tree GBDT, in 100 k-row chunks, into Parquet part files. Timed from start to result:
 *         reading the rows from PostgreSQL, scoring, writing, the ledger, Temporal's round trips.
 *   raw:  `session.run` in this process over the same rows, fed from columns prepared before the
 *         clock starts, 16,384 rows per call, onnxruntime's default threads (one per core).
 *
 * Both run in the same process run, so the ratio holds on a shared, noisy machine. The last line
 * is the JSON of BENCHMARKS.md's `batch` row. BENCH_BATCH_ROWS scales the data down for a trial.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { pino } from 'pino';
import { createActivities } from '../../activities';
import { createPooledScorer } from '../../src/batch/batch-scorer';
import { readDatasetRowRange } from '../../src/data/dataset-store';
import { ingestDataset } from '../../src/data/ingest';
import { openDatabase } from '../../src/db/database';
import { createScratchDatabase } from '../../src/db/scratch-database';
import { fitGbdt, gbdtContract, toGbdtTable } from '../../src/ml/gbdt';
import { onnxFeedColumns } from '../../src/ml/onnx/feed-columns';
import { exportGbdtOnnx } from '../../src/ml/onnx/export-gbdt';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { setAlias } from '../../src/registry/aliases';
import { registerModelVersion } from '../../src/registry/model-registry';
import { readCodeVersion } from '../../src/runtime/code-version';
import { startTemporalDevServer } from '../../src/runtime/temporal-dev-server';
import { createWorkers, trainActivitySlots } from '../../src/runtime/workers';
import type { BatchScoreResult } from '../../src/shared/batch-score';
import type { ContractInputType } from '../../src/shared/model-contract';
import { taskQueues } from '../../src/shared/task-queues';

const ROWS = Number(process.env.BENCH_BATCH_ROWS ?? 3_000_000);
const TRAIN_ROWS = Math.min(200_000, ROWS);
const CHUNK_ROWS = Number(process.env.BENCH_BATCH_CHUNK_ROWS ?? 100_000);
const MODEL = 'flight-delays-batch-bench';
const RAW_BATCH = 16_384;
const adminUrl = process.env.DATABASE_URL ?? 'postgres://keel:keel@127.0.0.1:5432/keel';
const say = (line: string) => process.stderr.write(`${line}\n`);
const round = (value: number, digits = 0) => Number(value.toFixed(digits));

async function main() {
  say(
    `bench:batch on ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const work = await mkdtemp(join(tmpdir(), 'keel-bench-batch-'));
  const scratch = await createScratchDatabase(adminUrl, 'keel_bench_batch');
  const database = await openDatabase({ url: scratch.url, dataDir: work });
  const artifacts = new LocalArtifactStore(join(work, 'artifacts'));
  let server: Awaited<ReturnType<typeof startTemporalDevServer>> | undefined;
  try {
    // --- the rows: real flights as a dataset version ---------------------------------------------
    let t0 = performance.now();
    const ingested = await ingestDataset(database, {
      name: 'flights-batch-bench',
      source: { format: 'parquet', path: 'vega-datasets:flights-3m.parquet' },
      recipe: 'flights',
      period: { from: '2001-01-01', to: '2002-01-01' },
      limit: ROWS,
    } as never);
    const rows = ingested.rowCount;
    say(`ingested ${rows} flights in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // --- the model: the GBDT bench:serve uses, trained on the first flights --------------------------
    t0 = performance.now();
    const features = [
      { name: 'hour', kind: 'categorical' },
      { name: 'weekday', kind: 'categorical' },
      { name: 'distance', kind: 'numeric' },
      { name: 'origin', kind: 'categorical' },
      { name: 'destination', kind: 'categorical' },
    ] as const;
    const train = await readDatasetRowRange(database.db, ingested.datasetVersionId, 0, TRAIN_ROWS);
    const params = { objective: 'binary' as const, numTrees: 100, maxLeaves: 64, maxDepth: 6, learningRate: 0.1, maxCategories: 400 };
    const model = fitGbdt(toGbdtTable({ features: features.map((f) => ({ ...f })), target: 'delayed', params, train }));
    const bytes = exportGbdtOnnx(model);
    const contract = gbdtContract(model);
    const version = await registerModelVersion(database.db, {
      modelName: MODEL,
      idempotencyKey: `bench/${MODEL}`,
      artifactSha256: await artifacts.put(bytes),
      artifactBytes: bytes.byteLength,
      contract,
      params,
      metrics: {},
      datasetVersionId: ingested.datasetVersionId,
      datasetHash: ingested.contentHash,
      trainingRunId: '',
      workflowId: '',
      runId: '',
    });
    await setAlias(database.db, { model: MODEL, alias: 'production', version: version.version, actor: 'bench', reason: 'bench:batch' });
    say(`model: GBDT, ${model.trees.length} trees, on ${train.length} flights in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // --- raw: session.run over the same rows, feeds prepared first ------------------------------------
    const inputs = contract.inputs as { name: string; type: ContractInputType }[];
    const feeds: Record<string, Tensor>[] = [];
    for (let start = 0; start < rows; start += RAW_BATCH) {
      const part = await readDatasetRowRange(database.db, ingested.datasetVersionId, start, Math.min(start + RAW_BATCH, rows));
      const columns = onnxFeedColumns(inputs, part);
      feeds.push(Object.fromEntries(inputs.map(({ name, type }) => [name, new Tensor(type, columns[name], [part.length, 1])])));
    }
    const session = await InferenceSession.create(bytes);
    t0 = performance.now();
    for (const feed of feeds) await session.run(feed, ['probability', 'label']);
    const rawSeconds = (performance.now() - t0) / 1000;
    await session.release();
    feeds.length = 0;
    const rawRowsPerS = rows / rawSeconds;
    say(`raw session.run: ${rows} rows in ${rawSeconds.toFixed(2)} s, ${round(rawRowsPerS)} rows/s`);

    // --- keel: batchScore on one worker -------------------------------------------------------------
    Runtime.install({ logger: new DefaultLogger('WARN') });
    server = await startTemporalDevServer({ dataDir: join(work, 'temporal'), persistent: false });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const batchScorer = createPooledScorer({ threads: trainActivitySlots, logger: pino({ level: 'warn' }) });
    const activities = createActivities({
      database,
      artifacts,
      codeVersion: readCodeVersion(),
      logger: pino({ level: 'warn' }),
      batchOutputDir: join(work, 'batch'),
      batchScorer,
    });
    const workers = await createWorkers({ connection: nativeConnection, namespace: 'default', activities, identity: 'bench-worker' });
    const handle = await client.workflow.start('batchScore', {
      taskQueue: taskQueues.control,
      workflowId: `batch/${MODEL}/bench`,
      args: [
        {
          model: `${MODEL}@production`,
          input: { dataset: 'flights-batch-bench' },
          output: { kind: 'files', format: 'parquet', directory: 'bench' },
          chunkRows: CHUNK_ROWS,
          concurrency: 2,
        },
      ],
    });
    t0 = performance.now();
    const settled = handle.result() as Promise<BatchScoreResult>;
    await Promise.all(
      workers.map((w) =>
        w.runUntil(
          settled.then(
            () => undefined,
            () => undefined,
          ),
        ),
      ),
    );
    const result = await settled;
    const keelSeconds = (performance.now() - t0) / 1000;
    const keelRowsPerS = result.rows / keelSeconds;
    say(`keel batchScore: ${result.rows} rows in ${result.chunks} chunks in ${keelSeconds.toFixed(2)} s, ${round(keelRowsPerS)} rows/s`);
    await batchScorer.close();
    await connection.close();
    await nativeConnection.close();

    process.stdout.write(
      `${JSON.stringify({
        rows: result.rows,
        chunk_rows: CHUNK_ROWS,
        chunks: result.chunks,
        keel_s: round(keelSeconds, 2),
        raw_s: round(rawSeconds, 2),
        keel_rows_per_s: round(keelRowsPerS),
        raw_rows_per_s: round(rawRowsPerS),
        ratio_vs_raw: round(keelRowsPerS / rawRowsPerS, 3),
        peak_rss_mb: round(process.resourceUsage().maxRSS / 1024),
        cores: cpus().length,
        load_average_1m: round(loadavg()[0], 2),
      })}\n`,
    );
  } finally {
    await server?.stop();
    await database.close();
    const notDropped = await scratch.drop();
    if (notDropped) say(`could not drop ${scratch.name}: ${notDropped}`);
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:batch: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
