import { describe, expect, it } from 'vitest';
import { performanceAlerts } from '../../src/monitoring/live-performance';
import { multiclassMetrics, multiclassPerformance, type LoggedClassification } from '../../src/monitoring/multiclass-performance';
import { regressionMetrics, regressionPerformance, type LoggedRegression } from '../../src/monitoring/regression-performance';
import { InvalidInputError } from '../../src/shared/errors';
import { livePerformanceMetric, performanceConfigSchema } from '../../src/shared/monitoring';
import { mulberry32 } from '../../src/shared/prng';

const window = { start: '2024-02-01T00:00:00.000Z', end: '2024-02-01T01:00:00.000Z' };
const t0 = Date.parse(window.start);
const config = (overrides: Record<string, unknown> = {}) => performanceConfigSchema.parse(overrides);

/** Normal noise by Box–Muller from a seeded generator. */
function gaussian(seed: number): () => number {
  const random = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Delays in minutes predicted with error sd `sigma` (test-split RMSE was 10). */
function delays(n: number, sigma: number, seed: number, labelled = n): LoggedRegression[] {
  const noise = gaussian(seed);
  return Array.from({ length: n }, (_, i) => {
    const actual = 20 + 15 * noise();
    return { version: 1, at: t0 + i, prediction: actual + sigma * noise(), actual: i < labelled ? actual : null };
  });
}

describe('live performance of a regression model', () => {
  const references = new Map([[1, { rmse: 10, mae: 8, n: 20_000 }]]);

  it('computes RMSE and MAE as sklearn does', () => {
    const rows: LoggedRegression[] = [
      { version: 1, at: t0, prediction: 3, actual: 1 },
      { version: 1, at: t0, prediction: -1, actual: 2 },
      { version: 1, at: t0, prediction: 5, actual: 5 },
    ];
    const { metrics } = regressionMetrics(rows);
    expect(metrics.rmse).toBeCloseTo(Math.sqrt((4 + 9 + 0) / 3), 12);
    expect(metrics.mae).toBeCloseTo(5 / 3, 12);
    expect(metrics.meanActual).toBeCloseTo(8 / 3, 12);
  });

  it('errors as on the test split are ok; 30 % larger errors are concept drift against the ceiling test RMSE × 1.1', () => {
    const same = regressionPerformance(delays(2000, 10, 1), { config: config(), metric: 'rmse', window, references }).versions[0];
    expect(same.concept).toMatchObject({ status: 'ok', floor: null, ceiling: 11 });
    expect(same.metric.value).toBeGreaterThan(9.3);
    expect(same.metric.value).toBeLessThan(10.7);
    expect(same.labelShift.status).toBe('off');

    const worse = regressionPerformance(delays(2000, 13, 2), { config: config(), metric: 'rmse', window, references }).versions[0];
    expect(worse.concept.status).toBe('drift');
    expect(worse.concept.reasons[0]).toMatch(
      /live rmse 1[23]\.\d+ \(± 0\.\d+, 2000 labels\) is above its test-split rmse 10 × 1\.1 = 11 by more than 1\.645 standard errors/,
    );
  });

  it('does not alarm on noise: a slight rise on few labels stays within the standard error', () => {
    // RMSE ~11.3 on 200 labels: above the ceiling 11, but by less than 1.645 standard errors.
    const rows = delays(200, 11.3, 1);
    const loose = regressionPerformance(rows, { config: config(), metric: 'rmse', window, references }).versions[0];
    const value = loose.metric.value!;
    expect(value).toBeGreaterThan(11);
    expect(value - 1.645 * loose.metric.standardError!).toBeLessThan(11);
    expect(loose.concept.status).toBe('ok');
    const strict = regressionPerformance(rows, { config: config({ confidenceZ: 0 }), metric: 'rmse', window, references }).versions[0];
    expect(strict.concept.status).toBe('drift');
  });

  it('the RMSE standard error (delta method) matches the spread over repeated windows', () => {
    const values = Array.from({ length: 300 }, (_, s) => regressionMetrics(delays(400, 10, 100 + s)).metrics.rmse);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
    const estimated = regressionMetrics(delays(400, 10, 7)).standardErrors.rmse;
    expect(estimated / sd).toBeGreaterThan(0.8);
    expect(estimated / sd).toBeLessThan(1.25);
  });

  it('judges MAE and a configured ceiling; few labels are insufficient; alerts say the error rose', () => {
    const mae = regressionPerformance(delays(1000, 10, 4), { config: config({ maxValue: 7 }), metric: 'mae', window, references })
      .versions[0];
    expect(mae.concept).toMatchObject({ status: 'drift', ceiling: 7 });
    expect(mae.concept.reasons).toHaveLength(1);
    expect(mae.concept.reasons[0]).toMatch(/above the maximum 7/);
    const few = regressionPerformance(delays(1000, 30, 5, 50), { config: config(), metric: 'rmse', window, references }).versions[0];
    expect(few).toMatchObject({ labelled: 50, coverage: 0.05, concept: { status: 'insufficient_labels' } });

    const result = regressionPerformance(delays(2000, 13, 2), { config: config(), metric: 'rmse', window, references });
    const [alert] = performanceAlerts(result, { model: 'delays', windowEnd: window.end });
    expect(alert.title).toMatch(/^delays v1: concept drift — live rmse 1[23]\.\d+ \(ceiling 11\)$/);
    expect(alert.message).toMatch(/rmse rose to/);
  });
});

const classes = ['on-time', 'late', 'cancelled'];

/** Predictions right with probability `skill`; true classes drawn with `shares`. */
function flights(n: number, skill: number, seed: number, shares = [0.6, 0.3, 0.1]): LoggedClassification[] {
  const random = mulberry32(seed);
  const draw = () => {
    const u = random();
    return u < shares[0] ? 0 : u < shares[0] + shares[1] ? 1 : 2;
  };
  return Array.from({ length: n }, (_, i) => {
    const actual = draw();
    const predicted = random() < skill ? actual : (actual + 1 + Math.floor(random() * 2)) % 3;
    return { version: 1, at: t0 + i, predicted: classes[predicted], actual: classes[actual] };
  });
}

describe('live performance of a multiclass model', () => {
  const references = new Map([[1, { accuracy: 0.8, f1Macro: 0.78, n: 10_000, support: { 'on-time': 6000, late: 3000, cancelled: 1000 } }]]);

  it('computes accuracy and macro F1 as sklearn does (classes present among labels or predictions)', () => {
    const rows: LoggedClassification[] = [
      { version: 1, at: t0, predicted: 'a', actual: 'a' },
      { version: 1, at: t0, predicted: 'a', actual: 'b' },
      { version: 1, at: t0, predicted: 'b', actual: 'b' },
      { version: 1, at: t0, predicted: 'c', actual: 'b' },
    ];
    const m = multiclassMetrics(rows, ['a', 'b', 'c', 'd']);
    // sklearn f1_score(average='macro'): a 2/3, b 2/3·… : precision b 1, recall 1/3 → 0.5; c 0 → (2/3 + 1/2 + 0) / 3
    expect(m.accuracy).toBe(0.5);
    expect(m.f1Macro).toBeCloseTo((2 / 3 + 0.5 + 0) / 3, 12);
    expect(m.classShares).toEqual({ a: 0.25, b: 0.75, c: 0, d: 0 });
  });

  it('as skilled as on the test split is ok; a fall in macro F1 is concept drift; a bootstrap gives the standard error', () => {
    const same = multiclassPerformance(flights(3000, 0.8, 1), { config: config(), metric: 'f1Macro', classes, window, references })
      .versions[0];
    expect(same.concept.status).toBe('ok');
    expect(same.metric.standardError).toBeGreaterThan(0.003);
    expect(same.metric.standardError).toBeLessThan(0.03);
    expect(same.labelShift.status).toBe('ok');

    const worse = multiclassPerformance(flights(3000, 0.6, 2), { config: config(), metric: 'f1Macro', classes, window, references })
      .versions[0];
    expect(worse.concept).toMatchObject({ status: 'drift', floor: 0.75 });
    expect(worse.concept.reasons[0]).toMatch(/live f1Macro 0\.\d+ .* is below its test-split f1Macro 0\.78 − 0\.03 = 0\.75/);

    const accuracy = multiclassPerformance(flights(3000, 0.6, 2), {
      config: config({ minValue: 0.5 }),
      metric: 'accuracy',
      classes,
      window,
      references,
    }).versions[0];
    expect(accuracy.metric.standardError).toBeCloseTo(Math.sqrt((accuracy.metric.value! * (1 - accuracy.metric.value!)) / 3000), 12);
    expect(accuracy.concept.status).toBe('drift');
  });

  it('the bootstrap is seeded: the same rows give the same report', () => {
    const rows = flights(800, 0.7, 3);
    const a = multiclassPerformance(rows, { config: config(), metric: 'f1Macro', classes, window, references });
    const b = multiclassPerformance(rows, { config: config(), metric: 'f1Macro', classes, window, references });
    expect(a).toEqual(b);
  });

  it('finds label drift when the class shares move (the class that moved most is named)', () => {
    const shifted = multiclassPerformance(flights(3000, 0.8, 4, [0.4, 0.3, 0.3]), {
      config: config(),
      metric: 'f1Macro',
      classes,
      window,
      references,
    }).versions[0];
    expect(shifted.labelShift).toMatchObject({ status: 'drift', className: 'cancelled', referenceRate: 0.1 });
    expect(shifted.labelShift.pValue).toBeLessThan(1e-6);
    const [, label] = performanceAlerts(
      {
        task: 'multiclass',
        metric: 'f1Macro',
        window,
        minLabelled: 200,
        versions: [{ ...shifted, concept: { status: 'drift', floor: 0.75, reasons: ['x'] } }],
      },
      { model: 'm', windowEnd: window.end },
    );
    expect(label.title).toMatch(/label drift — share of class cancelled 3\d\.\d\d% vs 10\.00% in training/);
  });
});

describe('the live metric must belong to the monitored version’s task', () => {
  it('defaults per task and refuses another task’s metric or bound, naming the field and value', () => {
    expect(livePerformanceMetric(config(), 'binary')).toBe('rocAuc');
    expect(livePerformanceMetric(config(), 'multiclass')).toBe('f1Macro');
    expect(livePerformanceMetric(config(), 'regression')).toBe('rmse');
    expect(livePerformanceMetric(config({ metric: 'accuracy' }), 'multiclass')).toBe('accuracy');
    expect(() => livePerformanceMetric(config({ metric: 'rocAuc' }), 'regression')).toThrow(InvalidInputError);
    expect(() => livePerformanceMetric(config({ metric: 'rocAuc' }), 'regression')).toThrow(
      'performance.metric "rocAuc" is not a live metric of a regression model (its metrics: rmse, mae)',
    );
    expect(() => livePerformanceMetric(config({ metric: 'rmse' }), 'binary')).toThrow(
      'performance.metric "rmse" is not a live metric of a binary model (its metrics: rocAuc, accuracy, f1)',
    );
    expect(() => livePerformanceMetric(config({ minValue: 0.7 }), 'regression')).toThrow(
      /performance\.minValue 0\.7 is a floor for classifiers/,
    );
    expect(() => livePerformanceMetric(config({ maxValue: 12 }), 'multiclass')).toThrow(
      /performance\.maxValue 12 is a ceiling for regression models/,
    );
    expect(() => config({ metric: 'r2' })).toThrow(/metric/);
  });
});
