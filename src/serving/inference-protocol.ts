import { type InferenceSession, Tensor } from 'onnxruntime-node';
import type { GraphSignature } from './model-contract';

/**
 * What crosses between the server's event loop and its inference threads, and the ONNX glue both
 * sides share (the inline mode runs the same code on the event loop).
 */

/** One column per model input, `rows` long: float32 for numeric inputs (NaN = missing), strings ('' = missing). */
export type FeedColumns = Record<string, Float32Array | string[]>;

/** The model's answers for `rows` rows. */
export interface InferenceOutputs {
  probability: Float32Array;
  label: BigInt64Array;
}

/** A model's inputs in feed order (its contract's). */
export type InputSpec = readonly { name: string; type: 'float32' | 'string' }[];

/**
 * A batch as it crosses to an inference thread. Structured clone copies an array of strings
 * string by string (about 0.5 µs a row here, more than the inference), so the batch travels as
 * two typed arrays (moved, not copied) and one string: every numeric column back to back, every
 * string column concatenated with the length of each value.
 */
export interface PackedBatch {
  rows: number;
  floats: Float32Array;
  text: string;
  lengths: Uint32Array;
}

export type WorkerRequest =
  | { type: 'ping'; id: number }
  | { type: 'load'; id: number; key: string; bytes: Uint8Array; inputs: InputSpec }
  | { type: 'unload'; key: string }
  | { type: 'run'; id: number; key: string; batch: PackedBatch };

export type WorkerReply =
  | { id: number; ok: false; error: string }
  | { id: number; ok: true; signature?: GraphSignature; probability?: Float32Array; label?: BigInt64Array };

/**
 * One intra-op thread per session: the pool already runs one session per thread, and ORT's
 * default (a thread per core in every session) would oversubscribe the cores several times over.
 */
export const sessionOptions: InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

/** Concatenates the columns of several requests for one model into one packed batch. */
export function packBatch(inputs: InputSpec, parts: readonly { feeds: FeedColumns; rows: number }[], rows: number): PackedBatch {
  let floatColumns = 0;
  for (const input of inputs) if (input.type === 'float32') floatColumns++;
  const floats = new Float32Array(floatColumns * rows);
  const lengths = new Uint32Array((inputs.length - floatColumns) * rows);
  const pieces: string[] = [];
  let f = 0;
  let l = 0;
  for (const { name, type } of inputs) {
    for (const part of parts) {
      const column = part.feeds[name];
      if (type === 'float32') {
        floats.set(column as Float32Array, f);
        f += part.rows;
      } else {
        for (const value of column as string[]) {
          lengths[l++] = value.length;
          pieces.push(value);
        }
      }
    }
  }
  return { rows, floats, text: pieces.join(''), lengths };
}

/** The batch as one [rows, 1] tensor per input. */
export function unpackToTensors(inputs: InputSpec, batch: PackedBatch): Record<string, Tensor> {
  const { rows, floats, text, lengths } = batch;
  const tensors: Record<string, Tensor> = {};
  let f = 0;
  let l = 0;
  let offset = 0;
  for (const { name, type } of inputs) {
    if (type === 'float32') {
      tensors[name] = new Tensor('float32', floats.subarray(f, f + rows), [rows, 1]);
      f += rows;
    } else {
      const column = new Array<string>(rows);
      for (let i = 0; i < rows; i++) {
        const end = offset + lengths[l++];
        column[i] = text.slice(offset, end);
        offset = end;
      }
      tensors[name] = new Tensor('string', column, [rows, 1]);
    }
  }
  return tensors;
}

export function toTensors(feeds: FeedColumns, rows: number): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  for (const [name, column] of Object.entries(feeds)) {
    tensors[name] = column instanceof Float32Array ? new Tensor('float32', column, [rows, 1]) : new Tensor('string', column, [rows, 1]);
  }
  return tensors;
}

export function readOutputs(outputs: InferenceSession.ReturnType, rows: number): InferenceOutputs {
  const probability = outputs.probability?.data;
  const label = outputs.label?.data;
  if (!(probability instanceof Float32Array) || !(label instanceof BigInt64Array)) {
    throw new Error('model outputs are not probability float32 and label int64 tensors');
  }
  if (probability.length !== rows || label.length !== rows) {
    throw new Error(`model returned ${probability.length} probabilities for ${rows} rows`);
  }
  return { probability, label };
}

export function signatureOf(session: InferenceSession): GraphSignature {
  return {
    inputs: session.inputMetadata.map((m) => ({ name: m.name, isTensor: m.isTensor, type: m.isTensor ? m.type : undefined })),
    outputNames: [...session.outputNames],
  };
}
