import { type InferenceSession, Tensor } from 'onnxruntime-node';
import { onnxSessionOptions } from '../ml/onnx/session-options';
import type { ContractInputType } from '../shared/model-contract';
import type { GraphSignature } from './model-contract';

/**
 * What crosses between the server's event loop and its inference threads, and the ONNX glue both
 * sides share (the inline mode runs the same code on the event loop).
 */

/**
 * One model input's values, `rows` long: float32 for numeric inputs (NaN = missing), float64 for
 * timestamps (ms since 1970, NaN = missing), strings for categories ('' = missing).
 */
type FeedColumn = Float32Array | Float64Array | string[];
export type FeedColumns = Record<string, FeedColumn>;

/** A model's inputs in feed order (its contract's). */
export type InputSpec = readonly { name: string; type: ContractInputType }[];

/** The outputs the server reads, each [rows, width]: float32 (probabilities, predictions) or int64 (labels). */
export type OutputSpec = readonly { name: string; type: 'float32' | 'int64'; width: number }[];

/** Everything a thread needs to feed a session and read its answers. */
export interface ModelSpec {
  inputs: InputSpec;
  outputs: OutputSpec;
}

/** The model's answers for `rows` rows, by output name, row-major ([rows, width] flattened). */
export type InferenceOutputs = Record<string, Float32Array | BigInt64Array>;

/**
 * A batch as it crosses to an inference thread. Structured clone copies an array of strings
 * string by string (about 0.5 µs a row here, more than the inference), so the batch travels as
 * three typed arrays (moved, not copied) and one string: every float32 column back to back, every
 * float64 (timestamp) column back to back, every string column concatenated with the length of
 * each value.
 */
export interface PackedBatch {
  rows: number;
  floats: Float32Array;
  doubles: Float64Array;
  text: string;
  lengths: Uint32Array;
}

export type WorkerRequest =
  | { type: 'ping'; id: number }
  | { type: 'load'; id: number; key: string; bytes: Uint8Array; spec: ModelSpec }
  | { type: 'unload'; key: string }
  | { type: 'run'; id: number; key: string; batch: PackedBatch }
  /** Release every session and end the thread (see WorkerSlot.close). */
  | { type: 'close' };

export type WorkerReply =
  | { id: number; ok: false; error: string }
  | {
      id: number;
      ok: true;
      signature?: GraphSignature;
      outputs?: InferenceOutputs;
      /** How long `session.run` took in the thread (ms). */ runMs?: number;
    };

/** The session options every keel session shares (src/ml/onnx/session-options.ts). */
export const sessionOptions = onnxSessionOptions;

/** Concatenates the columns of several requests for one model into one packed batch. */
export function packBatch(inputs: InputSpec, parts: readonly { feeds: FeedColumns; rows: number }[], rows: number): PackedBatch {
  let floatColumns = 0;
  let doubleColumns = 0;
  for (const input of inputs) {
    if (input.type === 'float32') floatColumns++;
    else if (input.type === 'float64') doubleColumns++;
  }
  const floats = new Float32Array(floatColumns * rows);
  const doubles = new Float64Array(doubleColumns * rows);
  const lengths = new Uint32Array((inputs.length - floatColumns - doubleColumns) * rows);
  const pieces: string[] = [];
  let f = 0;
  let d = 0;
  let l = 0;
  for (const { name, type } of inputs) {
    for (const part of parts) {
      const column = part.feeds[name];
      if (type === 'float32') {
        floats.set(column as Float32Array, f);
        f += part.rows;
      } else if (type === 'float64') {
        doubles.set(column as Float64Array, d);
        d += part.rows;
      } else {
        for (const value of column as string[]) {
          lengths[l++] = value.length;
          pieces.push(value);
        }
      }
    }
  }
  return { rows, floats, doubles, text: pieces.join(''), lengths };
}

/** The batch as one [rows, 1] tensor per input. */
function unpackToTensors(inputs: InputSpec, batch: PackedBatch): Record<string, Tensor> {
  const { rows, floats, doubles, text, lengths } = batch;
  const tensors: Record<string, Tensor> = {};
  let f = 0;
  let d = 0;
  let l = 0;
  let offset = 0;
  for (const { name, type } of inputs) {
    if (type === 'float32') {
      tensors[name] = new Tensor('float32', floats.subarray(f, f + rows), [rows, 1]);
      f += rows;
    } else if (type === 'float64') {
      tensors[name] = new Tensor('float64', doubles.subarray(d, d + rows), [rows, 1]);
      d += rows;
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
    tensors[name] =
      column instanceof Float32Array
        ? new Tensor('float32', column, [rows, 1])
        : column instanceof Float64Array
          ? new Tensor('float64', column, [rows, 1])
          : new Tensor('string', column, [rows, 1]);
  }
  return tensors;
}

/** Runs the session for the outputs the server reads, and checks their types and sizes. */
export async function runSession(session: InferenceSession, spec: ModelSpec, batch: PackedBatch): Promise<InferenceOutputs> {
  const fetches = spec.outputs.map((o) => o.name);
  return readOutputs(await session.run(unpackToTensors(spec.inputs, batch), fetches), batch.rows, spec.outputs);
}

function readOutputs(results: InferenceSession.ReturnType, rows: number, outputs: OutputSpec): InferenceOutputs {
  const read: InferenceOutputs = {};
  for (const { name, type, width } of outputs) {
    const data = results[name]?.data;
    const ok = type === 'float32' ? data instanceof Float32Array : data instanceof BigInt64Array;
    if (!ok) throw new Error(`model output "${name}" is not a ${type} tensor`);
    const values = data as Float32Array | BigInt64Array;
    if (values.length !== rows * width)
      throw new Error(`model output "${name}" has ${values.length} values for ${rows} rows of width ${width}`);
    read[name] = values;
  }
  return read;
}

/** The rows [start, end) of a batch's outputs (views, no copy). */
export function sliceOutputs(outputs: InferenceOutputs, spec: OutputSpec, start: number, end: number): InferenceOutputs {
  const slice: InferenceOutputs = {};
  for (const { name, width } of spec) slice[name] = outputs[name].subarray(start * width, end * width);
  return slice;
}

export function signatureOf(session: InferenceSession): GraphSignature {
  const describe = (m: InferenceSession.ValueMetadata) => ({
    name: m.name,
    isTensor: m.isTensor,
    type: m.isTensor ? m.type : undefined,
    shape: m.isTensor ? [...m.shape] : undefined,
  });
  return { inputs: session.inputMetadata.map(describe), outputs: session.outputMetadata.map(describe) };
}
