import { describe, expect, it } from 'vitest';
import { toFeatureColumns, toFeatureColumnsInTurns } from '../../src/ml/feature-columns';
import { emptyFeedColumns, fillFeedColumns, onnxFeedColumns } from '../../src/ml/onnx/feed-columns';
import type { Row } from '../../src/ml/row';
import { partitionRows } from '../../src/ml/split';
import { partitionRowsInTurns } from '../../src/ml/split-in-turns';
import { forEachBlockInTurns } from '../../src/ml/in-turns';

// More rows than one turn's block, categories first seen in later blocks, and missing values.
const rows: Row[] = Array.from({ length: 45_001 }, (_, i) => ({
  city: i % 7 === 0 ? null : `c${Math.floor(i / 9_000)}-${i % 5}`,
  distance: i % 11 === 0 ? 'n/a' : i * 0.5,
  weekend: i % 3 === 0 ? 'true' : 'false',
  at: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
}));
const specs = [
  { name: 'city', kind: 'categorical' },
  { name: 'distance', kind: 'numeric' },
  { name: 'weekend', kind: 'boolean' },
  { name: 'at', kind: 'datetime' },
] as const;

describe('row passes a block per event-loop turn', () => {
  it('visit every row once, in order, and let other callbacks run between blocks', async () => {
    const seen: number[] = [];
    const between: number[] = [];
    let timers = 0;
    const ticking = setInterval(() => timers++, 0);
    await forEachBlockInTurns(10, 4, (start, end) => {
      between.push(timers);
      for (let i = start; i < end; i++) seen.push(i);
      // Long enough that a 0 ms timer is due by the next turn.
      const until = performance.now() + 2;
      while (performance.now() < until);
    });
    clearInterval(ticking);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(between[2]).toBeGreaterThan(between[0]);
  });

  it('read the same feature columns as one pass', async () => {
    expect(await toFeatureColumnsInTurns(rows, specs)).toEqual(toFeatureColumns(rows, specs));
  });

  it('split rows into the same parts as one pass', async () => {
    const split = { seed: 42, train: 0.7, validation: 0.15, test: 0.15 };
    expect(await partitionRowsInTurns(rows, split)).toEqual(partitionRows(rows, split));
    await expect(partitionRowsInTurns(rows, { ...split, test: 0.5 })).rejects.toThrow(/sum to 1/);
  });

  it('fill the same ONNX feed columns block by block as at once', () => {
    const inputs = [
      { name: 'city', type: 'string' },
      { name: 'distance', type: 'float32' },
      { name: 'at', type: 'float64' },
    ] as const;
    const columns = emptyFeedColumns(inputs, rows.length);
    for (let start = 0; start < rows.length; start += 10_000)
      fillFeedColumns(inputs, rows, columns, start, Math.min(rows.length, start + 10_000));
    expect(columns).toEqual(onnxFeedColumns(inputs, rows));
  });
});
