import { base, type ChartSpec } from './spec';

/** One bin of a feature's distribution, in the training reference or in a monitor window. */
export interface DistributionBin {
  feature: string;
  /** The bin's label (`(1, 3.5]`, a category, `(missing)`), in display order. */
  bin: string;
  order: number;
  share: number;
  /** `reference` (the training data) or `current` (the window). */
  set: 'reference' | 'current';
}

/**
 * Share per bin, one small chart per feature; reference and current overlaid, not stacked, so a
 * shift shows as a mismatch of the two bars.
 */
export function distributionSpec(bins: DistributionBin[]): ChartSpec {
  const { $schema, config } = base('');
  return {
    $schema,
    config,
    title: 'Share per bin: training reference and window',
    data: { name: 'distribution', values: bins },
    facet: { field: 'feature', type: 'nominal', title: null },
    columns: 2,
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 260,
      height: 140,
      mark: { type: 'bar', tooltip: true, opacity: 0.65 },
      encoding: {
        x: { field: 'bin', type: 'nominal', sort: { field: 'order' }, title: null, axis: { labelAngle: -45, labelLimit: 80 } },
        y: { field: 'share', type: 'quantitative', axis: { format: '%' }, title: 'share', stack: null },
        color: { field: 'set', type: 'nominal', scale: { domain: ['reference', 'current'], range: ['#4c78a8', '#f58518'] }, title: null },
      },
    },
  };
}
