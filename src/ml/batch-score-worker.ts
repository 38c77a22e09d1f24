/** Worker-thread side of scoreOnnxInWorkerThread (see batch-score.ts). */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { BatchScoringInput, OutputValues } from './batch-score';
import { onnxSessionOptions } from './onnx/session-options';
import { serveWorkerTask } from './worker-thread';

/** Rows per session.run: large enough to amortise the call, small enough to bound memory. */
const chunkRows = 16_384;

await serveWorkerTask<BatchScoringInput, Record<string, OutputValues>>(async ({ model, rowCount, inputs, columns, outputs }) => {
  const session = await InferenceSession.create(model, onnxSessionOptions);
  try {
    const parts: Record<string, OutputValues[]> = Object.fromEntries(outputs.map((name) => [name, []]));
    for (let start = 0; start < rowCount; start += chunkRows) {
      const end = Math.min(start + chunkRows, rowCount);
      const feeds = Object.fromEntries(
        inputs.map(({ name, type }) => {
          const column = columns[name];
          const values = Array.isArray(column) ? column.slice(start, end) : column.subarray(start, end);
          return [name, new Tensor(type === 'float64' ? 'float64' : type, values, [end - start, 1])];
        }),
      );
      const results = await session.run(feeds, outputs);
      for (const name of outputs) parts[name].push(results[name].data as OutputValues);
    }
    return Object.fromEntries(outputs.map((name) => [name, concat(parts[name])]));
  } finally {
    await session.release();
  }
});

function concat(parts: OutputValues[]): OutputValues {
  if (parts.length === 1) return parts[0];
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const first = parts[0];
  const all = first instanceof BigInt64Array ? new BigInt64Array(length) : new Float32Array(length);
  let offset = 0;
  for (const part of parts) {
    (all as Float32Array).set(part as Float32Array, offset);
    offset += part.length;
  }
  return all;
}
