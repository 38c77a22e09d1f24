import type { BinaryMetrics } from '../../shared/model-metrics';
import { base, type ChartSpec } from './spec';

export interface ConfusionMatrix {
  classes: string[];
  /** counts[true][predicted] */
  counts: number[][];
}

/** A binary model's confusion matrix in the multiclass layout (class 0, then class 1). */
export function binaryConfusion(matrix: BinaryMetrics['confusionMatrix']): ConfusionMatrix {
  return {
    classes: ['0', '1'],
    counts: [
      [matrix.tn, matrix.fp],
      [matrix.fn, matrix.tp],
    ],
  };
}

/** Heat map of counts, true class down, predicted class across, each cell labelled. */
export function confusionMatrixSpec(matrix: ConfusionMatrix): ChartSpec {
  const values = matrix.counts.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => ({ actual: matrix.classes[t], predicted: matrix.classes[p], count, share: total ? count / total : 0 }));
  });
  const size = Math.min(420, 70 * matrix.classes.length + 60);
  const axis = { sort: matrix.classes };
  return {
    ...base('Confusion matrix (test split)', { width: size, height: size }),
    data: { name: 'confusion_matrix', values },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', title: 'predicted', ...axis },
      y: { field: 'actual', type: 'ordinal', title: 'actual', ...axis },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: { field: 'share', type: 'quantitative', title: 'share of actual', scale: { domain: [0, 1], scheme: 'blues' } },
          tooltip: [
            { field: 'actual', type: 'ordinal' },
            { field: 'predicted', type: 'ordinal' },
            { field: 'count', type: 'quantitative' },
            { field: 'share', type: 'quantitative', format: '.1%' },
          ],
        },
      },
      {
        mark: { type: 'text' },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}
