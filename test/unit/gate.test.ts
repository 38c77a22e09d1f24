import { describe, expect, it } from 'vitest';
import { decideGate } from '../../src/shared/gate';
import { gateSpecSchema } from '../../src/shared/pipeline-input';
import type { BinaryMetrics, RegressionMetrics } from '../../src/shared/model-metrics';

const gate = gateSpecSchema.parse({ minRocAuc: 0.6, maxDropVsProduction: 0.01 });
const binary = (rocAuc: number, extra: Partial<BinaryMetrics> = {}) => ({ rocAuc, ...extra }) as BinaryMetrics;
const regression = (rmse: number, r2 = 0.5): RegressionMetrics => ({
  task: 'regression',
  n: 100,
  rmse,
  mae: rmse / 2,
  r2,
  meanLabel: 0,
  meanPrediction: 0,
});

describe('gate', () => {
  it('passes a candidate above the minimum when nothing is in production', () => {
    expect(decideGate(gate, 'binary', binary(0.65))).toEqual({
      passed: true,
      reasons: ['rocAuc 0.65 ≥ 0.6, no production version to compare with'],
    });
  });

  it('rejects below the absolute minimum, saying so', () => {
    const decision = decideGate(gate, 'binary', binary(0.59));
    expect(decision.passed).toBe(false);
    expect(decision.reasons).toEqual(['rocAuc 0.59 is below the minimum 0.6']);
  });

  it('allows trailing production by at most the configured margin (absolute for ROC AUC)', () => {
    expect(decideGate(gate, 'binary', binary(0.695), { version: 3, metrics: binary(0.7) }).passed).toBe(true);
    const decision = decideGate(gate, 'binary', binary(0.68), { version: 3, metrics: binary(0.7) });
    expect(decision.passed).toBe(false);
    expect(decision.reasons[0]).toBe('rocAuc 0.68 trails production v3 (0.7) by more than 0.01');
  });

  it('never passes a NaN metric', () => {
    expect(decideGate(gate, 'binary', binary(Number.NaN)).passed).toBe(false);
  });

  it('checks min and max thresholds on any metric of the task, reporting every failure', () => {
    const spec = gateSpecSchema.parse({ min: { r2: 0.6 }, max: { rmse: 40_000, mae: 10_000 } });
    const decision = decideGate(spec, 'regression', regression(45_000, 0.55));
    expect(decision.passed).toBe(false);
    expect(decision.reasons).toEqual([
      'r2 0.55 is below the minimum 0.6',
      'rmse 45000 is above the maximum 40000',
      'mae 22500 is above the maximum 10000',
    ]);
    expect(decideGate(gateSpecSchema.parse({ max: { rmse: 50_000 } }), 'regression', regression(45_000)).passed).toBe(true);
  });

  it('compares an error metric with production relatively (RMSE is in the target’s units)', () => {
    const spec = gateSpecSchema.parse({ maxDropVsProduction: 0.05 });
    const production = { version: 2, metrics: regression(40_000) };
    expect(decideGate(spec, 'regression', regression(41_999), production).passed).toBe(true);
    const worse = decideGate(spec, 'regression', regression(42_001), production);
    expect(worse.passed).toBe(false);
    expect(worse.reasons[0]).toBe('rmse 42001 trails production v2 (40000) by more than 5.00 %');
    // A better candidate always passes.
    expect(decideGate(spec, 'regression', regression(30_000), production).passed).toBe(true);
  });

  it('compares on the configured metric, and not at all across tasks', () => {
    const spec = gateSpecSchema.parse({ compareMetric: 'r2', maxDropVsProduction: 0.01 });
    expect(decideGate(spec, 'regression', regression(10, 0.7), { version: 1, metrics: regression(50, 0.72) }).passed).toBe(false);
    const acrossTasks = decideGate(gateSpecSchema.parse({}), 'regression', regression(10), { version: 4, metrics: binary(0.9) });
    expect(acrossTasks).toEqual({ passed: true, reasons: ['production v4 is a binary model: not compared'] });
  });
});
