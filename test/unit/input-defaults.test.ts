import { describe, expect, it } from 'vitest';
import { trainingPipelineInputSchema } from '../../src/shared/pipeline-input';
import { projectConfigSchema } from '../../src/shared/project-config';

/** The least a pipeline input needs: what to train, on what, from which columns, with which trainer. */
const minimal = {
  model: 'flight-delays',
  dataset: {
    name: 'flights-2001-01',
    recipe: 'flights',
    source: { format: 'parquet', path: 'vega-datasets:flights-3m.parquet' },
    period: { from: '2001-01-01', to: '2001-02-01' },
  },
  features: [{ name: 'distance', kind: 'numeric' }],
  target: 'delayed',
  trainer: { kind: 'logistic-regression' },
};

describe('input defaults', () => {
  it('fills in the rules, the split, the gate, deploy and the logistic trainer', () => {
    const parsed = trainingPipelineInputSchema.parse(minimal);
    expect(parsed.rules).toEqual({ minRows: 1, maxNullFraction: 1 });
    expect(parsed.split).toEqual({ seed: 0, train: 0.7, validation: 0.15, test: 0.15 });
    expect(parsed.gate).toEqual({ min: {}, max: {}, maxDropVsProduction: 0.005 });
    expect(parsed.deploy).toBe(true);
    expect(parsed.rollout).toEqual({ strategy: 'direct' });
    // l2 absent: the trainer uses 1/(training rows), at least 1e-4 (src/ml/train.ts smallDataL2).
    expect(parsed.trainer).toEqual({ kind: 'logistic-regression', maxIterations: 500, tolerance: 1e-9, maxCategories: 500 });
  });

  it('gives both linear families the same iteration, tolerance and vocabulary defaults', () => {
    const linear = trainingPipelineInputSchema.parse({ ...minimal, task: 'regression', trainer: { kind: 'linear-regression' } }).trainer;
    const logistic = trainingPipelineInputSchema.parse(minimal).trainer;
    const { kind: _l, l2: _a, ...linearRest } = linear as Extract<typeof linear, { kind: 'linear-regression' }>;
    const { kind: _g, l2: _b, ...logisticRest } = logistic as Extract<typeof logistic, { kind: 'logistic-regression' }>;
    expect(logisticRest).toEqual(linearRest);
  });

  it('still checks a partial split against the defaults of the rest', () => {
    const result = trainingPipelineInputSchema.safeParse({ ...minimal, split: { train: 0.8 } });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message)).toContain('train + validation + test must equal 1');
    expect(trainingPipelineInputSchema.parse({ ...minimal, split: { train: 0.8, validation: 0.1, test: 0.1 } }).split.seed).toBe(0);
  });

  it('reads a mapped dataset without "recipe" as a mapping', () => {
    const dataset = { name: 'homes', sources: [{ format: 'csv', path: 'homes.csv' }], columns: [{ name: 'price', type: 'number' }] };
    const parsed = trainingPipelineInputSchema.parse({
      ...minimal,
      dataset,
      target: 'price',
      features: [{ name: 'rooms', kind: 'numeric' }],
    });
    expect(parsed.dataset.recipe).toBe('mapping');
  });

  it('needs only the pipeline and the retraining schedule in keel.config.json', () => {
    const parsed = projectConfigSchema.parse({ pipeline: minimal, retrain: { cron: '0 3 * * 1' } });
    expect(parsed.monitor).toMatchObject({ every: '1h', windowMinutes: 60, minRows: 100, maxRows: 200_000 });
    expect(parsed.server).toEqual({ port: 8080 });
    expect(parsed.retrain.catchupWindow).toBe('1h');
  });

  it('keeps required what has no sensible default, and says which field is missing', () => {
    const { target: _target, ...noTarget } = minimal;
    const result = trainingPipelineInputSchema.safeParse(noTarget);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['target']);
  });
});
