import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/runtime/ports';
import type { BatchScoreResult } from '../../src/shared/batch-score';
import type { TrainingPipelineResult } from '../../src/shared/pipeline-result';
import { taskQueues } from '../../src/shared/task-queues';
import { type KeelProcess, startKeelProcess } from '../faults/support/processes';
import { smallPipeline, waitFor } from '../faults/support/pipeline';

const url = inject('databaseUrl');
const tag = Date.now().toString(36);
const model = `fleet-${tag}`;

/** Eight GBDT trials (a grid of 4 × 2), four at a time: more than one training worker's two slots. */
const trainer = {
  kind: 'gbdt',
  params: { objective: 'binary', numTrees: 30, maxLeaves: 7, learningRate: 0.1 },
  threads: 1,
  checkpointEvery: 5,
  heartbeatTimeoutSeconds: 10,
};
const tuning = { strategy: 'grid', space: { learningRate: [0.05, 0.1, 0.2, 0.3], maxLeaves: [7, 15] }, concurrency: 4 };
const refreshMs = 1000;

type Registered = Extract<TrainingPipelineResult, { status: 'registered' }>;

/** Who started each attempt of each activity of `type`: [identity, attempt, activityId]. */
async function startsOf(handle: WorkflowHandle, type: string): Promise<{ identity: string; attempt: number; activityId: string }[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Map<string, string>();
  const starts: { identity: string; attempt: number; activityId: string }[] = [];
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name === type) scheduled.set(String(e.eventId), s.activityId!);
    const started = e.activityTaskStartedEventAttributes;
    const activityId = started && scheduled.get(String(started.scheduledEventId));
    if (started && activityId) starts.push({ identity: started.identity ?? '', attempt: started.attempt ?? 1, activityId });
  }
  return starts;
}

/** A pending activity of `type` started by `identity`, once it has heartbeated (it is mid-work). */
async function runningOn(handle: WorkflowHandle, type: string, identity: string): Promise<boolean> {
  const { raw } = await handle.describe();
  return (raw.pendingActivities ?? []).some(
    (a) => a.activityType?.name === type && a.lastWorkerIdentity === identity && a.lastHeartbeatTime,
  );
}

/**
 * A fleet on one machine, as production runs it on many: two `npm run worker` processes on the
 * training queue, one on the control queue, two `npm run server` replicas, one Temporal server and
 * one PostgreSQL database. What more machines add (time) is in docs/fleets.md; this shows the work
 * spreads, survives a dead worker, and that replicas follow the same routing.
 */
