import type { TopLevelSpec } from 'vega-lite';

/**
 * Drift charts as Vega-Lite specs: pure functions of the stored report data, shared by the
 * dashboard's monitoring page and `keel report drift`. The deciding statistic is a p-value for
 * ks/chisquare/z (drift below the threshold) and a distance otherwise (drift at or above it), so
 * every point carries its own threshold and the charts draw both.
 */

export interface FeatureScore {
  feature: string;
  /** The statistic that decided (see ColumnDrift.method). */
  method: string;
  /** null when the column was not compared (absent, empty, ignored). */
  score: number | null;
  threshold: number;
  drifted: boolean;
}

export interface FeatureScoreAt extends FeatureScore {
  /** The end of the report's window (ISO). */
  at: string;
}

const WIDTH = 560;

/** One bar per feature with a tick at its threshold: a single report at a glance. */
export function featureDriftBarSpec(features: readonly FeatureScore[]): TopLevelSpec {
  const values = features
    .filter((f) => f.score !== null)
    .map((f) => ({ ...f, verdict: f.drifted ? 'drift' : 'ok', statistic: `${f.method} (${isPValue(f.method) ? 'drift below' : 'drift at or above'} ${f.threshold})` }));
  return {
    description: 'Drift statistic per feature against its threshold',
    width: WIDTH,
    height: { step: 22 },
    data: { values },
    encoding: { y: { field: 'feature', type: 'nominal', sort: null, title: null } },
    layer: [
      {
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'score', type: 'quantitative', title: 'statistic' },
          color: { field: 'verdict', type: 'nominal', scale: { domain: ['ok', 'drift'], range: ['#4c78a8', '#e45756'] }, title: null },
          tooltip: [{ field: 'feature' }, { field: 'statistic' }, { field: 'score', format: '.4g' }, { field: 'verdict' }],
        },
      },
      {
        mark: { type: 'tick', color: '#1f2328', thickness: 2 },
        encoding: { x: { field: 'threshold', type: 'quantitative' } },
      },
    ],
  };
}

/** The statistic of every feature over the reports' windows, one series per feature, its threshold dashed. */
export function driftOverTimeSpec(points: readonly FeatureScoreAt[]): TopLevelSpec {
  const values = points.filter((p) => p.score !== null);
  return {
    description: 'Drift statistic per feature over time, with the thresholds',
    width: WIDTH,
    height: 260,
    data: { values },
    encoding: {
      x: { field: 'at', type: 'temporal', title: 'window end' },
      color: { field: 'feature', type: 'nominal', title: 'feature' },
    },
    layer: [
      {
        mark: { type: 'line', point: true, tooltip: true },
        encoding: {
          y: { field: 'score', type: 'quantitative', title: 'statistic' },
          tooltip: [{ field: 'feature' }, { field: 'method' }, { field: 'at', type: 'temporal' }, { field: 'score', format: '.4g' }, { field: 'drifted' }],
        },
      },
      {
        mark: { type: 'line', strokeDash: [4, 4], opacity: 0.6 },
        encoding: { y: { field: 'threshold', type: 'quantitative' } },
      },
    ],
  };
}

export interface DistributionBin {
  feature: string;
  /** The bin's label (`≤ 3.5`, a category, `missing`), in display order. */
  bin: string;
  order: number;
  share: number;
  /** `reference` (the training data) or `current` (the window). */
  set: 'reference' | 'current';
}

/** Reference against current shares per bin, one small chart per feature. */
export function distributionSpec(bins: readonly DistributionBin[]): TopLevelSpec {
  return {
    description: 'Distribution per feature: training reference against the window',
    data: { values: bins },
    facet: { field: 'feature', type: 'nominal', title: null },
    columns: 2,
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 260,
      height: 140,
      // Overlaid, not stacked: where the window's share differs from the training share shows as a mismatch.
      mark: { type: 'bar', tooltip: true, opacity: 0.65 },
      encoding: {
        x: { field: 'bin', type: 'nominal', sort: { field: 'order' }, title: null, axis: { labelAngle: -45, labelLimit: 80 } },
        y: { field: 'share', type: 'quantitative', axis: { format: '%' }, title: 'share', stack: null },
        color: { field: 'set', type: 'nominal', scale: { domain: ['reference', 'current'], range: ['#4c78a8', '#f58518'] }, title: null },
      },
    },
  };
}

export interface PerformancePoint {
  /** The bucket's end (ISO). */
  end: string;
  value: number;
}

/**
 * The live metric over the window: per bucket when the monitor computed rolling buckets, the
 * window's value with its 95 % band (± 1.96 standard errors) as a shaded area, and the test-split
 * reference and the alert bound as dashed rules.
 */
export function livePerformanceSpec(options: {
  metric: string;
  rolling: readonly PerformancePoint[];
  overall: { start: string; end: string; value: number; standardError: number | null } | null;
  reference: number | null;
  /** The bound the monitor judges against (a floor, or a ceiling for an error metric). */
  bound: number | null;
}): TopLevelSpec {
  const { overall } = options;
  const band =
    overall && overall.standardError !== null
      ? [overall.start, overall.end].map((at) => ({
          at,
          value: overall.value,
          lower: overall.value - 1.96 * overall.standardError!,
          upper: overall.value + 1.96 * overall.standardError!,
        }))
      : [];
  const line = options.rolling.length ? options.rolling.map((p) => ({ at: p.end, value: p.value })) : band;
  const rules = [
    ...(options.reference !== null ? [{ value: options.reference, rule: 'test-split reference' }] : []),
    ...(options.bound !== null ? [{ value: options.bound, rule: 'alert bound' }] : []),
  ];
  return {
    description: `Live ${options.metric} with its uncertainty band`,
    width: WIDTH,
    height: 220,
    layer: [
      {
        data: { values: band },
        mark: { type: 'area', opacity: 0.2, color: '#4c78a8' },
        encoding: {
          x: { field: 'at', type: 'temporal', title: 'time' },
          y: { field: 'lower', type: 'quantitative', title: options.metric, scale: { zero: false } },
          y2: { field: 'upper' },
        },
      },
      {
        data: { values: line },
        mark: { type: 'line', point: true, tooltip: true, color: '#4c78a8' },
        encoding: { x: { field: 'at', type: 'temporal' }, y: { field: 'value', type: 'quantitative' } },
      },
      {
        data: { values: rules },
        mark: { type: 'rule', strokeDash: [6, 4] },
        encoding: { y: { field: 'value', type: 'quantitative' }, color: { field: 'rule', type: 'nominal', title: null } },
      },
    ],
  };
}

export function isPValue(method: string): boolean {
  return method === 'ks' || method === 'chisquare' || method === 'z';
}
