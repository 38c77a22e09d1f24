import { describe, expect, it } from 'vitest';
import { driftPoints, performancePoints, type ReportSummary } from '../../src/ui/loaders/monitoring';
import { healthOf, type RolloutEvent, trafficOf } from '../../src/ui/loaders/rollouts';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

function event(seq: number, kind: string, extra: Partial<RolloutEvent> = {}): RolloutEvent {
  return { rolloutId: 'r', seq, kind, percent: null, shadow: null, actor: 'a', reason: '', health: null, at: at(seq), ...extra };
}

describe('rollout chart points', () => {
  it('traffic: a point per route change, 100 % when promoted, 0 % when rolled back', () => {
    const events = [
      event(0, 'started'),
      event(1, 'step', { percent: 10, shadow: true }),
      event(2, 'step_passed'),
      event(3, 'step', { percent: 50, shadow: false }),
      event(4, 'rolled_back'),
    ];
    expect(trafficOf(events).map((p) => [p.percent, p.shadow])).toEqual([
      [10, true],
      [50, false],
      [0, false],
    ]);
  });

  it('health: both versions and the limits the rules draw, from each recorded comparison', () => {
    const health = {
      candidate: { version: 2, rows: 100, errors: 1, errorRate: 0.01, p99LatencyMs: 12, labelled: 0, accuracy: null },
      baseline: { version: 1, rows: 400, errors: 0, errorRate: 0.002, p99LatencyMs: 4, labelled: 0, accuracy: null },
    };
    const points = healthOf([event(0, 'step'), event(1, 'step_passed', { health })], {
      maxErrorRateIncrease: 0.02,
      maxP99LatencyRatio: 2,
      p99LatencyToleranceMs: 5,
    });
    expect(points).toEqual([
      { at: at(1).toISOString(), metric: 'error rate', candidate: 0.01, baseline: 0.002, limit: 0.022 },
      // max(2 × 4, 4 + 5): both must be exceeded for a breach, so the limit is the larger.
      { at: at(1).toISOString(), metric: 'p99 latency (ms)', candidate: 12, baseline: 4, limit: 9 },
    ]);
  });
});

describe('monitoring chart points', () => {
  const report = (id: number, value: number | null): ReportSummary => ({
    id,
    modelName: 'm',
    version: 1,
    windowStart: at(0),
    windowEnd: at(id),
    rowCount: 100,
    status: 'ok',
    findings: [],
    message: '',
    features: [
      { feature: 'hour', method: 'psi', score: 0.1, threshold: 0.2, drifted: false, psi: 0.1 },
      { feature: 'distance', method: 'wasserstein', score: null, threshold: 0.1, drifted: false, psi: null },
    ],
    performance: {
      metric: 'rocAuc',
      window: { start: '', end: '' },
      minLabelled: 10,
      versions: [
        {
          version: 1,
          predictions: 100,
          labelled: 80,
          coverage: 0.8,
          metrics: null,
          metric: { name: 'rocAuc', value, standardError: 0.01, reference: 0.7 },
          concept: { status: 'ok', floor: 0.65, reasons: [] },
          labelShift: { status: 'off', rate: null, referenceRate: null, change: null, pValue: null },
          rolling: [],
        },
      ],
    } as never,
    actions: {},
    createdAt: at(id),
  });

  it('drift: a point per report and feature, at the window end', () => {
    const points = driftPoints([report(1, 0.7), report(2, 0.69)]);
    expect(points).toHaveLength(4);
    expect(points[0]).toEqual({
      at: at(1).toISOString(),
      feature: 'hour',
      method: 'psi',
      score: 0.1,
      threshold: 0.2,
      drifted: false,
      reportId: 1,
    });
  });

  it('performance: judged windows only, with the floor as the limit', () => {
    const { metric, points } = performancePoints([report(1, 0.7), report(2, null)]);
    expect(metric).toBe('rocAuc');
    expect(points).toEqual([{ at: at(1).toISOString(), version: 1, value: 0.7, standardError: 0.01, reference: 0.7, limit: 0.65 }]);
  });
});
