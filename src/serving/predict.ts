import type { Tensor } from 'onnxruntime-node';
import { readTimestamp } from '../ml/row';
import { type FeedColumns, toTensors } from './inference-protocol';
import type { ModelContract } from '../shared/model-contract';
import { categoryLengthLimit, categoryStringProblem, DEFAULT_REQUEST_LIMITS, type RequestLimits } from './request-limits';
import { suggestKey } from '../shared/strict';

/** A client mistake, answered with `status` and a message that names what was wrong. */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One raw feature row, exactly as the client sent it (also what the prediction log stores). */
export type Instance = Record<string, unknown>;

/** Show at most this many problems: enough to fix a batch, short for a huge bad one. */
export const MAX_PROBLEMS = 10;
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Checks `value` against the contract: a non-empty array of objects with exactly the contract's
 * features; numeric features take a number or null, categorical ones a string (within the
 * length limit, storable: see request-limits.ts), number, boolean or null, timestamps an ISO 8601
 * string, a number of milliseconds since 1970 or null. Strings are never coerced to numbers
 * ("NaN", "12"): a client sending them has a bug that silent coercion would hide. Throws a 400
 * RequestError listing the first problems.
 */
export function parseInstances(
  contract: ModelContract,
  value: unknown,
  limits: Pick<RequestLimits, 'maxCategoryLength' | 'categoryLengths'> = DEFAULT_REQUEST_LIMITS,
): Instance[] {
  if (!Array.isArray(value)) {
    throw new RequestError(400, `"instances" must be an array of feature objects, got ${show(value)}`);
  }
  if (value.length === 0) throw new RequestError(400, '"instances" is empty: send at least one instance');
  const inputs = contract.inputs;
  const problems: string[] = [];
  // The valid path builds no strings: this runs for every row of every request.
  for (let index = 0; index < value.length; index++) {
    const instance: unknown = value[index];
    if (!isPlainObject(instance)) {
      problems.push(`instances[${index}] must be an object of feature values, got ${show(instance)}`);
      continue;
    }
    let present = 0;
    for (let f = 0; f < inputs.length; f++) {
      const { name, type } = inputs[f];
      const feature = instance[name];
      if (feature === undefined && !Object.hasOwn(instance, name)) {
        problems.push(`instances[${index}].${name} is missing (send ${EXPECTED[type]} or null)`);
        continue;
      }
      present++;
      const problem =
        type === 'float32'
          ? checkNumeric(feature)
          : type === 'string'
            ? checkCategorical(feature, categoryLengthLimit(limits, name))
            : checkTimestamp(feature);
      if (problem) problems.push(`instances[${index}].${name} ${problem}, got ${show(feature)}`);
    }
    const keys = Object.keys(instance);
    if (keys.length !== present) {
      const names = inputs.map((i) => i.name);
      for (const key of keys) {
        if (names.includes(key)) continue;
        const meant = suggestKey(key, names);
        problems.push(
          `instances[${index}].${key} is not a feature of this model (${meant ? `did you mean ${meant}? ` : ''}features: ${names.join(', ')})`,
        );
      }
    }
    if (problems.length > MAX_PROBLEMS * 10) break;
  }
  if (problems.length > 0) {
    const more =
      problems.length > MAX_PROBLEMS ? ` (${problems.length} problems${problems.length > MAX_PROBLEMS * 10 ? ' or more' : ''} in all)` : '';
    throw new RequestError(400, `invalid instances: ${problems.slice(0, MAX_PROBLEMS).join('; ')}${more}`);
  }
  return value as Instance[];
}

export function checkNumeric(value: unknown): string | undefined {
  if (value === null) return undefined;
  if (typeof value !== 'number') return 'must be a number or null';
  // JSON has no NaN or Infinity, but a finite double can still overflow float32 to Infinity.
  if (Math.abs(value) > FLOAT32_MAX) return 'is outside the float32 range';
  return undefined;
}

const EXPECTED = { float32: 'a number', string: 'a string', float64: 'a timestamp (ISO 8601 string or milliseconds since 1970)' } as const;

/** A timestamp: null, or what readTimestamp reads (ISO 8601 text, ms since 1970) within a Date's range. */
function checkTimestamp(value: unknown): string | undefined {
  if (value === null) return undefined;
  if ((typeof value === 'number' || typeof value === 'string') && !Number.isNaN(readTimestamp(value))) return undefined;
  return typeof value === 'number'
    ? 'is outside the timestamp range (±8.64e15 ms since 1970)'
    : 'must be a timestamp: an ISO 8601 string (2024-05-01T12:30:00Z) or milliseconds since 1970, or null';
}

function checkCategorical(value: unknown, maxLength: number): string | undefined {
  if (typeof value === 'string') return categoryStringProblem(value, maxLength);
  return value !== null && typeof value === 'object' ? 'must be a string, number, boolean or null' : undefined;
}

/**
 * One column per contract input. Missing values become NaN (numeric, timestamp) or ''
 * (categorical): the graph's own imputer and encoder handle them, exactly as in training.
 * Categorical values sent as numbers or booleans are encoded as their string form ("17"), as the
 * training rows were; timestamps become milliseconds since 1970 (readTimestamp, as training reads them).
 */
export function instancesToColumns(contract: Pick<ModelContract, 'inputs'>, instances: Instance[]): FeedColumns {
  const n = instances.length;
  const feeds: FeedColumns = {};
  for (const { name, type } of contract.inputs) {
    if (type === 'float32') {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = (instances[i][name] as number | null) ?? Number.NaN;
      feeds[name] = data;
    } else if (type === 'float64') {
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = readTimestamp(instances[i][name]);
      feeds[name] = data;
    } else {
      const data = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const value = instances[i][name];
        data[i] = value === null || value === undefined ? '' : String(value);
      }
      feeds[name] = data;
    }
  }
  return feeds;
}

/** The same as ONNX tensors, for running a session directly (benchmarks, tests). */
export function toFeeds(contract: Pick<ModelContract, 'inputs'>, instances: Instance[]): Record<string, Tensor> {
  return toTensors(instancesToColumns(contract, instances), instances.length);
}

function isPlainObject(value: unknown): value is Instance {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value as JSON, shortened: messages echo what the client sent without echoing megabytes. */
export function show(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
