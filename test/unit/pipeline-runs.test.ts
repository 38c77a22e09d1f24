import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyStageEvent,
  getPipelineRun,
  listPipelineRuns,
  recordPipelineRunEvent,
  type PipelineRunEvent,
} from '../../src/registry/pipeline-runs';
import { drivers, openTestRegistry, type TestRegistry } from './registry-fixtures';

const failure = {
  error: 'target "delay" must be a finite number, but dataset row 7 (source record 10) has null',
  type: 'DataValidationError',
  nonRetryable: true,
  attempts: 1,
  cause: [
    { kind: 'ActivityFailure', message: 'Activity task failed', activityType: 'trainModel' },
    { kind: 'ApplicationFailure', message: 'target "delay" must be…', type: 'DataValidationError', nonRetryable: true, attempt: 1 },
  ],
};

describe('applyStageEvent', () => {
  it('closes the running stage when the next begins, and ignores the same event twice', () => {
    const ingest: PipelineRunEvent = { kind: 'stage', name: 'ingest', at: '2026-01-01T00:00:00.000Z' };
    const validate: PipelineRunEvent = { kind: 'stage', name: 'validate', at: '2026-01-01T00:00:05.000Z' };
    const once = applyStageEvent(applyStageEvent([], ingest), validate);
    expect(applyStageEvent(once, validate)).toEqual(once);
    expect(once).toEqual([
      { name: 'ingest', startedAt: ingest.at, endedAt: validate.at, outcome: 'succeeded' },
      { name: 'validate', startedAt: validate.at, outcome: 'running' },
    ]);
  });

  it('marks the running stage failed with the attempts of a failure', () => {
    const stages = applyStageEvent([], { kind: 'stage', name: 'train', at: '2026-01-01T00:00:00.000Z' });
    const ended = applyStageEvent(stages, { kind: 'finished', status: 'failed', at: '2026-01-01T00:00:01.000Z', failure });
    expect(ended).toEqual([
      { name: 'train', startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:01.000Z', outcome: 'failed', attempts: 1 },
    ]);
  });
});

describe.each(drivers)('pipeline runs on %s', (driver) => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await openTestRegistry(driver);
  });
  afterAll(() => registry.close());

  it('records a run once however often each event is retried, and lists runs newest first', async () => {
    const db = registry.database.db;
    const older = { workflowId: 'train/m/a', runId: 'r1' };
    const newer = { workflowId: 'train/m/b', runId: 'r2' };
    const events: PipelineRunEvent[] = [
      { kind: 'stage', name: 'ingest', at: '2026-01-01T00:00:00.000Z' },
      { kind: 'stage', name: 'validate', at: '2026-01-01T00:00:02.000Z', datasetVersionId: 'dv1' },
      { kind: 'finished', status: 'failed', at: '2026-01-01T00:00:03.000Z', datasetVersionId: 'dv1', failure },
    ];
    for (const event of events) {
      await recordPipelineRunEvent(db, older, 'm', event);
      await recordPipelineRunEvent(db, older, 'm', event);
    }
    await recordPipelineRunEvent(db, newer, 'm', { kind: 'stage', name: 'ingest', at: '2026-01-02T00:00:00.000Z' });

    const run = await getPipelineRun(db, 'train/m/a/r1');
    expect(run).toMatchObject({ status: 'failed', datasetVersionId: 'dv1', failure, startedAt: new Date('2026-01-01T00:00:00.000Z') });
    expect(run?.stages.map((s) => [s.name, s.outcome])).toEqual([
      ['ingest', 'succeeded'],
      ['validate', 'failed'],
    ]);
    expect((await getPipelineRun(db, 'train/m/b'))?.status).toBe('running');
    expect((await listPipelineRuns(db, 'm')).map((r) => r.id)).toEqual(['train/m/b/r2', 'train/m/a/r1']);
    expect(await listPipelineRuns(db, 'other')).toEqual([]);
  });
});
