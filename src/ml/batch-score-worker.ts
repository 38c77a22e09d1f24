/** Worker-thread side of scoreOnnxInWorkerThread (see batch-score.ts). */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { BatchScoringInput } from './batch-score';
import { serveWorkerTask } from './worker-thread';

/** Rows per session.run: large enough to amortise the call, small enough to bound memory. */
const chunkRows = 16_384;

await serveWorkerTask<BatchScoringInput, Float64Array>(async ({ model, rowCount, inputs, columns }) => {
  const session = await InferenceSession.create(model);
  try {
    const probabilities = new Float64Array(rowCount);
    for (let start = 0; start < rowCount; start += chunkRows) {
      const end = Math.min(start + chunkRows, rowCount);
      const feeds = Object.fromEntries(
        inputs.map(({ name, type }) => {
          const column = columns[name];
          const values = column instanceof Float32Array ? column.subarray(start, end) : column.slice(start, end);
          return [name, new Tensor(type, values, [end - start, 1])];
        }),
      );
      const { probability } = await session.run(feeds, ['probability']);
      probabilities.set(probability.data as Float32Array, start);
    }
    return probabilities;
  } finally {
    await session.release();
  }
});
