import type { FeedColumns, InferenceOutputs } from './inference-protocol';
import type { ModelContract } from '../shared/model-contract';
import { servedOutputs } from './model-contract';
import { checkNumeric, type Instance, MAX_PROBLEMS, RequestError, show } from './predict';
import { suggestKey } from '../shared/strict';
import { categoryLengthLimit, categoryStringProblem, DEFAULT_REQUEST_LIMITS, type RequestLimits } from './request-limits';

/**
 * The Open Inference Protocol (KServe "v2", Triton) REST mapping onto keel's models: each ONNX
 * input is a named tensor of shape [N, 1] (or [N]); numeric inputs are FP32, categorical inputs
 * BYTES, timestamps FP64 (milliseconds since 1970). Outputs are the model's, by task (binary:
 * `probability` FP32 [N, 1] and `label` INT64 [N, 1]; multiclass: `probabilities` FP32 [N, K] in
 * the contract's class order and `label` INT64 [N, 1], the class index; regression: `prediction`
 * FP32 [N, 1]), plus `prediction_id` BYTES [N, 1] — the ids under which the rows were logged,
 * for `POST /v1/feedback`.
 *
 * Accepted beyond the exact metadata datatypes, because they convert without loss: FP64 and the
 * integer types for FP32 inputs; integer types for BYTES inputs (a category code 17 is "17", as
 * in training) and for FP64 timestamps. `null` marks a missing value (the graph imputes it) — a
 * keel extension, JSON has no NaN. Not supported: the binary tensor data extension (answered
 * with a 400).
 */

const PLATFORM = 'onnx_onnxv1';
const PREDICTION_ID = 'prediction_id';
const OIP_DATATYPES = { float32: 'FP32', float64: 'FP64', string: 'BYTES', int64: 'INT64' } as const;
/** ±8.64e15 ms: the range of a JavaScript Date (src/ml/row.ts readTimestamp). */
const MAX_TIMESTAMP_MS = 8.64e15;

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export function modelMetadata(name: string, versions: number[], contract: ModelContract) {
  return {
    name,
    versions: versions.map(String),
    platform: PLATFORM,
    inputs: contract.inputs.map((input): TensorMetadata => ({ name: input.name, datatype: OIP_DATATYPES[input.type], shape: [-1, 1] })),
    outputs: [
      ...servedOutputs(contract).map((output): TensorMetadata => ({
        name: output.name,
        datatype: OIP_DATATYPES[output.type],
        shape: [-1, output.shape[1]],
      })),
      { name: PREDICTION_ID, datatype: 'BYTES', shape: [-1, 1] },
    ],
  };
}

const INTEGER_RANGES: Record<string, [number, number]> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
};
const DATATYPES = new Set(['BOOL', 'FP16', 'FP32', 'FP64', 'BYTES', ...Object.keys(INTEGER_RANGES)]);

/** One input tensor of a request, structurally valid; its data flattened. */
interface RequestTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

/** An inference request, checked against the protocol but not yet against a model. */
export interface InferenceRequest {
  id: string | undefined;
  inputs: RequestTensor[];
  /** Requested output names in request order (checked against the model by bindInputs); undefined: all. */
  outputs: string[] | undefined;
}

/** A request bound to one model's inputs: what the batcher runs and the prediction log stores. */
export interface BoundRequest {
  rows: number;
  feeds: FeedColumns;
  /** Row-wise inputs as sent (category codes stay numbers), for the prediction log. */
  instances: Instance[];
  /** v2: the outputs to answer with, in order (all of them when the request names none). */
  outputs?: string[];
}

const REQUEST_KEYS = new Set(['id', 'parameters', 'inputs', 'outputs']);
const INPUT_KEYS = new Set(['name', 'shape', 'datatype', 'parameters', 'data']);
const OUTPUT_KEYS = new Set(['name', 'parameters']);

/** Checks the request against the protocol: field types, known datatypes, no binary extension. */
/** A 400 naming the unknown field, the key most likely meant and the known ones. */
function unknownField(key: string, where: string, known: ReadonlySet<string>): RequestError {
  const meant = suggestKey(key, [...known]);
  return new RequestError(
    400,
    `unknown field "${key}" in ${where} (${meant ? `did you mean ${meant}? ` : ''}fields: ${[...known].join(', ')})`,
  );
}

