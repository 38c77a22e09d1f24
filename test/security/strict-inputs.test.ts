import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPipelineRun } from '../../src/registry/pipeline-runs';
import { summarizeFailure } from '../../src/shared/failure-chain';
import { taskQueues } from '../../src/shared/task-queues';
import { createHarness, type Harness } from '../integration/harness';

/**
 * Issue 14: a pipeline input with an unknown top-level field ran and deployed; the typos
 * `deplyo`, `gate.minRocAUC` and `trainer.learningRate` were ignored. On real components (the
 * run's Temporal dev server, PostgreSQL, keel's workers), each now fails the workflow at once,
 * non-retryable, naming the path, before any activity reads data.
 */
describe('a pipeline input with an unknown key', () => {
  let harness: Harness;
  const model = `strict-${Date.now().toString(36)}`;
  // The README's input: valid as it is (its source is never read: the run fails first).
  const readme = {
    model,
    dataset: {
      name: 'flights-2001-01',
      source: { format: 'parquet', path: 'vega-datasets:flights-3m.parquet' },
      recipe: 'flights',
      period: { from: '2001-01-01', to: '2001-02-01' },
    },
    rules: { minRows: 1000, maxNullFraction: 0.05 },
    features: [
      { name: 'hour', kind: 'categorical' },
      { name: 'distance', kind: 'numeric' },
    ],
    target: 'delayed',
    trainer: { kind: 'logistic-regression', l2: 0.0001 },
    gate: { minRocAuc: 0.6 },
    deploy: true,
  };

  const cases = [
    { name: 'an unknown top-level field', input: { ...readme, colour: 'blue' }, line: /^colour: unknown key \(known keys: model, dataset/ },
    { name: 'deplyo', input: { ...readme, deplyo: false }, line: /^deplyo: unknown key \(did you mean deploy\?\)$/ },
    {
      name: 'gate.minRocAUC',
      input: { ...readme, gate: { minRocAUC: 0.99 } },
      line: /^gate\.minRocAUC: unknown key \(did you mean minRocAuc\?\)$/,
    },
    {
      name: 'trainer.learningRate',
      input: { ...readme, trainer: { kind: 'logistic-regression', learningRate: 0.1 } },
      line: /^trainer\.learningRate: unknown key \(known keys: kind, l2, maxIterations, tolerance, maxCategories\)$/,
    },
  ];

  const workflowId = (name: string) => `train/${model}/${name.replace(/[^a-z]/gi, '-')}`;
  const errors = new Map<string, unknown>();

  beforeAll(async () => {
    harness = await createHarness();
    // One set of workers for every case: each run ends at its first workflow task.
    await harness.withWorkers(() =>
      Promise.all(
        cases.map(({ name, input }) =>
          harness.client.workflow
            .execute('trainingPipeline', { taskQueue: taskQueues.control, workflowId: workflowId(name), args: [input] })
            .then(
              () => errors.set(name, undefined),
              (e: unknown) => errors.set(name, e),
            ),
        ),
      ),
    );
  });
  afterAll(async () => {
    await harness?.close();
  });

  it.each(cases)('fails at once, non-retryable, naming the path: $name', async ({ name, line }) => {
    const error = errors.get(name);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const summary = summarizeFailure(error);
    expect(summary).toMatchObject({ type: 'InvalidInputError', nonRetryable: true });
    expect(summary.error).toMatch(/^invalid trainingPipeline input: /);
    expect(summary.error.replace('invalid trainingPipeline input: ', '')).toMatch(line);

    // Nothing was read, trained or deployed: the only activity is the run's own record.
    const history = await harness.client.workflow.getHandle(workflowId(name)).fetchHistory();
    const activities = (history.events ?? []).flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(activities.every((activity) => activity === 'recordPipelineRun')).toBe(true);
    expect(await getPipelineRun(harness.database.db, workflowId(name))).toMatchObject({
      status: 'failed',
      failure: { type: 'InvalidInputError' },
    });
  });
});
