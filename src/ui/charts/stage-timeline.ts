import { base, type ChartSpec } from './spec';

export interface StageSpan {
  name: string;
  startedAt: string;
  /** Absent while the stage runs: drawn up to `now`. */
  endedAt?: string;
  outcome: string;
}

/** A pipeline run's stages as a Gantt chart, coloured by outcome. */
export function stageTimelineSpec(stages: StageSpan[], now: Date): ChartSpec {
  const values = stages.map((s, order) => {
    const end = s.endedAt ?? now.toISOString();
    return {
      stage: s.name,
      order,
      from: s.startedAt,
      to: end,
      outcome: s.outcome,
      seconds: (new Date(end).getTime() - new Date(s.startedAt).getTime()) / 1000,
    };
  });
  return {
    ...base('Stages', { width: 620, height: Math.max(40, 22 * values.length) }),
    data: { name: 'stages', values },
    mark: { type: 'bar', cornerRadius: 2 },
    encoding: {
      y: { field: 'stage', type: 'nominal', title: null, sort: { field: 'order', op: 'min' } },
      x: { field: 'from', type: 'temporal', title: null, axis: { format: '%H:%M:%S' } },
      x2: { field: 'to' },
      color: {
        field: 'outcome',
        type: 'nominal',
        title: 'outcome',
        scale: { domain: ['succeeded', 'running', 'failed', 'cancelled'], range: ['#54a24b', '#f2b701', '#e45756', '#9d9d9d'] },
      },
      tooltip: [
        { field: 'stage', type: 'nominal' },
        { field: 'outcome', type: 'nominal' },
        { field: 'seconds', type: 'quantitative', format: '.2f', title: 'seconds' },
        { field: 'from', type: 'temporal', format: '%H:%M:%S' },
        { field: 'to', type: 'temporal', format: '%H:%M:%S' },
      ],
    },
  };
}
