import { base, type ChartSpec } from './spec';

/** One feature's drift statistic in one monitor report. */
export interface DriftPoint {
  /** End of the report's window (ISO). */
  at: string;
  feature: string;
  /** The deciding statistic (method) and the threshold it is judged against; null score: not computed. */
  method: string;
  score: number | null;
  threshold: number;
  drifted: boolean;
  reportId: number;
}

/**
 * Drift per feature over time: one line per feature (the statistic), its threshold dashed in the
 * same colour, drifted points marked. Statistics of different methods share an axis only through
 * their own thresholds, so each feature gets its own panel row when methods differ.
 */
export function driftOverTimeSpec(points: DriftPoint[]): ChartSpec {
  const values = points.filter((p) => p.score !== null);
  const color = { field: 'feature', type: 'nominal' as const, title: 'feature' };
  const x = { field: 'at', type: 'temporal' as const, title: 'window end', axis: { format: '%b %d %H:%M' } };
  return {
    ...base('Drift per feature: statistic (line) against threshold (dashed)', { width: 560, height: 260 }),
    data: { name: 'drift', values },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'score', type: 'quantitative', title: 'statistic' },
          color,
          tooltip: [
            { field: 'feature', type: 'nominal' },
            { field: 'method', type: 'nominal' },
            { field: 'score', type: 'quantitative', format: '.4f' },
            { field: 'threshold', type: 'quantitative' },
            { field: 'drifted', type: 'nominal' },
            { field: 'reportId', type: 'quantitative', title: 'report' },
            { field: 'at', type: 'temporal', format: '%Y-%m-%d %H:%M' },
          ],
        },
      },
      { mark: { type: 'line', strokeDash: [4, 4], opacity: 0.7 }, encoding: { x, y: { field: 'threshold', type: 'quantitative' }, color } },
      {
        transform: [{ filter: 'datum.drifted' }],
        mark: { type: 'point', shape: 'diamond', size: 120, filled: true, color: '#d62728' },
        encoding: { x, y: { field: 'score', type: 'quantitative' } },
      },
    ],
  };
}

/** One report's features: statistic against threshold as bars, drifted in red. */
export function driftReportSpec(features: Omit<DriftPoint, 'at' | 'reportId'>[]): ChartSpec {
  const values = features
    .filter((f) => f.score !== null)
    .map((f) => ({ ...f, ratio: f.threshold ? (f.score as number) / f.threshold : null }));
  return {
    ...base('Statistic ÷ threshold per feature (≥ 1: drift)', { width: 420, height: Math.max(60, 22 * values.length) }),
    data: { name: 'drift_features', values },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y: { field: 'feature', type: 'nominal', title: null, sort: '-x' },
          x: { field: 'ratio', type: 'quantitative', title: 'statistic ÷ threshold' },
          color: { field: 'drifted', type: 'nominal', scale: { domain: [false, true], range: ['#4c78a8', '#e45756'] }, title: 'drifted' },
          tooltip: [
            { field: 'feature', type: 'nominal' },
            { field: 'method', type: 'nominal' },
            { field: 'score', type: 'quantitative', format: '.4f' },
            { field: 'threshold', type: 'quantitative' },
          ],
        },
      },
      {
        data: { values: [{ one: 1 }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#333' },
        encoding: { x: { field: 'one', type: 'quantitative' } },
      },
    ],
  };
}
