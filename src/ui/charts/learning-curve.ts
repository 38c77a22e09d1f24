import type { LearningCurve } from '../../ml/trained-model';
import { base, type ChartSpec } from './spec';

/** The training metric per iteration on the train split and, when recorded, on validation. */
export function learningCurveSpec(curve: LearningCurve): ChartSpec {
  const values = [
    ...curve.train.map((value, i) => ({ iteration: i + 1, split: 'train', value })),
    ...(curve.validation ?? []).map((value, i) => ({ iteration: i + 1, split: 'validation', value })),
  ];
  return {
    ...base(`Learning curve (${curve.metric})`),
    data: { name: 'learning_curve', values },
    mark: { type: 'line', point: values.length <= 40 },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'iteration' },
      y: { field: 'value', type: 'quantitative', title: curve.metric, scale: { zero: false } },
      color: { field: 'split', type: 'nominal', title: 'split', sort: ['train', 'validation'] },
      tooltip: [
        { field: 'split', type: 'nominal' },
        { field: 'iteration', type: 'quantitative' },
        { field: 'value', type: 'quantitative', format: '.6f' },
      ],
    },
  };
}
