import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyStageEvent,
  getPipelineRun,
  listPipelineRuns,
  recordPipelineRunEvent,
  type PipelineRunEvent,
} from '../../src/registry/pipeline-runs';
import {
  clearTrainingCheckpoint,
  earlierTrials,
  findTrainingCheckpoint,
  finishedTrainingRun,
  listTrainingRuns,
  newestEvaluatedRun,
  recordTrainingCheckpoint,
  recordTrainingRun,
  saveEvaluation,
  trainingRunsOf,
  type TrainingOutcome,
} from '../../src/registry/training-runs';
import type { ModelMetrics } from '../../src/shared/model-metrics';
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

const metrics = (rocAuc: number) => ({ task: 'binary', rocAuc, accuracy: 0.7, f1: 0.5, n: 100, positives: 20 }) as unknown as ModelMetrics;

function outcome(trial: string, rocAuc: number, sha = 'a'.repeat(64)): TrainingOutcome {
  return {
    trial,
    model: 'runs',
    datasetVersionId: 'ds-1',
    trainer: { kind: 'logistic-regression', l2: rocAuc },
    modelArtifactSha256: sha,
    learningCurve: { train: [], validation: [] },
    trainSeconds: 1.5,
    validationMetrics: metrics(rocAuc),
  };
}

describe.each(drivers)('pipeline and training runs on %s', (driver) => {
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

  it('records a trial once under <workflowId>/<runId>/<trial>; a retry that trained again overwrites its own row', async () => {
    const db = registry.database.db;
    const run = { workflowId: 'train/runs/a', runId: 'r1' };
    const id = await recordTrainingRun(db, run, outcome('trial-0', 0.6));
    expect(id).toBe('train/runs/a/r1/trial-0');
    expect(await finishedTrainingRun(db, 'train/runs/a/r1/trial-1')).toBeUndefined();

    await recordTrainingRun(db, run, outcome('trial-0', 0.65, 'b'.repeat(64)));
    await recordTrainingRun(db, run, outcome('trial-1', 0.7));
    const done = await finishedTrainingRun(db, id);
    expect(done).toMatchObject({ id, modelName: 'runs', modelArtifactSha256: 'b'.repeat(64), validationMetrics: { rocAuc: 0.65 } });
    expect((await trainingRunsOf(db, run)).map((r) => r.trial)).toEqual(['trial-0', 'trial-1']);
    expect((await listTrainingRuns(db, 'runs', 10)).length).toBe(2);

    // Warm starts learn from tuning trials, never from a plain run.
    await recordTrainingRun(db, { workflowId: 'train/runs/b', runId: 'r2' }, outcome('main', 0.8));
    expect((await earlierTrials(db, 'runs', 10)).map((t) => (t.validationMetrics as { rocAuc: number }).rocAuc).sort()).toEqual([
      0.65, 0.7,
    ]);

    // The gate's decision marks the run a pipeline evaluated.
    expect(await newestEvaluatedRun(db, 'train/runs/a')).toBeUndefined();
    await saveEvaluation(db, 'train/runs/a/r1/trial-1', { evaluation: { candidate: {} }, gate: { passed: true, reasons: [] } });
    expect(await newestEvaluatedRun(db, 'train/runs/a')).toBe('train/runs/a/r1/trial-1');
  });

  it('a checkpoint only moves forward, and none is added once the run is recorded', async () => {
    const db = registry.database.db;
    const run = { workflowId: 'train/runs/c', runId: 'r3' };
    const id = 'train/runs/c/r3/main';
    await recordTrainingCheckpoint(db, id, { iteration: 8, artifactSha256: 'c8' });
    await recordTrainingCheckpoint(db, id, { iteration: 4, artifactSha256: 'c4' });
    expect(await findTrainingCheckpoint(db, id)).toEqual({ iteration: 8, artifactSha256: 'c8' });
    await recordTrainingRun(db, run, outcome('main', 0.7));
    await clearTrainingCheckpoint(db, id);
    await recordTrainingCheckpoint(db, id, { iteration: 12, artifactSha256: 'c12' });
    expect(await findTrainingCheckpoint(db, id)).toBeUndefined();
  });
});
