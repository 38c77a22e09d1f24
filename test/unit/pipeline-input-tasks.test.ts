import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gateCompareMetric, trainingPipelineInputSchema, tuningMetric } from '../../src/shared/pipeline-input';
import { describeIssues } from '../../src/shared/validation';
import { parseJson } from '../fixtures/json';

const base = parseJson<{ pipeline: Record<string, unknown> }>(readFileSync('keel.config.json', 'utf8')).pipeline;

/** The problems the schema reports for `input`, as `path: message (got value)` lines. */
function problems(input: Record<string, unknown>): string[] {
  const result = trainingPipelineInputSchema.safeParse(input);
  return result.success ? [] : describeIssues(result.error.issues, input);
}

describe('trainingPipeline input: tasks, trainers and gates', () => {
  it('defaults to a binary task, so configs written before tasks existed keep their meaning', () => {
    const parsed = trainingPipelineInputSchema.parse(base);
    expect(parsed.task).toBe('binary');
    expect(gateCompareMetric(parsed)).toBe('rocAuc');
    expect(tuningMetric(parsed)).toEqual({ name: 'rocAuc', higherIsBetter: true });
  });

  it('accepts a ridge regression gated on R² and compared on RMSE', () => {
    const parsed = trainingPipelineInputSchema.parse({
      ...base,
      task: 'regression',
      target: 'distance',
      features: [{ name: 'hour', kind: 'categorical' }],
      trainer: { kind: 'linear-regression', l2: 1 },
      gate: { min: { r2: 0.5 }, max: { rmse: 100 } },
    });
    expect(parsed.trainer).toEqual({ kind: 'linear-regression', l2: 1, maxIterations: 500, tolerance: 1e-9, maxCategories: 500 });
    expect(gateCompareMetric(parsed)).toBe('rmse');
    expect(tuningMetric(parsed)).toEqual({ name: 'rmse', higherIsBetter: false });
  });

  it('names a trainer that cannot learn the task', () => {
    expect(problems({ ...base, task: 'regression', gate: {} }).join('\n')).toContain(
      'trainer.kind: logistic-regression cannot learn a regression task (it learns: binary, multiclass)',
    );
    expect(problems({ ...base, task: 'binary', trainer: { kind: 'linear-regression' } }).join('\n')).toContain(
      'linear-regression cannot learn a binary task',
    );
  });

  it('requires a GBDT objective that matches the task', () => {
    const gbdt = { kind: 'gbdt', params: { objective: 'binary' } };
    expect(problems({ ...base, task: 'multiclass', trainer: gbdt, gate: {} }).join('\n')).toContain(
      'trainer.params.objective: must be the pipeline\'s task "multiclass", got "binary"',
    );
  });

  it('rejects gate and tuning metrics that are not metrics of the task, listing the valid ones', () => {
    const regression = { ...base, task: 'regression', trainer: { kind: 'linear-regression' } };
    const text = problems({ ...regression, gate: { minRocAuc: 0.6, min: { accuracy: 0.9 }, compareMetric: 'f1' } }).join('\n');
    expect(text).toContain('gate.minRocAuc: applies to binary models; for regression use gate.min / gate.max (metrics: rmse, mae, r2)');
    expect(text).toContain('gate.min.accuracy: "accuracy" is not a regression metric (one of: rmse, mae, r2)');
    expect(text).toContain('gate.compareMetric: "f1" is not a regression metric');
    const tuning = { strategy: 'grid', space: { l2: [0.1, 1] }, metric: 'rocAuc' };
    expect(problems({ ...regression, gate: {}, tuning }).join('\n')).toContain('tuning.metric: "rocAuc" is not a regression metric');
  });

  it('refuses a target that is also a feature', () => {
    expect(problems({ ...base, target: 'distance' }).join('\n')).toContain('target: the target "distance" is also listed as a feature');
  });
});
