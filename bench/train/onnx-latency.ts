import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { FeatureColumn } from '../../src/ml/feature-columns';

/** What serving a model costs: session creation, and time per row at batch 1 and at a batch of 256. */
export interface OnnxLatency {
  load_ms: number;
  us_per_row_b1: number;
  us_per_row_b256: number;
}

/** Feeds for rows [start, end) of the columns, as serving feeds them (categories as strings, '' missing). */
export function onnxFeeds(columns: FeatureColumn[], start: number, end: number): Record<string, Tensor> {
  return Object.fromEntries(
    columns.map((column) => [
      column.name,
      column.kind === 'categorical'
        ? new Tensor(
            'string',
            Array.from(column.codes.subarray(start, end), (code) => (code >= 0 ? column.dictionary[code] : '')),
            [end - start, 1],
          )
        : new Tensor('float32', Float32Array.from(column.values.subarray(start, end)), [end - start, 1]),
    ]),
  );
}

/**
 * Medians over repeated measurements (the machines are shared: the median resists a busy
 * neighbour): 5 session creations; 2 000 single-row runs over distinct rows; 40 runs of 256 rows.
 */
export async function measureOnnxLatency(bytes: Uint8Array, columns: FeatureColumn[], output: string): Promise<OnnxLatency> {
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const loads: number[] = [];
  let session: InferenceSession | undefined;
  for (let i = 0; i < 5; i++) {
    await session?.release();
    const started = performance.now();
    session = await InferenceSession.create(bytes);
    loads.push(performance.now() - started);
  }
  const timePerRow = async (batch: number, runs: number) => {
    const feeds = Array.from({ length: runs }, (_, i) => onnxFeeds(columns, i * batch, (i + 1) * batch));
    for (const feed of feeds.slice(0, 10)) await session!.run(feed, [output]);
    const samples: number[] = [];
    // Blocks of runs, so the timer's resolution does not matter at batch 1.
    const block = Math.max(1, Math.floor(runs / 20));
    for (let i = 0; i + block <= runs; i += block) {
      const started = performance.now();
      for (let j = i; j < i + block; j++) await session!.run(feeds[j], [output]);
      samples.push(((performance.now() - started) * 1000) / (block * batch));
    }
    return median(samples);
  };
  const result = { load_ms: median(loads), us_per_row_b1: await timePerRow(1, 2_000), us_per_row_b256: await timePerRow(256, 40) };
  await session!.release();
  return result;
}
