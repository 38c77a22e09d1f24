import { describe, expect, it } from 'vitest';
import { MAX_SLICES, MIN_SLICE_CHARS, sliceLines } from '../../src/serving/paced-copy';

const lines = (count: number, width: number, tag = 'row') =>
  Array.from({ length: count }, (_, i) => `${tag}-${i}\t${'x'.repeat(width)}\n`).join('');

describe('sliceLines (the paced COPY)', () => {
  it('cuts at line ends only, and the slices joined are the text', () => {
    const texts = [lines(1000, 300, 'a'), lines(700, 120, 'b')];
    const slices = sliceLines(texts);
    expect(slices.join('')).toBe(texts.join(''));
    expect(slices.length).toBeGreaterThan(10);
    for (const slice of slices) {
      expect(slice.endsWith('\n')).toBe(true);
      expect(slice.length).toBeLessThanOrEqual(MIN_SLICE_CHARS);
    }
  });

  it('sends a small batch whole', () => {
    const text = lines(10, 50);
    expect(sliceLines([text])).toEqual([text]);
  });

  it('keeps the number of slices bounded for a large batch by making them larger', () => {
    const texts = Array.from({ length: 20 }, (_, i) => lines(1000, 400, `t${i}`));
    const slices = sliceLines(texts);
    expect(slices.join('')).toBe(texts.join(''));
    // One partial slice per text at most beyond the bound.
    expect(slices.length).toBeLessThanOrEqual(MAX_SLICES + texts.length);
    expect(Math.max(...slices.map((s) => s.length))).toBeGreaterThan(MIN_SLICE_CHARS);
  });

  it('keeps a line longer than a slice whole', () => {
    const long = `long\t${'y'.repeat(3 * MIN_SLICE_CHARS)}\n`;
    const text = lines(5, 10, 'before') + long + lines(5, 10, 'after');
    const slices = sliceLines([text]);
    expect(slices.join('')).toBe(text);
    expect(slices.some((slice) => slice.includes(long))).toBe(true);
    for (const slice of slices) expect(slice.endsWith('\n')).toBe(true);
  });
});