describe.skipIf(!url)('a worker fleet on one machine', () => {
  let dir: string;
  let connection: Connection;
  let client: Client;
  let sql: postgres.Sql;
  let env: Record<string, string>;
  const processes: KeelProcess[] = [];
  const workers = new Map<string, KeelProcess>();
  const worker = async (identity: string, queues: string) => {
    const started = await startKeelProcess('worker', { ...env, KEEL_TASK_QUEUES: queues, KEEL_WORKER_IDENTITY: identity });
    processes.push(started);
    workers.set(identity, started);
  };
  let undisturbed: Registered;
  const servers: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-fleet-'));
    env = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: url,
      // One artifact directory and one batch output directory for the fleet: a shared volume.
      KEEL_DATA_DIR: dir,
      KEEL_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
      LOG_LEVEL: 'warn',
    };
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection });
    sql = postgres(url, { max: 2, onnotice: () => {} });
    // The readiness line is logged at info; LOG_LEVEL=warn would hide it.
    env.LOG_LEVEL = 'info';
    await Promise.all([worker('fleet-control', 'control'), worker('fleet-train-a', 'train'), worker('fleet-train-b', 'train')]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop(5_000)));
    await connection?.close();
    await sql?.end();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const tune = async (key: string, deploy: boolean) => {
    const input = { ...(await smallPipeline(model, trainer)), tuning, deploy };
    return client.workflow.start('trainingPipeline', { taskQueue: taskQueues.control, workflowId: `train/${model}/${key}`, args: [input] });
  };
  const registered = async (handle: WorkflowHandle) => {
    const result = (await handle.result()) as TrainingPipelineResult;
    if (result.status !== 'registered') throw new Error(`${handle.workflowId} ended ${result.status}`);
    return result;
  };

  it('spreads the 8 trials of a tuning run over both training workers; the history names them', async () => {
    const handle = await tune('undisturbed', true);
    undisturbed = await registered(handle);
    expect(undisturbed.trials).toBe(8);
    const starts = await startsOf(handle, 'trainModel');
    expect(new Set(starts.map((s) => s.activityId)).size).toBe(8);
    expect(new Set(starts.map((s) => s.identity))).toEqual(new Set(['fleet-train-a@keel-train', 'fleet-train-b@keel-train']));
    const ingest = await startsOf(handle, 'ingestDataset');
    expect(ingest[0].identity).toMatch(/^fleet-train-[ab]@keel-train$/);
  });

  it('moves the trial of a killed worker to the other one, and the study picks the same best trial', async () => {
    // Model servers start meanwhile (they serve the production version the first run deployed).
    const serversReady = startServers();
    const handle = await tune('disturbed', false);
    await waitFor(
      'a trial mid-work on worker a',
      async () => ((await runningOn(handle, 'trainModel', 'fleet-train-a@keel-train')) ? true : undefined),
      120_000,
      50,
    );
    await workers.get('fleet-train-a')!.kill();
    const disturbed = await registered(handle);
    const starts = await startsOf(handle, 'trainModel');
    const retried = starts.filter((s) => s.attempt > 1);
    expect(retried.length, 'no trial was retried: the kill missed').toBeGreaterThan(0);
    expect(retried.every((s) => s.identity === 'fleet-train-b@keel-train')).toBe(true);
    const trialOf = (r: Registered) => r.trainingRunId.slice(r.trainingRunId.lastIndexOf('/') + 1);
    expect(trialOf(disturbed)).toBe(trialOf(undisturbed));
    expect(disturbed.artifactSha256).toBe(undisturbed.artifactSha256);
    expect(disturbed.metrics).toEqual(undisturbed.metrics);
    await serversReady;
  });

  async function startServers() {
    for (const name of ['one', 'two']) {
      const port = await freePort();
      processes.push(
        await startKeelProcess('server', {
          ...env,
          KEEL_PORT: String(port),
          KEEL_SERVE_MODELS: model,
          KEEL_ROUTING_REFRESH_MS: String(refreshMs),
          KEEL_INFERENCE_THREADS: '0',
          KEEL_PREDICTION_SPOOL_DIR: join(dir, `spool-${name}`),
        }),
      );
      servers.push(`http://127.0.0.1:${port}`);
    }
  }

  const info = async (base: string) =>
    (await (await fetch(`${base}/v1/models/${model}`, { headers: { connection: 'close' } })).json()) as {
      version: number;
      route: { baseline?: number; candidate?: number } | null;
    };

  it("scores a dataset version in chunks over the fleet; a killed worker costs no chunk twice; outputs equal the servers' answers", async () => {
    // A training worker again beside b, then b is killed mid-job.
    await worker('fleet-train-c', 'train');
    const [dataset] = await sql<
      { id: string; row_count: number }[]
    >`SELECT id, row_count FROM dataset_versions WHERE id = ${undisturbed.datasetVersionId}`;
    const handle = await client.workflow.start('batchScore', {
      taskQueue: taskQueues.control,
      workflowId: `batch/${model}/kill`,
      args: [
        {
          model: `${model}@production`,
          input: { dataset: `${model}-data` },
          output: { kind: 'table', table: `fleet_${tag}` },
          chunkRows: 100,
          concurrency: 2,
          heartbeatTimeoutSeconds: 5,
        },
      ],
    });
    await waitFor(
      'a chunk mid-work on worker b',
      async () => ((await runningOn(handle, 'scoreBatchChunk', 'fleet-train-b@keel-train')) ? true : undefined),
      60_000,
      20,
    );
    const before = await sql<
      { chunk: number; scored_at: Date }[]
    >`SELECT chunk, scored_at FROM batch_score_chunks WHERE job_id LIKE ${`batch/${model}/kill/%`}`;
    await workers.get('fleet-train-b')!.kill();
    const result = (await handle.result()) as BatchScoreResult;

    const chunks = Math.ceil(dataset.row_count / 100);
    expect(result).toMatchObject({ rows: dataset.row_count, chunks, version: undisturbed.version });
    const starts = await startsOf(handle, 'scoreBatchChunk');
    expect(
      starts.some((s) => s.attempt > 1),
      'no chunk was retried: the kill missed',
    ).toBe(true);
    const ledger = await sql<
      { chunk: number; scored_at: Date; attempt: number }[]
    >`SELECT chunk, scored_at, attempt FROM batch_score_chunks WHERE job_id = ${result.jobId} ORDER BY chunk`;
    expect(ledger.map((l) => l.chunk)).toEqual(Array.from({ length: chunks }, (_, i) => i));
    // What was scored before the kill was not scored again.
    for (const b of before) expect(ledger[b.chunk].scored_at).toEqual(b.scored_at);
    const [counts] = await sql<{ n: number; distinct_rows: number }[]>`
      SELECT count(*)::int AS n, count(DISTINCT row_index)::int AS distinct_rows FROM ${sql(`keel_batch`)}.${sql(`fleet_${tag}`)} WHERE job_id = ${result.jobId}`;
    expect(counts).toEqual({ n: dataset.row_count, distinct_rows: dataset.row_count });

    // The same rows through both model servers: the same answers.
    const sample = await sql<{ row_index: number; data: Record<string, unknown>; probability: number; label: number }[]>`
      SELECT r.row_index, r.data, s.probability, s.label
      FROM dataset_rows r JOIN ${sql('keel_batch')}.${sql(`fleet_${tag}`)} s ON s.row_index = r.row_index AND s.job_id = ${result.jobId}
      WHERE r.dataset_version_id = ${undisturbed.datasetVersionId} AND r.row_index % 97 = 0 ORDER BY r.row_index`;
    expect(sample.length).toBeGreaterThan(10);
    const features = ['hour', 'weekday', 'distance', 'origin', 'destination'];
    for (const base of servers) {
      const response = await fetch(`${base}/v1/models/${model}:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances: sample.map((s) => Object.fromEntries(features.map((f) => [f, s.data[f]]))) }),
      });
      expect(response.status).toBe(200);
      const answers = ((await response.json()) as { predictions: { probability: number; label: number }[] }).predictions;
      expect(answers.map((a) => [a.probability, a.label])).toEqual(sample.map((s) => [s.probability, Number(s.label)]));
    }
  });

  it('scores any keel source (a dataset spec, ingested first) into CSV part files with the same scores', async () => {
    const { dataset: source } = await smallPipeline(model, trainer);
    const handle = await client.workflow.start('batchScore', {
      taskQueue: taskQueues.control,
      workflowId: `batch/${model}/csv`,
      args: [
        { model: `${model}@1`, input: { source }, output: { kind: 'files', format: 'csv', directory: `fleet/${tag}` }, chunkRows: 1500 },
      ],
    });
    const result = (await handle.result()) as BatchScoreResult;
    // The identical source is the same dataset version: nothing new was ingested.
    expect(result.datasetVersionId).toBe(undisturbed.datasetVersionId);
    const files = (await readdir(join(dir, 'batch', 'fleet', tag))).sort();
    expect(files).toEqual(Array.from({ length: result.chunks }, (_, i) => `part-${String(i).padStart(5, '0')}.csv`));
    const lines = (await Promise.all(files.map((f) => readFile(join(dir, 'batch', 'fleet', tag, f), 'utf8')))).flatMap((text) =>
      text.trim().split('\n').slice(1),
    );
    expect(lines).toHaveLength(result.rows);
    const tableScores = await sql<{ row_index: number; probability: number }[]>`
      SELECT row_index, probability FROM ${sql('keel_batch')}.${sql(`fleet_${tag}`)} WHERE job_id LIKE ${`batch/${model}/kill/%`} ORDER BY row_index`;
    expect(lines.map((line) => Number(line.split(',')[2]))).toEqual(tableScores.map((r) => r.probability));
  });

  it('has both model server replicas follow an alias move and a canary within KEEL_ROUTING_REFRESH_MS', async () => {
    const versions = await sql<{ version: number }[]>`SELECT version FROM model_versions WHERE model_name = ${model} ORDER BY version`;
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    for (const base of servers) expect((await info(base)).version).toBe(1);

    const { setAlias } = await import('../../src/registry/aliases');
    const { setRoute } = await import('../../src/serving/routes');
    const { openDatabase } = await import('../../src/db/database');
    const database = await openDatabase({ url, dataDir: dir });
    try {
      // The servers poll the database; nothing tells them. Each must see the move within one period
      // (plus this machine's scheduling: it is shared, hence the slack).
      const within = refreshMs * 3;
      let moved = Date.now();
      await setAlias(database.db, { model, alias: 'production', version: 2, actor: 'user:test', reason: 'fleet test' });
      await waitFor(
        'both replicas on version 2',
        async () => ((await Promise.all(servers.map(info))).every((i) => i.version === 2) ? true : undefined),
        within,
        50,
      );
      expect(Date.now() - moved).toBeLessThan(within);

      moved = Date.now();
      await setRoute(database.db, { model, baseline: 2, candidate: 1, candidateWeight: 0.25, actor: 'user:test', reason: 'fleet canary' });
      await waitFor(
        'both replicas routing the canary',
        async () =>
          (await Promise.all(servers.map(info))).every((i) => i.route?.baseline === 2 && i.route?.candidate === 1) ? true : undefined,
        within,
        50,
      );
      expect(Date.now() - moved).toBeLessThan(within);
    } finally {
      await database.close();
    }
  });
});
