import { describe, expect, it } from 'vitest';
import { evaluateDrift } from '../../src/monitoring/drift';
import { populationStabilityIndex } from '../../src/monitoring/psi';
import { categoricalDriftReference, numericDriftReference } from '../../src/monitoring/reference';
import { mulberry32 } from '../../src/shared/prng';

/** The PSI bins a drift result keeps for drawing: the reference's and the window's shares, as PSI counted them. */
describe('drift result bins', () => {
  const random = mulberry32(3);
  const reference = Array.from({ length: 3000 }, () => random() * 100);
  const current = Array.from({ length: 500 }, (_, i) => (i % 10 === 0 ? null : 30 + random() * 100));
  const origins = Array.from({ length: 2000 }, (_, i) => ['SFO', 'LAX', 'ORD', 'JFK'][i % 4]);

  it('carries both shares per PSI bin, missing last, equal to what PSI compared', () => {
    const references = { x: numericDriftReference(reference), origin: categoricalDriftReference(origins) };
    const result = evaluateDrift({
      reference: references,
      current: { rows: current.map((x, i) => ({ x, origin: i % 3 ? 'SFO' : 'DEN' })) },
      features: ['x', 'origin'],
      config: { statistics: 'all', minRows: 10 },
    });
    const [x, origin] = result.columns;
    const psi = populationStabilityIndex(references.x.bins, current);
    expect(x.bins).toEqual(psi.bins.map((b) => ({ label: b.label, reference: b.expected, current: b.actual })));
    expect(x.bins!.at(-1)).toMatchObject({ label: '(missing)', current: 0.1 });
    for (const column of [x, origin]) {
      expect(column.bins!.reduce((sum, b) => sum + b.current, 0)).toBeCloseTo(1, 12);
      expect(column.bins!.reduce((sum, b) => sum + b.reference, 0)).toBeCloseTo(1, 12);
    }
    // DEN is not a reference category: it counts as "(other)".
    expect(origin.bins!.find((b) => b.label === '(other)')!.current).toBeCloseTo(167 / 500, 12);
  });
});
