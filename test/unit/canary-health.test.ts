import { describe, expect, it } from 'vitest';
import {
  type CanaryHealthThresholds,
  type HealthSample,
  type LatencySample,
  type VersionHealth,
  advanceLatencyWatch,
  canaryContinuationSchema,
  canaryHealthSchema,
  canaryRolloutInputSchema,
  planCanary,
  rolloutSpecSchema,
  startLatencyWatch,
} from '../../src/shared/canary';
import { judgeHealth } from '../../src/serving/canary-health';
import { trainingPipelineInputSchema } from '../../src/shared/pipeline-input';

const thresholds = canaryHealthSchema.parse({ minRequests: 100, p99MinRequests: 200 });

function version(v: number, rows: number, errors: number, p99: number | null, extra: Partial<VersionHealth> = {}): VersionHealth {
  return { version: v, rows, errors, errorRate: rows ? errors / rows : null, p99LatencyMs: p99, labelled: 0, accuracy: null, ...extra };
}

function sample(candidate: VersionHealth, baseline: VersionHealth, shadow = false): HealthSample {
  const window = { from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T00:05:00.000Z' };
  return { candidate, baseline, window, baselineWindow: window, shadow };
}

/** The latency window of a check that measured both versions' p99 over the sample's own window. */
function latencyOf(s: HealthSample, from = s.window.from): LatencySample {
  return {
    window: { from, to: s.window.to },
    candidate: { rows: s.candidate.rows, p99LatencyMs: s.candidate.p99LatencyMs },
    baseline: { rows: s.baseline.rows, p99LatencyMs: s.baseline.p99LatencyMs },
  };
}

/** Judges a sample whose latency window is its own (no earlier too-slow checks unless `breaches`). */
const judge = (s: HealthSample, t: CanaryHealthThresholds = thresholds, breaches = 0) =>
  judgeHealth(s, t, { sample: s.shadow ? null : latencyOf(s), breaches });

const check = (report: ReturnType<typeof judgeHealth>, name: string) => report.checks.find((c) => c.name === name)!;

describe('judgeHealth', () => {
  it('passes a candidate as good as its baseline', () => {
    const report = judge(sample(version(2, 500, 1, 2.1), version(1, 4500, 5, 2.0)), thresholds);
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
    const report = judge(sample(version(2, 500, 12, 2), version(1, 1000, 10, 2)), thresholds);
    expect(report.verdict).toBe('breach');
    expect(report.reasons[0]).toContain('error rate 2.40% (12/500) exceeds baseline v1 1.00% of 1000 + 1.00%');
    // +0.8 points is within the allowance.
    expect(judge(sample(version(2, 500, 9, 2), version(1, 1000, 10, 2)), thresholds).verdict).toBe('healthy');
  });

  it('waits for minRequests, but declares a breach that more traffic cannot undo', () => {
    const few = judge(sample(version(2, 40, 1, 50), version(1, 400, 0, 1)), thresholds);
    expect(few.verdict).toBe('insufficient_data');
    expect(few.reasons[0]).toContain('40 of the 100 requests');
    expect(check(few, 'p99_latency').status).toBe('skipped'); // a p99 of 40 rows is not judged
    // 2 errors in 40 rows: at 100 rows that is still 2 % > 0 % + 1 %.
    const certain = judge(sample(version(2, 40, 2, 1), version(1, 400, 0, 1)), thresholds);
    expect(certain.verdict).toBe('breach');
    expect(certain.reasons[0]).toContain(
      'error rate at least 2.00% (2 errors in 40 of the 100 requests needed) exceeds baseline v1 0.00% of 400 + 1.00%',
    );
  });

  it('judges p99 latency by ratio AND absolute margin, over enough requests of each version', () => {
    const once = canaryHealthSchema.parse({ minRequests: 100, p99MinRequests: 200, p99ConsecutiveBreaches: 1 });
    const slow = judge(sample(version(2, 200, 0, 40), version(1, 800, 0, 20)), once);
    expect(slow.verdict).toBe('breach');
    expect(check(slow, 'p99_latency').detail).toContain(
      'candidate p99 40.00 ms vs baseline 20.00 ms (×2.00; limit ×1.5 and +5 ms) over 200 and 800 requests',
    );
    // A p99 of fewer than p99MinRequests rows is its maximum, more or less: reported, not judged.
    const thin = judge(sample(version(2, 150, 0, 40), version(1, 800, 0, 20)), once);
    expect(thin.verdict).toBe('healthy');
    expect(check(thin, 'p99_latency')).toMatchObject({
      status: 'skipped',
      detail: expect.stringContaining('needs 200 requests of each version'),
    });
    // 3× slower but only 1 ms apart: relative alone would fail it; within the 5 ms margin.
    expect(judge(sample(version(2, 200, 0, 1.5), version(1, 800, 0, 0.5)), once).verdict).toBe('healthy');
    // 12 ms slower but only ×1.11: absolute alone would fail it; within the ratio.
    expect(check(judge(sample(version(2, 200, 0, 120), version(1, 800, 0, 108)), once), 'p99_latency').status).toBe('pass');
  });

  it('does not judge latency in shadow mode, nor at a step where the baseline answers nothing', () => {
    const shadow = judge(sample(version(2, 200, 0, 90), version(1, 800, 0, 1), true), thresholds);
    expect(shadow.verdict).toBe('healthy');
    expect(check(shadow, 'p99_latency')).toMatchObject({ status: 'skipped', detail: expect.stringContaining('shadow') });
    const noBaseline = judge(sample(version(2, 200, 1, 90), version(1, 3, 0, 1)), thresholds);
    expect(noBaseline.verdict).toBe('healthy');
    expect(check(noBaseline, 'error_rate').detail).toContain('baseline v1 has 3 < 100 requests, counted as 0%');
    // At 100 % the baseline's error rate comes from a wider window, but its latency window (the
    // step's, same as the candidate's) is empty: latency is never compared across different times.
    const widened = sample(version(2, 300, 0, 90), version(1, 800, 0, 1));
    widened.baselineWindow = { from: '2025-12-31T23:00:00.000Z', to: widened.window.to };
    const latency = { ...latencyOf(widened), baseline: { rows: 0, p99LatencyMs: null } };
    const late = judgeHealth(widened, thresholds, { sample: latency, breaches: 0 });
    expect(late.verdict).toBe('healthy');
    expect(check(late, 'p99_latency')).toMatchObject({ status: 'skipped', detail: expect.stringContaining('(candidate 300, baseline 0;') });
    // Without a baseline, the candidate's own error rate must stay within the allowance.
    expect(judge(sample(version(2, 200, 3, 1), version(1, 0, 0, null)), thresholds).verdict).toBe('breach');
  });

  it('compares online accuracy only when both sides have enough labels', () => {
    const online = canaryHealthSchema.parse({ minRequests: 100, onlineMetric: { maxDrop: 0.02, minLabelled: 50 } });
    const worse = judge(
      sample(version(2, 300, 0, 1, { labelled: 60, accuracy: 0.7 }), version(1, 900, 0, 1, { labelled: 200, accuracy: 0.8 })),
      online,
    );
    expect(worse.verdict).toBe('breach');
    expect(check(worse, 'online_accuracy').detail).toContain('candidate accuracy 70.00% (60 labelled) vs baseline 80.00% (200)');
    const close = judge(
      sample(version(2, 300, 0, 1, { labelled: 60, accuracy: 0.79 }), version(1, 900, 0, 1, { labelled: 200, accuracy: 0.8 })),
      online,
    );
    expect(close.verdict).toBe('healthy');
    const unlabelled = judge(
      sample(version(2, 300, 0, 1, { labelled: 10, accuracy: 0.1 }), version(1, 900, 0, 1, { labelled: 200, accuracy: 0.8 })),
      online,
    );
    expect(unlabelled.verdict).toBe('healthy');
    expect(check(unlabelled, 'online_accuracy').status).toBe('skipped');
  });
});

describe('latency judging (the cases that used to flake)', () => {
  const defaults = canaryHealthSchema.parse({ minRequests: 50 });
  const stepStart = Date.parse('2026-01-01T00:00:00.000Z');
  const at = (seconds: number) => new Date(stepStart + seconds * 1000).toISOString();
  /** A check at `seconds` into the step, both versions' p99 over the latency window `watch` gives. */
  function checkAt(
    seconds: number,
    watch: ReturnType<typeof startLatencyWatch>,
    p99: [number, number],
    rows: [number, number] = [600, 1800],
  ) {
    const step = { from: at(0), to: at(seconds) };
    const s: HealthSample = {
      candidate: version(2, rows[0], 0, p99[0]),
      baseline: version(1, rows[1], 0, p99[1]),
      window: step,
      baselineWindow: step,
      shadow: false,
    };
    const latencyFrom = watch.fromMs < stepStart + seconds * 1000 ? new Date(watch.fromMs).toISOString() : null;
    const latency: LatencySample | null = latencyFrom
      ? {
          window: { from: latencyFrom, to: step.to },
          candidate: { rows: rows[0], p99LatencyMs: p99[0] },
          baseline: { rows: rows[1], p99LatencyMs: p99[1] },
        }
      : null;
    const report = judgeHealth(s, defaults, { sample: latency, breaches: watch.breaches });
    return { report, watch: advanceLatencyWatch(watch, report, stepStart + seconds * 1000) };
  }

  it('defaults: ×1.5 and +5 ms, 500 requests each, 10 s of warm-up, two consecutive checks', () => {
    expect(defaults).toMatchObject({
      maxP99LatencyRatio: 1.5,
      p99LatencyToleranceMs: 5,
      p99MinRequests: 500,
      p99WarmupSeconds: 10,
      p99ConsecutiveBreaches: 2,
    });
  });

  it("ignores a freshly loaded version's slow first batches (the warm-up)", () => {
    // The flaking run: 2 s into the step, the candidate's first batches on a busy 2-core machine.
    const watch = startLatencyWatch(stepStart, defaults);
    expect(watch).toEqual({ fromMs: stepStart + 10_000, breaches: 0 });
    const { report } = checkAt(2, watch, [37.83, 19.95]);
    expect(report.verdict).toBe('healthy');
    expect(check(report, 'p99_latency')).toMatchObject({
      status: 'skipped',
      detail: expect.stringContaining('warming up: latency is judged from 10 s into the step'),
    });
    expect(report.latency).toEqual({ window: null, slow: false, breaches: 0 });
  });

  it('does not roll back on one slow check that fresh traffic does not confirm', () => {
    let watch = startLatencyWatch(stepStart, defaults);
    // After the warm-up, one slow burst: ×1.90 and +17.88 ms — the numbers that rolled v2 back.
    const first = checkAt(12, watch, [37.83, 19.95]);
    expect(first.report.verdict).toBe('unconfirmed');
    expect(check(first.report, 'p99_latency')).toMatchObject({
      status: 'unconfirmed',
      detail: expect.stringContaining('too slow in 1 of 2 consecutive checks'),
    });
    expect(first.report.reasons[0]).toContain('p99 latency too slow in 1 consecutive check(s) of the 2 that make a breach');
    // The next window starts where that check ended: only fresh traffic can confirm it.
    watch = first.watch;
    expect(watch).toEqual({ fromMs: stepStart + 12_000, breaches: 1 });
    const second = checkAt(14, watch, [2.1, 2.0]);
    expect(second.report.latency).toEqual({ window: { from: at(12), to: at(14) }, slow: false, breaches: 0 });
    expect(second.report.verdict).toBe('healthy');
    expect(second.watch).toEqual({ fromMs: stepStart + 12_000, breaches: 0 });
  });

  it('rolls back a candidate that stays slower in consecutive checks', () => {
    const first = checkAt(12, startLatencyWatch(stepStart, defaults), [40, 20]);
    const second = checkAt(14, first.watch, [41, 20]);
    expect(second.report.verdict).toBe('breach');
    expect(check(second.report, 'p99_latency')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('too slow in 2 of 2 consecutive checks'),
    });
    expect(second.report.latency).toEqual({ window: { from: at(12), to: at(14) }, slow: true, breaches: 2 });
  });

  it('keeps a pending breach while the fresh window has too few requests to judge', () => {
    const first = checkAt(12, startLatencyWatch(stepStart, defaults), [40, 20]);
    const thin = checkAt(13, first.watch, [45, 20], [100, 300]);
    expect(check(thin.report, 'p99_latency')).toMatchObject({
      status: 'skipped',
      detail: expect.stringContaining('1 too-slow check(s) await confirmation'),
    });
    expect(thin.report.verdict).toBe('unconfirmed'); // the step cannot pass on it
    expect(thin.watch).toEqual({ fromMs: stepStart + 12_000, breaches: 1 });
    expect(checkAt(15, thin.watch, [42, 20]).report.verdict).toBe('breach');
  });

  it('judges on the first slow check when p99ConsecutiveBreaches is 1', () => {
    const once = canaryHealthSchema.parse({ minRequests: 50, p99ConsecutiveBreaches: 1 });
    const s = sample(version(2, 600, 0, 40), version(1, 1800, 0, 20));
    expect(judgeHealth(s, once, { sample: latencyOf(s), breaches: 0 }).verdict).toBe('breach');
    expect(canaryHealthSchema.safeParse({ p99ConsecutiveBreaches: 0 }).error?.issues[0].path).toEqual(['p99ConsecutiveBreaches']);
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

  it('validates the continue-as-new threshold and the continuation of a run', () => {
    expect(canaryRolloutInputSchema.parse({ model: 'm', candidate: 2 }).continueAsNewAfterEvents).toBe(10_000);
    const tiny = canaryRolloutInputSchema.safeParse({ model: 'm', candidate: 2, continueAsNewAfterEvents: 3 });
    expect(tiny.error?.issues[0]).toMatchObject({ path: ['continueAsNewAfterEvents'], message: expect.stringContaining('10') });
    const bad = canaryContinuationSchema.safeParse({
      rolloutId: 'canary/m/r',
      baseline: 1,
      startedMs: 0,
      seq: -1,
      status: {},
      rollbackRequest: null,
    });
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['seq', 'status', 'promoteRequest', 'pausedSinceMs', 'heldForData', 'bake']));
  });

  it('is the rollout option of a training pipeline, direct by default', () => {
    expect(rolloutSpecSchema.parse({ strategy: 'canary', bakeSeconds: 60 })).toMatchObject({
      strategy: 'canary',
      steps: [10, 25, 50, 100],
      bakeSeconds: 60,
    });
    const pipeline = trainingPipelineInputSchema.shape;
    expect(pipeline.rollout.parse(undefined)).toEqual({ strategy: 'direct' });
  });
});
