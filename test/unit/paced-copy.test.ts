import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CopyClient } from '../../src/db/postgres-copy';
import { copyPaced, MAX_SLICES, MIN_SLICE_CHARS, sliceLines } from '../../src/serving/paced-copy';

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

describe('copyPaced', () => {
  /** A COPY whose stream is handed `writable`: what PostgreSQL's side does is the stream's. */
  const clientWith = (writable: Writable) => ({ unsafe: () => ({ writable: () => Promise.resolve(writable) }) }) as unknown as CopyClient;

  it('writes every slice, in order, then ends the COPY', async () => {
    const received: string[] = [];
    const writable = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk.toString());
        callback();
      },
    });
    const text = lines(200, 300);
    await copyPaced(clientWith(writable), 'prediction_log', ['id'], [text]);
    expect(received.length).toBeGreaterThan(1);
    expect(received.join('')).toBe(text);
    expect(writable.writableFinished).toBe(true);
  });

  it('fails, and does not hang, when the stream closes during a pause without an error', async () => {
    const writable = new Writable({
      write(_chunk, _encoding, callback) {
        callback();
        // The connection goes away after the first slice.
        setImmediate(() => this.destroy());
      },
    });
    await expect(copyPaced(clientWith(writable), 'prediction_log', ['id'], [lines(200, 300)])).rejects.toThrow(
      /closed before the COPY finished/,
    );
  });
});
