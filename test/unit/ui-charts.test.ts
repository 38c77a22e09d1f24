import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import { binaryCurves, regressionCurves } from '../../src/ml/evaluation-curves';
import { aliasIntervals, aliasTimelineSpec } from '../../src/ui/charts/alias-timeline';
import { calibrationSpec } from '../../src/ui/charts/calibration';
import { canaryHealthSpec, canaryTrafficSpec } from '../../src/ui/charts/canary';
import { binaryConfusion, confusionMatrixSpec } from '../../src/ui/charts/confusion-matrix';
import { driftOverTimeSpec, driftReportSpec } from '../../src/ui/charts/drift';
import { learningCurveSpec } from '../../src/ui/charts/learning-curve';
import { livePerformanceSpec } from '../../src/ui/charts/live-performance';
import { perClassSpec } from '../../src/ui/charts/per-class';
import { columnDistributionSpec, correlationSpec, nullShareSpec } from '../../src/ui/charts/profile';
import { residualsSpec } from '../../src/ui/charts/residuals';
import { prSpec, rocSpec } from '../../src/ui/charts/roc-pr';
import type { ChartSpec } from '../../src/ui/charts/spec';
import { sourceAccountingSpec } from '../../src/ui/charts/source-accounting';
import { mulberry32 } from '../../src/shared/prng';

/**
 * Each chart is compiled by Vega-Lite and run by Vega headless (no renderer), as the browser
 * does: the spec is valid, and its marks hold the data given.
 */
async function render(spec: ChartSpec): Promise<View> {
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    warn: (...m: unknown[]) => void warnings.push(m.join(' ')),
    info: () => logger,
    debug: () => logger,
    error: (...m: unknown[]) => void warnings.push(m.join(' ')),
  };
  const vega = compile(spec, { logger: logger as never }).spec;
  const view = new View(parse(vega), { renderer: 'none' });
  await view.runAsync();
  expect(warnings).toEqual([]);
  return view;
}

interface SceneNode {
  marktype?: string;
  role?: string;
  items?: SceneNode[];
}

/** Data marks drawn, by mark type: items (a bar, a point) and series (a line or area per group). */
function scene(view: View) {
  const items: Record<string, number> = {};
  const series: Record<string, number> = {};
  const walk = (node: SceneNode) => {
    if (node.marktype && node.role === 'mark' && node.items?.length) {
      items[node.marktype] = (items[node.marktype] ?? 0) + node.items.length;
      series[node.marktype] = (series[node.marktype] ?? 0) + 1;
    }
    for (const child of node.items ?? []) if (child && typeof child === 'object') walk(child);
  };
  walk((view.scenegraph() as unknown as { root: SceneNode }).root);
  return { items, series };
}

const markItems = (view: View) => scene(view).items;
const markSeries = (view: View) => scene(view).series;

function binary(n = 3000) {
  const random = mulberry32(5);
  const proba = Float64Array.from({ length: n }, () => random());
  const labels = Float64Array.from(proba, (p) => (random() < p ? 1 : 0));
  return binaryCurves(labels, proba, 0.42);
}

