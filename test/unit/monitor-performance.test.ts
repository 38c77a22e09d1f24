import { describe, expect, it } from 'vitest';
import {
  liveMetrics,
  livePerformance,
  metricStandardError,
  performanceAlerts,
  type LoggedPrediction,
} from '../../src/monitoring/live-performance';
import { performanceConfigSchema } from '../../src/shared/monitoring';

const window = { start: '2001-02-01T00:00:00.000Z', end: '2001-02-01T01:00:00.000Z' };
const t0 = Date.parse(window.start);
const reference = { rocAuc: 0.62, accuracy: 0.6, f1: 0.37, n: 75_000, positives: 15_375 }; // 20.5 % positive

/** Seeded predictions whose scores carry signal: `auc` sets how well they rank, `rate` the positive share. */
function predictions(
  n: number,
  options: { version?: number; rate: number; signal: number; labelled?: number; seed?: number },
): LoggedPrediction[] {
  let state = options.seed ?? 1;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: n }, (_, i) => {
    const actual = random() < options.rate ? 1 : 0;
    const probability = Math.min(1, Math.max(0, 0.2 + options.signal * (actual - 0.5) + (random() - 0.5) * 0.5));
    return {
      version: options.version ?? 1,
      at: t0 + Math.floor((i / n) * 3_600_000),
      probability,
      predicted: probability > 0.25 ? 1 : 0,
      actual: i < (options.labelled ?? n) ? actual : null,
    };
  });
}

const config = (overrides: Record<string, unknown> = {}) => performanceConfigSchema.parse(overrides);
const references = new Map([[1, reference]]);

describe('live performance', () => {
  it('computes the confusion matrix from the model labels and ROC AUC from the scores', () => {
    const rows: LoggedPrediction[] = [
      { version: 1, at: t0, probability: 0.9, predicted: 1, actual: 1 },
      { version: 1, at: t0, probability: 0.8, predicted: 1, actual: 0 },
      { version: 1, at: t0, probability: 0.3, predicted: 0, actual: 1 },
      { version: 1, at: t0, probability: 0.1, predicted: 0, actual: 0 },
    ];
    const m = liveMetrics(rows);
    expect(m).toMatchObject({
      n: 4,
      positives: 2,
      positiveRate: 0.5,
      predictedPositiveRate: 0.5,
      accuracy: 0.5,
      precision: 0.5,
      recall: 0.5,
      f1: 0.5,
    });
    expect(m.rocAuc).toBe(0.75);
    expect(liveMetrics(rows.filter((r) => r.actual === 1)).rocAuc).toBeNull();
  });

  it('Hanley–McNeil standard error of ROC AUC (their Table 1: A = 0.8, 50 positives, 50 negatives → 0.0447)', () => {
    const se = metricStandardError({ n: 100, positives: 50 } as never, 'rocAuc', 0.8);
    expect(se).toBeCloseTo(0.0447, 3);
  });

  it('does not judge without enough labels; late labels count as coverage only', () => {
    const result = livePerformance(predictions(1000, { rate: 0.2, signal: 0.3, labelled: 150 }), {
      config: config(),
      window,
      references,
      defaultMinValue: 0.6,
    });
    const v = result.versions[0];
    expect(v).toMatchObject({ predictions: 1000, labelled: 150, coverage: 0.15 });
    expect(v.concept.status).toBe('insufficient_labels');
    expect(v.concept.reasons).toEqual(['150 labelled predictions, 200 needed']);
    expect(v.labelShift.status).toBe('insufficient_labels');
    expect(performanceAlerts(result, { model: 'm', windowEnd: window.end })).toEqual([]);
  });

  it('is ok for a model that ranks as well as on its test split and sees the same positive rate', () => {
    const result = livePerformance(predictions(4000, { rate: 0.205, signal: 0.3 }), {
      config: config(),
      window,
      references,
      defaultMinValue: 0.6,
    });
    const v = result.versions[0];
    expect(v.metric.value!).toBeGreaterThan(0.65);
    expect(v.concept).toMatchObject({ status: 'ok', floor: 0.6 });
    expect(v.labelShift.status).toBe('ok');
  });

  it('flags concept drift below the gate floor, and label drift when the positive share moves', () => {
    const result = livePerformance(predictions(4000, { rate: 0.3, signal: 0.02 }), {
      config: config(),
      window,
      references,
      defaultMinValue: 0.6,
    });
    const v = result.versions[0];
    expect(v.metric.value!).toBeLessThan(0.56);
    expect(v.concept.status).toBe('drift');
    expect(v.concept.floor).toBe(0.6);
    expect(v.concept.reasons.join()).toMatch(/below the minimum 0.6 = 0.6 by more than 1.645 standard errors/);
    expect(v.concept.reasons.join()).toMatch(/below its test-split rocAuc 0.62 − 0.03 = 0.59/);
    expect(v.labelShift.status).toBe('drift');
    expect(v.labelShift.change!).toBeGreaterThan(0.08);
    expect(v.labelShift.pValue!).toBeLessThan(1e-6);

    const alerts = performanceAlerts(result, { model: 'flights', windowEnd: window.end, reportId: 7 });
    expect(alerts.map((a) => [a.kind, a.severity])).toEqual([
      ['concept_drift', 'critical'],
      ['label_drift', 'warning'],
    ]);
    expect(alerts[0].incidentKey).toBe('concept_drift:flights:v1:2001-02-01T00:00:00.000Z');
    expect(alerts[1].title).toMatch(/positive share 3\d\.\d\d% vs 20\.50% in training/);
  });

  it('a small sample just under the floor is not an alarm (standard errors), unless confidenceZ is 0', () => {
    const rows = predictions(300, { rate: 0.2, signal: 0.04, seed: 5 }); // ROC AUC 0.594 ± 0.041
    const loose = livePerformance(rows, { config: config(), window, references, defaultMinValue: 0.6 }).versions[0];
    expect(loose.metric.value!).toBeLessThan(0.6);
    expect(loose.metric.value! + 1.645 * loose.metric.standardError!).toBeGreaterThan(0.6);
    expect(loose.concept.status).toBe('ok');
    const strict = livePerformance(rows, { config: config({ confidenceZ: 0 }), window, references, defaultMinValue: 0.6 }).versions[0];
    expect(strict.concept.status).toBe('drift');
  });

  it('a small change of the positive share is not label drift, however significant', () => {
    const v = livePerformance(predictions(200_000, { rate: 0.215, signal: 0.3 }), { config: config(), window, references }).versions[0];
    expect(v.labelShift.pValue!).toBeLessThan(0.01);
    expect(Math.abs(v.labelShift.change!)).toBeLessThan(0.02);
    expect(v.labelShift.status).toBe('ok');
  });

  it('reports per version and in rolling buckets', () => {
    const rows = [
      ...predictions(2000, { version: 1, rate: 0.2, signal: 0.3 }),
      ...predictions(600, { version: 2, rate: 0.2, signal: 0.3, seed: 9 }),
    ];
    const result = livePerformance(rows, { config: config({ bucketMinutes: 15 }), window, references });
    expect(result.versions.map((v) => [v.version, v.predictions])).toEqual([
      [1, 2000],
      [2, 600],
    ]);
    expect(result.versions[1].concept.status).toBe('no_reference');
    expect(result.versions[0].rolling).toHaveLength(4);
    expect(result.versions[0].rolling.map((b) => b.predictions)).toEqual([500, 500, 500, 500]);
    expect(result.versions[0].rolling[0]).toMatchObject({ start: '2001-02-01T00:00:00.000Z', end: '2001-02-01T00:15:00.000Z' });
  });
});
