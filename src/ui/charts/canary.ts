import { base, type ChartSpec } from './spec';

/** The candidate's traffic share after each route change of a rollout. */
export interface TrafficPoint {
  at: string;
  percent: number;
  shadow: boolean;
}

/** The candidate's share of traffic over time, as steps (shadow steps mirrored, drawn hollow). */
export function canaryTrafficSpec(points: TrafficPoint[], now: Date): ChartSpec {
  const values = [...points, ...(points.length ? [{ ...points[points.length - 1], at: now.toISOString() }] : [])];
  return {
    ...base('Candidate traffic share', { width: 560, height: 160 }),
    data: { name: 'canary_traffic', values },
    mark: { type: 'line', interpolate: 'step-after', point: { filled: false } },
    encoding: {
      x: { field: 'at', type: 'temporal', title: null, axis: { format: '%H:%M:%S' } },
      y: { field: 'percent', type: 'quantitative', title: '% of requests', scale: { domain: [0, 100] } },
      tooltip: [
        { field: 'at', type: 'temporal', format: '%H:%M:%S' },
        { field: 'percent', type: 'quantitative' },
        { field: 'shadow', type: 'nominal' },
      ],
    },
  };
}

/** One health check of a rollout: both versions' error rate and p99 latency, and the limits the rules drew. */
export interface HealthPoint {
  at: string;
  metric: 'error rate' | 'p99 latency (ms)';
  candidate: number | null;
  baseline: number | null;
  /** The candidate's limit: baseline + allowed increase (error rate), or max(ratio × baseline, baseline + tolerance) (latency). */
  limit: number | null;
}

/** Candidate against baseline per health metric over time, the rule's limit dashed; one panel per metric. */
export function canaryHealthSpec(points: HealthPoint[]): ChartSpec {
  const values = points.flatMap((p) =>
    (['candidate', 'baseline', 'limit'] as const).flatMap((series) =>
      p[series] === null ? [] : [{ at: p.at, metric: p.metric, series, value: p[series] }],
    ),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Candidate against baseline; red dashed: the limit the rollout rules allow the candidate',
    data: { name: 'canary_health', values },
    facet: { row: { field: 'metric', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 560,
      height: 130,
      encoding: {
        x: { field: 'at', type: 'temporal', title: null, axis: { format: '%H:%M:%S' } },
        y: { field: 'value', type: 'quantitative', title: null },
        tooltip: [
          { field: 'metric', type: 'nominal' },
          { field: 'series', type: 'nominal' },
          { field: 'value', type: 'quantitative', format: '.4~f' },
          { field: 'at', type: 'temporal', format: '%H:%M:%S' },
        ],
      },
      layer: [
        {
          transform: [{ filter: "datum.series !== 'limit'" }],
          mark: { type: 'line', point: true },
          encoding: {
            color: {
              field: 'series',
              type: 'nominal',
              title: null,
              scale: { domain: ['candidate', 'baseline'], range: ['#f58518', '#4c78a8'] },
            },
          },
        },
        { transform: [{ filter: "datum.series === 'limit'" }], mark: { type: 'line', point: true, strokeDash: [5, 4], color: '#d62728' } },
      ],
    },
  };
}