describe('evaluation charts', () => {
  it('ROC: the curve holds every stored point and the operating point is drawn', async () => {
    const curves = binary();
    const view = await render(rocSpec(curves, 0.75));
    expect(view.data('roc')).toHaveLength(curves.roc.length);
    expect(curves.roc.length).toBeGreaterThan(10);
    expect(view.data('operating_point')[0]).toMatchObject({ threshold: 0.42 });
    expect(markItems(view).symbol).toBe(1);
  });

  it('PR and calibration', async () => {
    const curves = binary();
    expect((await render(prSpec(curves))).data('pr')).toHaveLength(curves.pr.length);
    const calibration = await render(calibrationSpec(curves.calibration));
    expect(calibration.data('calibration')).toHaveLength(10);
    expect(markItems(calibration).symbol).toBe(10);
    expect(markItems(calibration).line).toBe(2 + 10); // the diagonal's two points and the curve
  });

  it('learning curve: one line per split', async () => {
    const view = await render(learningCurveSpec({ metric: 'logloss', train: [0.7, 0.6, 0.55], validation: [0.72, 0.65, 0.6] }));
    expect(view.data('learning_curve')).toHaveLength(6);
    expect(markSeries(view).line).toBe(2);
  });

  it('confusion matrix: a cell per pair of classes', async () => {
    const view = await render(confusionMatrixSpec(binaryConfusion({ tp: 5, fp: 2, tn: 10, fn: 3 })));
    const cells = view.data('confusion_matrix') as { actual: string; predicted: string; count: number }[];
    expect(cells).toHaveLength(4);
    expect(cells.find((c) => c.actual === '1' && c.predicted === '1')?.count).toBe(5);
    expect(markItems(view).rect).toBe(4);
  });

  it('residuals and per-class metrics', async () => {
    const residuals = regressionCurves([1, 2, 3, 4], [1.5, 2, 2.5, 5]).residuals;
    const view = await render(residualsSpec(residuals));
    expect(markItems(view).symbol).toBe(4);
    const perClass = await render(
      perClassSpec([
        { class: 'a', support: 3, precision: 1, recall: 0.5, f1: 0.66 },
        { class: 'b', support: 2, precision: 0.5, recall: 1, f1: 0.66 },
      ]),
    );
    expect(markItems(perClass).rect).toBe(6);
  });
});

