import type { BinaryCurves } from '../../ml/evaluation-curves';
import { base, type ChartSpec } from './spec';

/** Reliability diagram: per probability bin, the observed positive share against the mean prediction. */
export function calibrationSpec(calibration: BinaryCurves['calibration']): ChartSpec {
  const unit = { domain: [0, 1] };
  return {
    ...base('Calibration', { width: 280, height: 280 }),
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
        data: { name: 'calibration', values: calibration },
        encoding: {
          x: { field: 'meanPredicted', type: 'quantitative', title: 'mean predicted probability', scale: unit },
          y: { field: 'observed', type: 'quantitative', title: 'observed positive share', scale: unit },
        },
        layer: [
          { mark: { type: 'line' } },
          {
            mark: { type: 'point', filled: true },
            encoding: {
              size: { field: 'count', type: 'quantitative', title: 'rows', scale: { range: [20, 300] } },
              tooltip: [
                { field: 'meanPredicted', type: 'quantitative', format: '.3f' },
                { field: 'observed', type: 'quantitative', format: '.3f' },
                { field: 'count', type: 'quantitative' },
              ],
            },
          },
        ],
      },
    ],
  };
}
