import type { MulticlassMetrics } from '../../shared/model-metrics';
import { base, type ChartSpec } from './spec';

/** Precision, recall and F1 of each class, side by side. */
export function perClassSpec(perClass: MulticlassMetrics['perClass']): ChartSpec {
  const values = perClass.flatMap((c) =>
    (['precision', 'recall', 'f1'] as const).map((metric) => ({ class: c.class, metric, value: c[metric], support: c.support })),
  );
  return {
    ...base('Per-class metrics (test split)', { width: Math.max(240, 60 * perClass.length) }),
    data: { name: 'per_class', values },
    mark: 'bar',
    encoding: {
      x: { field: 'class', type: 'nominal', title: 'class' },
      xOffset: { field: 'metric', type: 'nominal' },
      y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] } },
      color: { field: 'metric', type: 'nominal', title: 'metric' },
      tooltip: [
        { field: 'class', type: 'nominal' },
        { field: 'metric', type: 'nominal' },
        { field: 'value', type: 'quantitative', format: '.4f' },
        { field: 'support', type: 'quantitative' },
      ],
    },
  };
}
