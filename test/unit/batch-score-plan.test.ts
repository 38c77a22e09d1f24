import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { encodeChunk, outputPath } from '../../src/batch/file-output';
import { scoredChunk } from '../../src/batch/scored-columns';
import { batchScoreInputSchema, chunkFileName, planChunks } from '../../src/shared/batch-score';

describe('planChunks', () => {
  it('covers every row once, in order, with at most chunkRows per chunk', () => {
    for (const [rows, size] of [
      [0, 5],
      [1, 5],
      [5, 5],
      [6, 5],
      [1_000_003, 100_000],
      [7, 1],
    ] as const) {
      const chunks = planChunks(rows, size);
      expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
      let next = 0;
      for (const chunk of chunks) {
        expect(chunk.start).toBe(next);
        expect(chunk.end - chunk.start).toBeGreaterThan(0);
        expect(chunk.end - chunk.start).toBeLessThanOrEqual(size);
        next = chunk.end;
      }
      expect(next).toBe(rows);
      expect(chunks).toHaveLength(Math.ceil(rows / size));
    }
  });

  it('is the same plan every time (a resumed job finds the same chunks)', () => {
    expect(planChunks(250, 100)).toEqual([
      { index: 0, start: 0, end: 100 },
      { index: 1, start: 100, end: 200 },
      { index: 2, start: 200, end: 250 },
    ]);
  });

  it('refuses sizes that are no whole numbers', () => {
    expect(() => planChunks(10, 0)).toThrow('chunkRows must be a whole number >= 1 (got 0)');
    expect(() => planChunks(-1, 10)).toThrow('rowCount');
    expect(() => planChunks(10, 2.5)).toThrow('got 2.5');
  });

  it('names part files so that name order is row order', () => {
    expect([chunkFileName(10, 'csv'), chunkFileName(9, 'csv')].sort()).toEqual(['part-00009.csv', 'part-00010.csv']);
  });
});

describe('the batchScore input', () => {
  const base = { model: 'flight-delays@production', input: { dataset: 'flights' }, output: { kind: 'table', table: 'scores' } };

  it('fills defaults and accepts an alias or a version', () => {
    expect(batchScoreInputSchema.parse(base)).toMatchObject({ chunkRows: 100_000, concurrency: 4, heartbeatTimeoutSeconds: 30 });
    expect(batchScoreInputSchema.parse({ ...base, model: 'flight-delays@3' }).model).toBe('flight-delays@3');
  });

  it('refuses a model without a version or alias, a table that is no identifier, a path that leaves the output directory', () => {
    expect(batchScoreInputSchema.safeParse({ ...base, model: 'flight-delays' }).success).toBe(false);
    expect(batchScoreInputSchema.safeParse({ ...base, output: { kind: 'table', table: 'x; drop table y' } }).success).toBe(false);
    expect(batchScoreInputSchema.safeParse({ ...base, output: { kind: 'files', format: 'csv', directory: '../etc' } }).success).toBe(false);
    expect(batchScoreInputSchema.safeParse({ ...base, output: { kind: 'files', format: 'csv', directory: '/tmp/x' } }).success).toBe(false);
    expect(() => outputPath('/data/batch', '..', 'part-00000.csv')).toThrow('outside KEEL_BATCH_OUTPUT_DIR');
    expect(outputPath('/data/batch', 'daily/2026', 'part-00000.csv')).toBe('/data/batch/daily/2026/part-00000.csv');
  });
});

describe('scored chunks', () => {
  const binary = { task: 'binary', inputs: [], outputs: [] } as never;
  const chunk = scoredChunk(
    binary,
    { probability: Float32Array.of(0.25, 0.1, Number.NaN), label: BigInt64Array.of(0n, 1n, 0n) },
    { jobId: 'j', start: 10, count: 3 },
  );

  it('carries the job, the row index and the outputs as the server answers them (float32 values, NaN as null)', () => {
    expect(chunk.columns.map((c) => c.name)).toEqual(['job_id', 'row_index', 'probability', 'label']);
    expect(chunk.columns[1].values).toEqual([10, 11, 12]);
    expect(chunk.columns[2].values).toEqual([0.25, Math.fround(0.1), null]);
    expect(chunk.columns[3].values).toEqual([0, 1, 0]);
  });

  it('encodes the same values in parquet, CSV and JSONL, the same bytes each time', async () => {
    const parquet = encodeChunk(chunk, 'parquet');
    expect(encodeChunk(chunk, 'parquet')).toEqual(parquet);
    const rows = await parquetReadObjects({
      file: parquet.buffer.slice(parquet.byteOffset, parquet.byteOffset + parquet.byteLength) as ArrayBuffer,
    });
    expect(rows.map((r: Record<string, unknown>) => [r.row_index, r.probability, r.label])).toEqual([
      [10, 0.25, 0],
      [11, Math.fround(0.1), 1],
      [12, null, 0],
    ]);
    expect(Buffer.from(encodeChunk(chunk, 'csv')).toString()).toBe(
      `job_id,row_index,probability,label\nj,10,0.25,0\nj,11,${Math.fround(0.1)},1\nj,12,,0\n`,
    );
    expect(Buffer.from(encodeChunk(chunk, 'jsonl')).toString().split('\n')[1]).toBe(
      `{"job_id":"j","row_index":11,"probability":${Math.fround(0.1)},"label":1}`,
    );
  });
});
