import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pipelineRunLines } from '../../src/cli/pipeline-run-lines';
import { failureText } from '../../src/cli/failure';
import { listQuarantinedRows } from '../../src/data/dataset-store';
import { getPipelineRun, listPipelineRuns } from '../../src/registry/pipeline-runs';
import { summarizeFailure } from '../../src/shared/failure-chain';
import type { TrainingPipelineResult } from '../../src/shared/pipeline-result';
import { taskQueues } from '../../src/shared/task-queues';
import { defaultSourcePolicy } from '../../src/data/source-policy';
import { createHarness, type Harness } from './harness';

/**
 * Errors that tell, on real components (Temporal dev server, PostgreSQL or PGlite, keel's
 * workers): a target with nulls fails the run at once with its cause in the client's error, the
 * run record and `keel runs list`; by default those rows are quarantined and the run succeeds; a
 * target value no trainer can read is a TargetError naming its dataset row. 40 rows, so it is fast.
 */
describe('pipeline failures that tell their cause', () => {
  let harness: Harness;
  let dir: string;
  const model = `errors-${Date.now().toString(36)}`;

  /** 40 records; records 10 and 25 (1-based) have no delay; record 33 has a delay of 2 in a 0/1 column. */
  const records = Array.from({ length: 40 }, (_, i) => {
    const x = i + 1;
    const record: Record<string, unknown> = { x, group: x % 3 === 0 ? 'a' : 'b', delay: 3 * x + (x % 4), late: x % 2 };
    if (x === 10 || x === 25) record.delay = null;
    if (x === 33) record.late = 2;
    return record;
  });

  const pipeline = (overrides: Record<string, unknown>) => ({
    model,
    dataset: {
      name: `${model}-data`,
      columns: [
        { name: 'x', type: 'number', required: true },
        { name: 'group', type: 'string' },
        { name: 'delay', type: 'number' },
        { name: 'late', type: 'integer' },
      ],
      sources: [{ format: 'jsonl', name: 'flights', path: join(dir, 'flights.jsonl') }],
    },
    rules: { minRows: 10, maxNullFraction: 0.5 },
    features: [
      { name: 'x', kind: 'numeric' },
      { name: 'group', kind: 'categorical' },
    ],
    task: 'regression',
    target: 'delay',
    trainer: { kind: 'linear-regression', maxIterations: 20 },
    split: { seed: 1, train: 0.6, validation: 0.2, test: 0.2 },
    gate: {},
    deploy: false,
    ...overrides,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-errors-'));
    await writeFile(join(dir, 'flights.jsonl'), records.map((r) => JSON.stringify(r)).join('\n'));
    // The input reads a file of this test's own directory: the worker's operator allows it.
    harness = await createHarness({ sources: { ...defaultSourcePolicy(), roots: [dir] } });
  });
  afterAll(async () => {
    await harness?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const run = (workflowId: string, input: unknown) =>
    harness.withWorkers(() =>
      harness.client.workflow.execute('trainingPipeline', { taskQueue: taskQueues.control, workflowId, args: [input] }),
    );

  /** The attempts of each activity of a run, from its history. */
  async function activityAttempts(workflowId: string): Promise<Record<string, number[]>> {
    const history = await harness.client.workflow.getHandle(workflowId).fetchHistory();
    const types = new Map<string, string>();
    const attempts: Record<string, number[]> = {};
    for (const event of history.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) types.set(String(event.eventId), scheduled.activityType?.name ?? '?');
      const started = event.activityTaskStartedEventAttributes;
      if (started) (attempts[types.get(String(started.scheduledEventId)) ?? '?'] ??= []).push(started.attempt ?? 0);
    }
    return attempts;
  }

  it('fails at once on a null target with missingTarget "fail", and every view names the cause', async () => {
    const workflowId = `train/${model}/fail`;
    const error = await run(workflowId, pipeline({ missingTarget: 'fail' })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    // One attempt, not five with backoff (~17 s before).
    expect((await activityAttempts(workflowId)).ingestDataset).toEqual([1]);

    const cause = 'target "delay" is missing (null) in source record 10 of source "flights"';
    const summary = summarizeFailure(error);
    expect(summary).toMatchObject({ type: 'DataValidationError', nonRetryable: true });
    expect(summary.error).toContain(cause);
    expect(summary.cause.map((link) => link.kind)).toEqual(['WorkflowFailedError', 'ActivityFailure', 'ApplicationFailure']);
    const text = failureText(summary);
    expect(text.split('\n')[0]).toBe(`keel: DataValidationError: ${summary.error}`);
    expect(text).toContain('ActivityFailure (ingestDataset)');

    const record = await getPipelineRun(harness.database.db, workflowId);
    expect(record).toMatchObject({
      status: 'failed',
      modelName: model,
      failure: { type: 'DataValidationError', nonRetryable: true, attempts: 1 },
    });
    expect(record?.stages).toMatchObject([{ name: 'ingest', outcome: 'failed', attempts: 1 }]);
    expect(record?.endedAt).toBeInstanceOf(Date);

    const listed = await keelRunsList();
    expect(listed).toContain(`${workflowId}  failed`);
    expect(listed).toContain(`DataValidationError: ${cause}`);
  });

  it('quarantines rows without a target by default, and the run succeeds', async () => {
    const workflowId = `train/${model}/quarantine`;
    const result = (await run(workflowId, pipeline({}))) as TrainingPipelineResult;
    expect(['registered', 'rejected']).toContain(result.status);
    const quarantined = await listQuarantinedRows(harness.database.db, result.datasetVersionId);
    expect(quarantined.map((q) => [q.source, q.recordNumber + 1, q.reasons])).toEqual([
      ['flights', 10, ['missing target "delay"']],
      ['flights', 25, ['missing target "delay"']],
    ]);
    const record = await getPipelineRun(harness.database.db, workflowId);
    expect(record).toMatchObject({
      status: result.status === 'registered' ? 'succeeded' : 'rejected',
      failure: null,
      datasetVersionId: result.datasetVersionId,
    });
    expect(record?.stages.map((s) => [s.name, s.outcome])).toEqual(
      ['ingest', 'validate', 'split', 'train', 'export', 'evaluate', 'gate', ...(result.status === 'registered' ? ['register'] : [])].map(
        (name) => [name, 'succeeded'],
      ),
    );
  });

  it('fails a target value no trainer can read with a TargetError naming its dataset row, without retrying', async () => {
    const workflowId = `train/${model}/binary`;
    const error = await run(
      workflowId,
      pipeline({
        task: 'binary',
        target: 'late',
        trainer: { kind: 'logistic-regression', l2: 0.01, maxIterations: 20, tolerance: 1e-6, maxCategories: 10 },
        gate: {},
      }),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    const summary = summarizeFailure(error);
    // Record 33 is dataset row 33: no record before it was quarantined (late is never missing).
    expect(summary).toMatchObject({
      type: 'TargetError',
      nonRetryable: true,
      error: 'target "late" must be 0 or 1, but dataset row 33 has 2',
    });
    expect((await activityAttempts(workflowId)).trainModel).toEqual([1]);
    const record = await getPipelineRun(harness.database.db, workflowId);
    expect(record?.stages.at(-1)).toMatchObject({ name: 'train', outcome: 'failed', attempts: 1 });
  });

  /** What `keel runs list <model>` prints: the real CLI on PostgreSQL; PGlite is single-process, so there the same lines in-process. */
  async function keelRunsList(): Promise<string> {
    const url = inject('databaseUrl');
    if (!url) return (await listPipelineRuns(harness.database.db, model)).flatMap(pipelineRunLines).join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'runs', 'list', model], {
      env: { ...process.env, DATABASE_URL: url },
    });
    return stdout;
  }
});
