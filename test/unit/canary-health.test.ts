import { describe, expect, it } from 'vitest';
import {
  type HealthSample,
  type VersionHealth,
  canaryHealthSchema,
  canaryRolloutInputSchema,
  judgeHealth,
  planCanary,
  rolloutSpecSchema,
} from '../../src/shared/canary';
import { trainingPipelineInputSchema } from '../../src/shared/pipeline-input';

const thresholds = canaryHealthSchema.parse({ minRequests: 100, p99MinRequests: 200 });

function version(v: number, rows: number, errors: number, p99: number | null, extra: Partial<VersionHealth> = {}): VersionHealth {
  return { version: v, rows, errors, errorRate: rows ? errors / rows : null, p99LatencyMs: p99, labelled: 0, accuracy: null, ...extra };
}

function sample(candidate: VersionHealth, baseline: VersionHealth, shadow = false): HealthSample {
  const window = { from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T00:05:00.000Z' };
  return { candidate, baseline, window, baselineWindow: window, shadow };
}

const check = (report: ReturnType<typeof judgeHealth>, name: string) => report.checks.find((c) => c.name === name)!;

describe('judgeHealth', () => {
  it('passes a candidate as good as its baseline', () => {
    const report = judgeHealth(sample(version(2, 500, 1, 2.1), version(1, 4500, 5, 2.0)), thresholds);
    expect(canaryHealthSchema.parse({}).p99MinRequests).toBe(500);
    expect(report.verdict).toBe('healthy');
    expect(report.reasons).toEqual([]);
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['error_rate', 'pass'],
      ['p99_latency', 'pass'],
    ]);
  });

  it('breaches when the error rate rises by more than the allowance over the baseline', () => {
    // baseline 1 %, candidate 2.4 %: +1.4 points > 1 point.
    const report = judgeHealth(sample(version(2, 500, 12, 2), version(1, 1000, 10, 2)), thresholds);
    expect(report.verdict).toBe('breach');
    expect(report.reasons[0]).toContain('error rate 2.40% (12/500) exceeds baseline v1 1.00% of 1000 + 1.00%');
    // +0.8 points is within the allowance.
    expect(judgeHealth(sample(version(2, 500, 9, 2), version(1, 1000, 10, 2)), thresholds).verdict).toBe('healthy');
  });

  it('waits for minRequests, but declares a breach that more traffic cannot undo', () => {
    const few = judgeHealth(sample(version(2, 40, 1, 50), version(1, 400, 0, 1)), thresholds);
    expect(few.verdict).toBe('insufficient_data');
    expect(few.reasons[0]).toContain('40 of the 100 requests');
    expect(check(few, 'p99_latency').status).toBe('skipped'); // a p99 of 40 rows is not judged
    // 2 errors in 40 rows: at 100 rows that is still 2 % > 0 % + 1 %.
    const certain = judgeHealth(sample(version(2, 40, 2, 1), version(1, 400, 0, 1)), thresholds);
    expect(certain.verdict).toBe('breach');
    expect(certain.reasons[0]).toContain('error rate at least 2.00% (2 errors in 40 of the 100 requests needed) exceeds baseline v1 0.00% of 400 + 1.00%');
  });

  it('judges p99 latency by ratio, with a tolerance for tiny latencies', () => {
    const slow = judgeHealth(sample(version(2, 200, 0, 40), version(1, 800, 0, 20)), thresholds);
    expect(slow.verdict).toBe('breach');
    expect(check(slow, 'p99_latency').detail).toContain('×2.00');
    // A p99 of fewer than p99MinRequests rows is its maximum, more or less: reported, not judged.
    const thin = judgeHealth(sample(version(2, 150, 0, 40), version(1, 800, 0, 20)), thresholds);
    expect(thin.verdict).toBe('healthy');
    expect(check(thin, 'p99_latency')).toMatchObject({ status: 'skipped', detail: expect.stringContaining('needs 200 requests of each version') });
    // 3× slower but only 1 ms apart: within the 5 ms tolerance.
    expect(judgeHealth(sample(version(2, 200, 0, 1.5), version(1, 800, 0, 0.5)), thresholds).verdict).toBe('healthy');
  });

  it('does not judge latency in shadow mode, nor against a baseline without enough rows', () => {
    const shadow = judgeHealth(sample(version(2, 200, 0, 90), version(1, 800, 0, 1), true), thresholds);
    expect(shadow.verdict).toBe('healthy');
    expect(check(shadow, 'p99_latency')).toMatchObject({ status: 'skipped', detail: expect.stringContaining('shadow') });
    const noBaseline = judgeHealth(sample(version(2, 200, 1, 90), version(1, 3, 0, 1)), thresholds);
    expect(noBaseline.verdict).toBe('healthy');
    expect(check(noBaseline, 'error_rate').detail).toContain('baseline v1 has 3 < 100 requests, counted as 0%');
    // A baseline measured over a wider window (at 100 %) is compared on errors, not on latency.
    const widened = sample(version(2, 200, 0, 90), version(1, 800, 0, 1));
    widened.baselineWindow = { from: '2025-12-31T23:00:00.000Z', to: widened.window.to };
    const late = judgeHealth(widened, thresholds);
    expect(late.verdict).toBe('healthy');
    expect(check(late, 'p99_latency')).toMatchObject({ status: 'skipped', detail: expect.stringContaining('compared only at the same time') });
    // Without a baseline, the candidate's own error rate must stay within the allowance.
    expect(judgeHealth(sample(version(2, 200, 3, 1), version(1, 0, 0, null)), thresholds).verdict).toBe('breach');
  });

  it('compares online accuracy only when both sides have enough labels', () => {
    const online = canaryHealthSchema.parse({ minRequests: 100, onlineMetric: { maxDrop: 0.02, minLabelled: 50 } });
    const worse = judgeHealth(
      sample(version(2, 300, 0, 1, { labelled: 60, accuracy: 0.7 }), version(1, 900, 0, 1, { labelled: 200, accuracy: 0.8 })),
      online,
    );
    expect(worse.verdict).toBe('breach');
    expect(check(worse, 'online_accuracy').detail).toContain('candidate accuracy 70.00% (60 labelled) vs baseline 80.00% (200)');
    const close = judgeHealth(
      sample(version(2, 300, 0, 1, { labelled: 60, accuracy: 0.79 }), version(1, 900, 0, 1, { labelled: 200, accuracy: 0.8 })),
      online,
    );
    expect(close.verdict).toBe('healthy');
    const unlabelled = judgeHealth(
      sample(version(2, 300, 0, 1, { labelled: 10, accuracy: 0.1 }), version(1, 900, 0, 1, { labelled: 200, accuracy: 0.8 })),
      online,
    );
    expect(unlabelled.verdict).toBe('healthy');
    expect(check(unlabelled, 'online_accuracy').status).toBe('skipped');
  });
});

