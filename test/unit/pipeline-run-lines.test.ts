import { describe, expect, it } from 'vitest';
import { pipelineRunDetail, pipelineRunJson, pipelineRunLines } from '../../src/cli/pipeline-run-lines';
import type { PipelineRun } from '../../src/registry/pipeline-runs';

const cause = 'target "delay" must be a finite number, but dataset row 7 has null';
const failed: PipelineRun = {
  id: 'train/m/a/r1',
  workflowId: 'train/m/a',
  runId: 'r1',
  modelName: 'm',
  status: 'failed',
  stages: [
    { name: 'ingest', startedAt: '2026-12-06T10:00:00.000Z', endedAt: '2026-12-06T10:00:02.500Z', outcome: 'succeeded' },
    { name: 'train', startedAt: '2026-12-06T10:00:02.500Z', endedAt: '2026-12-06T10:00:03.000Z', outcome: 'failed', attempts: 1 },
  ],
  failure: {
    error: cause,
    type: 'TargetError',
    nonRetryable: true,
    attempts: 1,
    cause: [
      { kind: 'ActivityFailure', message: 'Activity task failed', activityType: 'trainModel' },
      { kind: 'ApplicationFailure', message: cause, type: 'TargetError', nonRetryable: true, attempt: 1 },
    ],
  },
  datasetVersionId: 'dv1',
  trainingRunId: null,
  modelVersion: null,
  startedAt: new Date('2026-12-06T10:00:00.000Z'),
  endedAt: new Date('2026-12-06T10:00:03.000Z'),
};

describe('keel runs: pipeline run lines', () => {
  it('lists a failed run with its stages and, under it, the root cause with its type', () => {
    expect(pipelineRunLines(failed)).toEqual([
      'train/m/a  failed  2026-12-06T10:00:00.000Z  3.0 s  ingest ✓ train ✗',
      `  TargetError: ${cause}`,
    ]);
    expect(
      pipelineRunLines({
        ...failed,
        status: 'running',
        endedAt: null,
        failure: null,
        stages: [{ ...failed.stages[0], endedAt: undefined, outcome: 'running' }],
      }),
    ).toEqual(['train/m/a  running  2026-12-06T10:00:00.000Z  running  ingest…']);
  });

  it('shows the timeline, what the run produced and the whole failure chain', () => {
    expect(pipelineRunDetail(failed)).toEqual([
      'run        train/m/a (run r1)',
      'model      m',
      'status     failed',
      'started    2026-12-06T10:00:00.000Z',
      'ended      2026-12-06T10:00:03.000Z (3.0 s)',
      'produced   dataset version dv1',
      'stages',
      '  ingest  2026-12-06T10:00:00.000Z     2.5 s  succeeded',
      '  train   2026-12-06T10:00:02.500Z     0.5 s  failed (attempt 1)',
      `failure    TargetError: ${cause}`,
      '    ActivityFailure (trainModel): Activity task failed',
      `    ← ApplicationFailure [TargetError, non-retryable, attempt 1]: ${cause}`,
    ]);
    expect(pipelineRunJson(failed)).toMatchObject({ id: 'train/m/a/r1', model: 'm', seconds: 3, failure: { type: 'TargetError' } });
  });
});
