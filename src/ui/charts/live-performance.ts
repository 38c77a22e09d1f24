import { base, type ChartSpec } from './spec';

/** A version's live metric in one monitor report, with its standard error and the floor it is judged against. */
export interface PerformancePoint {
  at: string;
  version: number;
  value: number;
  standardError: number | null;
  /** The metric on the test split when the version was trained. */
  reference: number | null;
  /** The binding floor (classification) or ceiling (regression); null: none. */
  limit: number | null;
}

/** Live performance per version over time, a ±1.96 standard-error band, the reference and the limit. */
export function livePerformanceSpec(metric: string, points: PerformancePoint[]): ChartSpec {
  const values = points.map((p) => ({
    ...p,
    version: `v${p.version}`,
    low: p.standardError === null ? p.value : p.value - 1.96 * p.standardError,
    high: p.standardError === null ? p.value : p.value + 1.96 * p.standardError,
  }));
  const x = { field: 'at', type: 'temporal' as const, title: 'window end', axis: { format: '%b %d %H:%M' } };
  const color = { field: 'version', type: 'nominal' as const, title: 'version' };
  return {
    ...base(`Live ${metric} (band: 95 % interval; dashed: limit; dotted: test-split reference)`, { width: 560, height: 240 }),
    data: { name: 'live_performance', values },
    layer: [
      {
        mark: { type: 'area', opacity: 0.2 },
        encoding: { x, y: { field: 'low', type: 'quantitative', title: metric, scale: { zero: false } }, y2: { field: 'high' }, color },
      },
      {
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative' },
          color,
          tooltip: [
            { field: 'version', type: 'nominal' },
            { field: 'value', type: 'quantitative', format: '.4f' },
            { field: 'low', type: 'quantitative', format: '.4f' },
            { field: 'high', type: 'quantitative', format: '.4f' },
            { field: 'reference', type: 'quantitative', format: '.4f' },
            { field: 'limit', type: 'quantitative', format: '.4f' },
          ],
        },
      },
      {
        transform: [{ filter: 'datum.limit != null' }],
        mark: { type: 'line', strokeDash: [6, 3], color: '#d62728' },
        encoding: { x, y: { field: 'limit', type: 'quantitative' } },
      },
      {
        transform: [{ filter: 'datum.reference != null' }],
        mark: { type: 'line', strokeDash: [1, 3] },
        encoding: { x, y: { field: 'reference', type: 'quantitative' }, color },
      },
    ],
  };
}