describe('canary rollout input', () => {
  it('fills defaults and plans a shadow step first when asked', () => {
    const input = canaryRolloutInputSchema.parse({ model: 'm', candidate: 2, shadowFirst: {} });
    expect(input.steps).toEqual([10, 25, 50, 100]);
    expect(input.health).toMatchObject({ maxErrorRateIncrease: 0.01, maxP99LatencyRatio: 1.5, minRequests: 100 });
    expect(input.insufficientData).toEqual({ action: 'rollback' });
    expect(planCanary(input)).toEqual([
      { percent: 100, shadow: true, bakeSeconds: 300 },
      { percent: 10, shadow: false, bakeSeconds: 300 },
      { percent: 25, shadow: false, bakeSeconds: 300 },
      { percent: 50, shadow: false, bakeSeconds: 300 },
      { percent: 100, shadow: false, bakeSeconds: 300 },
    ]);
  });

  it('rejects steps that do not increase, weights out of range and unknown fields', () => {
    const bad = canaryRolloutInputSchema.safeParse({ model: 'm', candidate: 2, steps: [10, 10, 150], bakeSecond: 3 });
    expect(bad.success).toBe(false);
    const messages = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages.join('\n')).toMatch(/steps\.2/);
    expect(messages.join('\n')).toMatch(/bakeSecond/);
    const decreasing = canaryRolloutInputSchema.safeParse({ model: 'm', candidate: 2, steps: [50, 25] });
    expect(decreasing.error!.issues[0]).toMatchObject({ path: ['steps', 1], message: 'steps must increase strictly (50 then 25)' });
  });

  it('is the rollout option of a training pipeline, direct by default', () => {
    expect(rolloutSpecSchema.parse({ strategy: 'canary', bakeSeconds: 60 })).toMatchObject({ strategy: 'canary', steps: [10, 25, 50, 100], bakeSeconds: 60 });
    const pipeline = trainingPipelineInputSchema.shape;
    expect(pipeline.rollout.parse(undefined)).toEqual({ strategy: 'direct' });
  });
});
