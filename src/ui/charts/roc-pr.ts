import type { BinaryCurves } from '../../ml/evaluation-curves';
import { base, type ChartSpec } from './spec';

const square = { width: 280, height: 280 };
const unit = { domain: [0, 1] };

/** ROC curve with the chance diagonal and the model's operating point (its decision threshold). */
export function rocSpec(curves: BinaryCurves, auc?: number): ChartSpec {
  const op = curves.operatingPoint;
  return {
    ...base(auc === undefined ? 'ROC curve' : `ROC curve (AUC ${auc.toFixed(4)})`, square),
    layer: [
      {
        data: {
          values: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
        mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { name: 'roc', values: curves.roc },
        mark: { type: 'line', interpolate: 'linear' },
        encoding: {
          x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: unit },
          y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: unit },
          order: { field: 'fpr', type: 'quantitative' },
          tooltip: [
            { field: 'threshold', type: 'quantitative', format: '.4f' },
            { field: 'fpr', type: 'quantitative', format: '.4f' },
            { field: 'tpr', type: 'quantitative', format: '.4f' },
          ],
        },
      },
      operatingPointLayer([{ ...op, label: `threshold ${op.threshold.toFixed(3)}` }], 'fpr', 'tpr'),
    ],
  };
}

/** Precision against recall, with the operating point. */
export function prSpec(curves: BinaryCurves): ChartSpec {
  const op = curves.operatingPoint;
  return {
    ...base('Precision–recall curve', square),
    layer: [
      {
        data: { name: 'pr', values: curves.pr },
        mark: { type: 'line' },
        encoding: {
          x: { field: 'recall', type: 'quantitative', title: 'recall', scale: unit },
          y: { field: 'precision', type: 'quantitative', title: 'precision', scale: unit },
          order: { field: 'recall', type: 'quantitative' },
          tooltip: [
            { field: 'threshold', type: 'quantitative', format: '.4f' },
            { field: 'recall', type: 'quantitative', format: '.4f' },
            { field: 'precision', type: 'quantitative', format: '.4f' },
          ],
        },
      },
      operatingPointLayer([{ ...op, label: `threshold ${op.threshold.toFixed(3)}` }], 'recall', 'precision'),
    ],
  };
}

function operatingPointLayer(values: object[], x: string, y: string) {
  return {
    data: { name: 'operating_point', values },
    layer: [
      {
        mark: { type: 'point' as const, filled: true, size: 90, color: '#d62728' },
        encoding: {
          x: { field: x, type: 'quantitative' as const },
          y: { field: y, type: 'quantitative' as const },
          tooltip: [{ field: 'label', type: 'nominal' as const }],
        },
      },
      {
        mark: { type: 'text' as const, align: 'left' as const, dx: 8, dy: 12, color: '#d62728' },
        encoding: {
          x: { field: x, type: 'quantitative' as const },
          y: { field: y, type: 'quantitative' as const },
          text: { field: 'label', type: 'nominal' as const },
        },
      },
    ],
  };
}