export function parseInferenceRequest(body: unknown): InferenceRequest {
  if (!isObject(body)) throw new RequestError(400, `the body must be an inference request object {"inputs": [...]}, got ${show(body)}`);
  for (const key of Object.keys(body)) {
    if (!REQUEST_KEYS.has(key)) throw unknownField(key, 'the inference request', REQUEST_KEYS);
  }
  const { id, parameters, inputs, outputs } = body;
  if (id !== undefined && typeof id !== 'string') throw new RequestError(400, `"id" must be a string, got ${show(id)}`);
  checkParameters(parameters, 'parameters');
  if (isObject(parameters) && parameters.binary_data_output === true) {
    throw new RequestError(400, 'the binary tensor data extension is not supported: set "binary_data_output" to false or leave it out');
  }
  if (!Array.isArray(inputs)) throw new RequestError(400, `"inputs" must be an array of input tensors, got ${show(inputs)}`);
  if (inputs.length === 0) throw new RequestError(400, '"inputs" is empty: send one tensor per model input');
  const seen = new Set<string>();
  const tensors = inputs.map((input: unknown, index): RequestTensor => {
    const where = `inputs[${index}]`;
    if (!isObject(input))
      throw new RequestError(400, `${where} must be a tensor object {"name","shape","datatype","data"}, got ${show(input)}`);
    for (const key of Object.keys(input)) {
      if (!INPUT_KEYS.has(key)) throw unknownField(key, where, INPUT_KEYS);
    }
    const { name, shape, datatype, data } = input;
    if (typeof name !== 'string' || name === '') throw new RequestError(400, `${where}.name must be a non-empty string, got ${show(name)}`);
    const label = `input "${name}"`;
    if (seen.has(name)) throw new RequestError(400, `${label} is given twice`);
    seen.add(name);
    checkParameters(input.parameters, `${label} parameters`);
    if (isObject(input.parameters) && input.parameters.binary_data_size !== undefined) {
      throw new RequestError(400, `${label}: the binary tensor data extension is not supported; send "data" as JSON`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw new RequestError(400, `${label}: "shape" must be an array of non-negative integers, got ${show(shape)}`);
    }
    if (typeof datatype !== 'string' || !DATATYPES.has(datatype)) {
      throw new RequestError(400, `${label}: unknown datatype ${show(datatype)} (one of ${[...DATATYPES].join(', ')})`);
    }
    if (data === undefined) throw new RequestError(400, `${label} has no "data" (the binary tensor data extension is not supported)`);
    if (!Array.isArray(data)) throw new RequestError(400, `${label}: "data" must be an array, got ${show(data)}`);
    return { name, datatype, shape: shape as number[], data: data.some(Array.isArray) ? (data.flat(Infinity) as unknown[]) : data };
  });
  let requested: string[] | undefined;
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) throw new RequestError(400, `"outputs" must be an array of {"name": ...}, got ${show(outputs)}`);
    requested = outputs.map((output: unknown, index) => {
      if (!isObject(output) || typeof output.name !== 'string') {
        throw new RequestError(400, `outputs[${index}] must be {"name": <output name>}, got ${show(output)}`);
      }
      for (const key of Object.keys(output)) {
        if (!OUTPUT_KEYS.has(key)) throw unknownField(key, `outputs[${index}]`, OUTPUT_KEYS);
      }
      checkParameters(output.parameters, `output "${output.name}" parameters`);
      if (isObject(output.parameters) && output.parameters.binary_data === true) {
        throw new RequestError(400, `output "${output.name}": the binary tensor data extension is not supported`);
      }
      return output.name;
    });
  }
  return { id, inputs: tensors, outputs: requested };
}

/**
 * Maps the request's tensors onto the model's inputs: every input present, no other, shapes
 * [N, 1] or [N] with one N, datatypes compatible, every element of the right type.
 */
