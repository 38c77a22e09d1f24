import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadProjectConfig } from '../../src/runtime/project-config';
import type { TrainingPipelineResult } from '../../src/shared/pipeline-result';
import { taskQueues } from '../../src/shared/task-queues';
import { parseJson } from '../fixtures/json';

/**
 * Checkpoint-resume for real: the training activity runs in a separate worker process, which is
 * killed with SIGKILL mid-training. A new worker process picks the retried activity up, resumes
 * from the newest checkpoint recorded in the database (at least the one the last heartbeat
 * reported as stored), and the final ONNX is byte-identical to an uninterrupted run's. The worker processes own the database (PGlite cannot be shared), so the
 * test itself only talks to Temporal.
 */
describe('training survives a killed worker', () => {
  const model = `resume-${Date.now().toString(36)}`;
  let dataDir: string;
  let connection: Connection;
  let client: Client;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'keel-resume-'));
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection });
  });
  afterAll(async () => {
    for (const worker of workers) worker.kill('SIGKILL');
    await connection?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const startWorker = async (): Promise<ChildProcess> => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      KEEL_DATA_DIR: dataDir,
      // The run's bundle of the same workflows: each worker would otherwise spend seconds on webpack before it polls.
      KEEL_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
      LOG_LEVEL: 'info',
    };
    if (inject('databaseUrl')) env.DATABASE_URL = inject('databaseUrl');
    else delete env.DATABASE_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/worker-main.ts'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    workers.push(child);
    let log = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('worker running')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready:\n${log.slice(-2000)}`)));
    });
    return child;
  };

  it('resumes from the last checkpoint and produces the same model bytes', async () => {
    const config = await loadProjectConfig('keel.config.json');
    const pipeline = {
      ...config.pipeline,
      model,
      dataset: { ...config.pipeline.dataset, limit: 40_000 },
      trainer: {
        kind: 'gbdt',
        params: { objective: 'binary', numTrees: 1500, maxLeaves: 63, learningRate: 0.02 },
        threads: 1,
        checkpointEvery: 10,
        heartbeatTimeoutSeconds: 3,
      },
      gate: { minRocAuc: 0.5, maxDropVsProduction: 1 },
      deploy: false,
    };
    const first = await startWorker();
    const interrupted = await client.workflow.start('trainingPipeline', {
      taskQueue: taskQueues.control,
      workflowId: `train/${model}/interrupted`,
      args: [pipeline],
    });

    // Wait until training reports a stored checkpoint, then kill the worker outright.
    let checkpointIteration = 0;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline && checkpointIteration === 0;) {
      const { raw } = await interrupted.describe();
      const training = raw.pendingActivities?.find((a) => a.activityType?.name === 'trainModel');
      const payload = training?.heartbeatDetails?.payloads?.[0]?.data;
      if (payload) {
        const details = JSON.parse(Buffer.from(payload).toString()) as { checkpointIteration?: number };
        checkpointIteration = details.checkpointIteration ?? 0;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // The kill must land while trees are still being grown, or there is nothing to resume.
    if (checkpointIteration === 0 || checkpointIteration >= 1500) {
      const { raw, status } = await interrupted.describe();
      throw new Error(
        `no checkpoint heartbeat: workflow ${status.name}, pending ${JSON.stringify(raw.pendingActivities?.map((a) => [a.activityType?.name, a.attempt, a.lastFailure?.message, a.heartbeatDetails?.payloads?.[0]?.data && Buffer.from(a.heartbeatDetails.payloads[0].data).toString()]))}`,
      );
    }
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));

    await startWorker();
    const resumed = (await interrupted.result()) as TrainingPipelineResult;
    expect(resumed.status).toBe('registered');

    // A later attempt really resumed, from the checkpoint stored before the kill or a newer one
    // (it did not start over). On a loaded machine an attempt may time out before it finishes,
    // so the one that completes can be the third or later; each resumes from the table.
    const history = await interrupted.fetchHistory();
    const trainCompleted = history.events!.find(
      (e) =>
        e.activityTaskCompletedEventAttributes &&
        history.events!.find((s) => s.eventId?.toString() === e.activityTaskCompletedEventAttributes!.scheduledEventId?.toString())
          ?.activityTaskScheduledEventAttributes?.activityType?.name === 'trainModel',
    );
    const trainResult = parseJson<{ resumedFromIteration?: number }>(
      Buffer.from(trainCompleted!.activityTaskCompletedEventAttributes!.result!.payloads![0].data!).toString(),
    );
    const trainScheduled = history
      .events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'trainModel')!
      .eventId!.toString();
    const attempts = history
      .events!.filter((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === trainScheduled)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toBeGreaterThanOrEqual(2);
    expect(
      trainResult.resumedFromIteration ?? null,
      `attempt ${attempts[0]} started over; the checkpoint of iteration ${checkpointIteration} was stored before the kill`,
    ).toBeGreaterThanOrEqual(checkpointIteration);

    const straight = (await client.workflow.execute('trainingPipeline', {
      taskQueue: taskQueues.control,
      workflowId: `train/${model}/uninterrupted`,
      args: [pipeline],
    })) as TrainingPipelineResult;
    expect(straight.status).toBe('registered');
    if (straight.status !== 'registered' || resumed.status !== 'registered') return;
    expect(resumed.artifactSha256).toBe(straight.artifactSha256);
  });
});
