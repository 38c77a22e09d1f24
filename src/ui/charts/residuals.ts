import type { RegressionCurves } from '../../ml/evaluation-curves';
import { base, type ChartSpec } from './spec';

/** Residuals (actual − prediction) against predictions, with the zero line: bias and heteroscedasticity at a glance. */
export function residualsSpec(residuals: RegressionCurves['residuals']): ChartSpec {
  return {
    ...base('Residuals against predictions (test split sample)'),
    layer: [
      {
        data: { name: 'residuals', values: residuals },
        mark: { type: 'point', opacity: 0.5, filled: true, size: 20 },
        encoding: {
          x: { field: 'prediction', type: 'quantitative', title: 'prediction', scale: { zero: false } },
          y: { field: 'residual', type: 'quantitative', title: 'actual − prediction' },
          tooltip: [
            { field: 'prediction', type: 'quantitative', format: '.4~f' },
            { field: 'actual', type: 'quantitative', format: '.4~f' },
            { field: 'residual', type: 'quantitative', format: '.4~f' },
          ],
        },
      },
      {
        data: { values: [{ zero: 0 }] },
        mark: { type: 'rule', color: '#d62728' },
        encoding: { y: { field: 'zero', type: 'quantitative' } },
      },
    ],
  };
}