export function bindInputs(
  request: InferenceRequest,
  contract: ModelContract,
  limits: Pick<RequestLimits, 'maxCategoryLength' | 'categoryLengths'> = DEFAULT_REQUEST_LIMITS,
): BoundRequest {
  const outputs = outputNames(request, contract);
  const byName = new Map(request.inputs.map((t) => [t.name, t]));
  const expected = contract.inputs.map((i) => i.name);
  for (const tensor of request.inputs) {
    if (!expected.includes(tensor.name)) {
      const meant = suggestKey(tensor.name, expected);
      throw new RequestError(
        400,
        `input "${tensor.name}" is not an input of this model (${meant ? `did you mean ${meant}? ` : ''}inputs: ${expected.join(', ')})`,
      );
    }
  }
  const missing = expected.filter((name) => !byName.has(name));
  if (missing.length > 0)
    throw new RequestError(
      400,
      `missing input${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (inputs: ${expected.join(', ')})`,
    );

  let rows: number | undefined;
  for (const { name } of contract.inputs) {
    const tensor = byName.get(name)!;
    const { shape } = tensor;
    if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
      throw new RequestError(400, `input "${name}" has shape ${show(shape)}; this model takes [N, 1] or [N] (one value per row)`);
    }
    if (rows === undefined) rows = shape[0];
    else if (shape[0] !== rows)
      throw new RequestError(
        400,
        `input "${name}" has ${shape[0]} rows but input "${contract.inputs[0].name}" has ${rows}: every input needs the same N`,
      );
    if (tensor.data.length !== shape[0]) {
      throw new RequestError(
        400,
        `input "${name}" has ${tensor.data.length} values in "data" but its shape ${show(shape)} holds ${shape[0]}`,
      );
    }
  }
  const n = rows!;
  if (n === 0) throw new RequestError(400, 'empty batch: the inputs have shape [0, ...]; send at least one row');

  const problems: string[] = [];
  const feeds: FeedColumns = {};
  const instances: Instance[] = Array.from({ length: n }, () => ({}));
  for (const { name, type } of contract.inputs) {
    const { datatype, data } = byName.get(name)!;
    const integer = INTEGER_RANGES[datatype];
    if (type === 'float64') {
      if (datatype !== 'FP64' && !integer) {
        throw new RequestError(
          400,
          `input "${name}" is a timestamp: its datatype is FP64, milliseconds since 1970 (integer types are accepted), got ${datatype}`,
        );
      }
      const column = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const value = data[i];
        const problem = integer
          ? checkInteger(value, datatype, integer)
          : value === null || typeof value === 'number'
            ? undefined
            : 'must be a number (FP64) or null';
        if (problem || (value !== null && Math.abs(value as number) > MAX_TIMESTAMP_MS)) {
          problems.push(
            `input "${name}" data[${i}] ${problem ?? 'is outside the timestamp range (±8.64e15 ms since 1970)'}, got ${show(value)}`,
          );
          continue;
        }
        column[i] = value === null ? Number.NaN : Math.floor(value as number);
        instances[i][name] = value;
      }
      feeds[name] = column;
    } else if (type === 'float32') {
      if (datatype !== 'FP32' && datatype !== 'FP64' && !integer) {
        throw new RequestError(
          400,
          `input "${name}" is numeric: its datatype is FP32 (FP64 and integer types are accepted), got ${datatype}`,
        );
      }
      const column = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const value = data[i];
        const problem = integer ? checkInteger(value, datatype, integer) : checkNumeric(value);
        if (problem) {
          problems.push(`input "${name}" data[${i}] ${problem}, got ${show(value)}`);
          continue;
        }
        column[i] = value === null ? Number.NaN : (value as number);
        instances[i][name] = value;
      }
      feeds[name] = column;
    } else {
      if (datatype !== 'BYTES' && !integer) {
        throw new RequestError(400, `input "${name}" is categorical: its datatype is BYTES (integer types are accepted), got ${datatype}`);
      }
      const column = new Array<string>(n);
      const maxLength = categoryLengthLimit(limits, name);
      for (let i = 0; i < n; i++) {
        const value = data[i];
        const problem = integer
          ? checkInteger(value, datatype, integer)
          : value === null
            ? undefined
            : typeof value === 'string'
              ? categoryStringProblem(value, maxLength)
              : 'must be a string (BYTES) or null';
        if (problem) {
          problems.push(`input "${name}" data[${i}] ${problem}, got ${show(value)}`);
          continue;
        }
        column[i] = value === null ? '' : String(value);
        instances[i][name] = value;
      }
      feeds[name] = column;
    }
    if (problems.length >= MAX_PROBLEMS) break;
  }
  if (problems.length > 0) throw new RequestError(400, `invalid input data: ${problems.slice(0, MAX_PROBLEMS).join('; ')}`);
  return { rows: n, feeds, instances, outputs };
}

/** The outputs a request asks for, checked against the model's; all of them when it names none. */
function outputNames(request: InferenceRequest, contract: ModelContract): string[] {
  const names = [...servedOutputs(contract).map((o) => o.name), PREDICTION_ID];
  if (request.outputs === undefined) return names;
  for (const name of request.outputs) {
    if (!names.includes(name)) throw new RequestError(400, `unknown output "${name}" (outputs of this model: ${names.join(', ')})`);
  }
  return request.outputs;
}

/** The inference response object, with the requested outputs (row-major data, [N, width] shapes). */
export function inferenceResponse(options: {
  model: string;
  version: number;
  id: string;
  contract: ModelContract;
  requested: string[];
  outputs: InferenceOutputs;
  predictionIds: string[];
}) {
  const { outputs, predictionIds } = options;
  const n = predictionIds.length;
  const served = servedOutputs(options.contract);
  return {
    model_name: options.model,
    model_version: String(options.version),
    id: options.id,
    outputs: options.requested.map((name) => {
      if (name === PREDICTION_ID) return { name, datatype: 'BYTES', shape: [n, 1], data: predictionIds };
      const { type, shape } = served.find((o) => o.name === name)!;
      const values = outputs[name];
      return {
        name,
        datatype: OIP_DATATYPES[type],
        shape: [n, shape[1]],
        // JSON has no NaN: a non-finite float is null, as in requests.
        data: values instanceof BigInt64Array ? Array.from(values, Number) : Array.from(values, (v) => (Number.isFinite(v) ? v : null)),
      };
    }),
  };
}

function checkInteger(value: unknown, datatype: string, [min, max]: [number, number]): string | undefined {
  if (value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) return `must be an integer (${datatype}) or null`;
  if (value < min || value > max) return `is outside the ${datatype} range`;
  return undefined;
}

function checkParameters(value: unknown, where: string): void {
  if (value === undefined) return;
  if (!isObject(value)) throw new RequestError(400, `${where} must be an object of name: value pairs, got ${show(value)}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