describe('stage timeline', () => {
  it('a bar per stage, the running one drawn up to now', async () => {
    const { stageTimelineSpec } = await import('../../src/ui/charts/stage-timeline');
    const view = await render(
      stageTimelineSpec(
        [
          { name: 'ingest', startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:00:05Z', outcome: 'succeeded' },
          { name: 'train', startedAt: '2026-01-01T00:00:05Z', outcome: 'running' },
        ],
        new Date('2026-01-01T00:00:09Z'),
      ),
    );
    expect(markItems(view).rect).toBe(2);
    expect((view.data('stages') as { seconds: number }[]).map((s) => s.seconds)).toEqual([5, 4]);
  });
});

describe('data charts', () => {
  it('source accounting: a stacked segment per source and outcome', async () => {
    const view = await render(
      sourceAccountingSpec([
        { source: 'a.csv', accepted: 90, quarantined: 7, duplicates: 3 },
        { source: 'b.csv', accepted: 10, quarantined: 0, duplicates: 0 },
      ]),
    );
    expect(markItems(view).rect).toBe(6);
  });

  it('profile: histogram, top categories, booleans, null share, correlations', async () => {
    const numeric = columnDistributionSpec('distance', {
      type: 'number',
      count: 9,
      nulls: 1,
      min: 0,
      max: 3,
      mean: 1,
      std: 1,
      histogram: { edges: [0, 1, 2, 3], counts: [4, 3, 2] },
      reference: null,
    });
    expect(markItems(await render(numeric!)).rect).toBe(3);
    const strings = columnDistributionSpec('origin', {
      type: 'string',
      count: 5,
      nulls: 0,
      distinct: 2,
      top: [
        { value: 'ORD', count: 3 },
        { value: 'LGA', count: 2 },
      ],
      reference: null,
    });
    expect(markItems(await render(strings!)).rect).toBe(2);
    expect(columnDistributionSpec('when', { type: 'date', count: 1, nulls: 0, min: '2001-01-01', max: '2001-01-01' })).toBeUndefined();
    const nulls = await render(nullShareSpec({ a: { type: 'boolean', count: 3, nulls: 1, trueCount: 2, reference: null } }));
    expect(nulls.data('null_share')[0]).toMatchObject({ column: 'a', share: 0.25 });
    const correlations = await render(
      correlationSpec({
        columns: ['x', 'y'],
        r: [
          [1, -0.5],
          [-0.5, 1],
        ],
        rows: 100,
      }),
    );
    expect(markItems(correlations).rect).toBe(4);
  });
});

describe('monitoring, models and rollouts', () => {
  it('drift over time: one line per feature', async () => {
    const points = ['hour', 'distance', 'origin'].flatMap((feature, f) =>
      [0, 1, 2].map((i) => ({
        at: `2026-01-0${i + 1}T00:00:00Z`,
        feature,
        method: 'psi',
        score: 0.05 * (i + f),
        threshold: 0.2,
        drifted: 0.05 * (i + f) > 0.2,
        reportId: i,
      })),
    );
    const view = await render(driftOverTimeSpec(points));
    // Statistic and threshold lines per feature: 2 × 3; one drifted point (0.25) marked.
    expect(markSeries(view).line).toBe(6);
    const single = await render(driftReportSpec(points.slice(0, 3)));
    expect(markItems(single).rect).toBe(3);
  });

  it('live performance: a band and a line per version', async () => {
    const view = await render(
      livePerformanceSpec('rocAuc', [
        { at: '2026-01-01T00:00:00Z', version: 1, value: 0.6, standardError: 0.01, reference: 0.61, limit: 0.55 },
        { at: '2026-01-02T00:00:00Z', version: 1, value: 0.58, standardError: 0.02, reference: 0.61, limit: 0.55 },
      ]),
    );
    expect(markSeries(view).area).toBe(1);
    expect(view.data('live_performance')[0]).toMatchObject({ low: 0.6 - 1.96 * 0.01 });
  });

  it('alias timeline: an interval per move, the last open until now', async () => {
    const now = new Date('2026-01-03T00:00:00Z');
    const intervals = aliasIntervals(
      [
        { alias: 'production', toVersion: 1, action: 'set', actor: 'a', reason: 'r', at: '2026-01-01T00:00:00Z' },
        { alias: 'production', toVersion: 2, action: 'set', actor: 'a', reason: 'r', at: '2026-01-02T00:00:00Z' },
      ],
      now,
    );
    expect(intervals.map((i) => [i.version, i.to])).toEqual([
      ['v1', '2026-01-02T00:00:00.000Z'],
      ['v2', now.toISOString()],
    ]);
    expect(markItems(await render(aliasTimelineSpec(intervals))).rect).toBe(2);
  });

  it('canary: traffic steps and health against limits', async () => {
    const traffic = await render(
      canaryTrafficSpec(
        [
          { at: '2026-01-01T00:00:00Z', percent: 10, shadow: false },
          { at: '2026-01-01T00:05:00Z', percent: 50, shadow: false },
        ],
        new Date('2026-01-01T00:10:00Z'),
      ),
    );
    expect(traffic.data('canary_traffic')).toHaveLength(3);
    const health = await render(
      canaryHealthSpec([
        { at: '2026-01-01T00:01:00Z', metric: 'error rate', candidate: 0, baseline: 0, limit: 0.01 },
        { at: '2026-01-01T00:02:00Z', metric: 'error rate', candidate: 0.002, baseline: 0, limit: 0.01 },
        { at: '2026-01-01T00:02:00Z', metric: 'p99 latency (ms)', candidate: 3, baseline: 2, limit: 7 },
      ]),
    );
    expect(health.data('canary_health')).toHaveLength(9);
  });
});

describe('pearsonMatrix', () => {
  it('is 1 on the diagonal, ±1 for linear relations, null for a constant column', async () => {
    const { pearsonMatrix } = await import('../../src/data/correlations');
    const rows = [1, 2, 3, 4, 5].map((x) => ({ x, y: 10 - 2 * x, c: 3, z: x % 2 === 0 ? null : x * x }));
    const r = pearsonMatrix(rows, ['x', 'y', 'c']);
    expect(r[0][0]).toBeCloseTo(1, 12);
    expect(r[0][1]).toBeCloseTo(-1, 12);
    expect(r[0][2]).toBeNull();
    // Pairwise complete: z is present for x = 1, 3, 5 only.
    expect(pearsonMatrix(rows, ['x', 'z'])[0][1]).toBeGreaterThan(0.9);
  });
});
