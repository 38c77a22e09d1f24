import { describe, expect, it } from 'vitest';
import { gridConfigs, mapWithConcurrency, randomConfigs, successiveHalvingRungs, tuningSpecSchema } from '../../src/shared/tuning';

describe('search space', () => {
  it('enumerates a grid in a fixed order', () => {
    expect(gridConfigs({ l2: [0.1, 1], maxIterations: [50, 100] })).toEqual([
      { l2: 0.1, maxIterations: 50 },
      { l2: 0.1, maxIterations: 100 },
      { l2: 1, maxIterations: 50 },
      { l2: 1, maxIterations: 100 },
    ]);
  });

  it('samples ranges reproducibly from the seed, within bounds, on a log scale when asked', () => {
    const space = {
      l2: { min: 0.001, max: 100, scale: 'log' as const, integer: false },
      leaves: { min: 8, max: 64, scale: 'linear' as const, integer: true },
    };
    const a = randomConfigs(space, 200, 7);
    expect(randomConfigs(space, 200, 7)).toEqual(a);
    expect(randomConfigs(space, 200, 8)).not.toEqual(a);
    for (const c of a) {
      expect(c.l2).toBeGreaterThanOrEqual(0.001);
      expect(c.l2).toBeLessThanOrEqual(100);
      expect(Number.isInteger(c.leaves)).toBe(true);
    }
    // Log scale: about half the draws fall below the geometric middle (0.316), not 1 in 2000.
    const below = a.filter((c) => c.l2 < Math.sqrt(0.001 * 100)).length;
    expect(below).toBeGreaterThan(70);
    expect(below).toBeLessThan(130);
  });

  it('plans successive halving rungs that end with the full budget', () => {
    expect(successiveHalvingRungs(9, 270, 3)).toEqual([
      { keep: 9, budget: 30 },
      { keep: 3, budget: 90 },
      { keep: 1, budget: 270 },
    ]);
    expect(successiveHalvingRungs(1, 100, 3)).toEqual([{ keep: 1, budget: 100 }]);
  });

  it('rejects a grid over a range, naming the field', () => {
    const result = tuningSpecSchema.safeParse({ strategy: 'grid', space: { l2: { min: 0, max: 1 } } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual(['space']);
  });
});

describe('mapWithConcurrency', () => {
  it('never runs more than the limit at once and keeps the order of results', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapWithConcurrency([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
});
