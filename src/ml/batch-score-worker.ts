/** Worker-thread side of scoreOnnxInWorkerThread (see batch-score.ts). */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { BatchScoringInput } from './batch-score';
import { serveWorkerTask } from './worker-thread';

/** Rows per session.run: large enough to amortise the call, small enough to bound memory. */
const chunkRows = 16_384;

await serveWorkerTask<BatchScoringInput, Float64Array>(async ({ model, rowCount, inputs, columns, output }) => {
  const session = await InferenceSession.create(model);
  try {
    let scores = new Float64Array(0);
    for (let start = 0; start < rowCount; start += chunkRows) {
      const end = Math.min(start + chunkRows, rowCount);
      const feeds = Object.fromEntries(
        inputs.map(({ name, type }) => {
          const column = columns[name];
          const values = Array.isArray(column) ? column.slice(start, end) : column.subarray(start, end);
          return [name, new Tensor(type === 'float64' ? 'float64' : type, values, [end - start, 1])];
        }),
      );
      const data = (await session.run(feeds, [output]))[output].data as Float32Array;
      // The width (1, or K classes) is known from the first chunk.
      if (start === 0) scores = new Float64Array(rowCount * (data.length / (end - start)));
      scores.set(data, (start * data.length) / (end - start));
    }
    return scores;
  } finally {
    await session.release();
  }
});
