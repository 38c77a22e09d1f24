import { randomUUID } from 'node:crypto';
import { type InferenceSession, Tensor } from 'onnxruntime-node';
import type { ModelContract } from './model-contract';

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

export interface Prediction {
  /** Identifies the prediction in the prediction log, so feedback can be joined to it later. */
  id: string;
  probability: number;
  label: number;
}

/** Show at most this many problems: enough to fix a batch, short for a huge bad one. */
const MAX_PROBLEMS = 10;
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Checks `value` against the contract: a non-empty array of objects with exactly the contract's
 * features; numeric features take a number or null, categorical ones a string, number, boolean
 * or null. Strings are never coerced to numbers ("NaN", "12"): a client sending them has a bug
 * that silent coercion would hide. Throws a 400 RequestError listing the first problems.
 */
export function parseInstances(contract: ModelContract, value: unknown): Instance[] {
  if (!Array.isArray(value)) {
    throw new RequestError(400, `"instances" must be an array of feature objects, got ${show(value)}`);
  }
  if (value.length === 0) throw new RequestError(400, '"instances" is empty: send at least one instance');
  const features = new Set(contract.inputs.map((i) => i.name));
  const problems: string[] = [];
  value.forEach((instance: unknown, index) => {
    if (!isPlainObject(instance)) {
      problems.push(`instances[${index}] must be an object of feature values, got ${show(instance)}`);
      return;
    }
    for (const { name, type } of contract.inputs) {
      const where = `instances[${index}].${name}`;
      if (!Object.hasOwn(instance, name)) {
        problems.push(`${where} is missing (send ${type === 'float32' ? 'a number' : 'a string'} or null)`);
        continue;
      }
      const problem = type === 'float32' ? checkNumeric(instance[name]) : checkCategorical(instance[name]);
      if (problem) problems.push(`${where} ${problem}, got ${show(instance[name])}`);
    }
    for (const key of Object.keys(instance)) {
      if (!features.has(key)) {
        problems.push(`instances[${index}].${key} is not a feature of this model (features: ${[...features].join(', ')})`);
      }
    }
  });
  if (problems.length > 0) {
    const more = problems.length > MAX_PROBLEMS ? ` (${problems.length} problems in all)` : '';
    throw new RequestError(400, `invalid instances: ${problems.slice(0, MAX_PROBLEMS).join('; ')}${more}`);
  }
  return value as Instance[];
}

function checkNumeric(value: unknown): string | undefined {
  if (value === null) return undefined;
  if (typeof value !== 'number') return 'must be a number or null';
  // JSON has no NaN or Infinity, but a finite double can still overflow float32 to Infinity.
  if (Math.abs(value) > FLOAT32_MAX) return 'is outside the float32 range';
  return undefined;
}

function checkCategorical(value: unknown): string | undefined {
  return value !== null && typeof value === 'object' ? 'must be a string, number, boolean or null' : undefined;
}

/**
 * One [N,1] tensor per contract input. Missing values become NaN (numeric) or '' (categorical):
 * the graph's own imputer and encoder handle them, exactly as in training.
 */
export function toFeeds(contract: ModelContract, instances: Instance[]): Record<string, Tensor> {
  const n = instances.length;
  const feeds: Record<string, Tensor> = {};
  for (const { name, type } of contract.inputs) {
    if (type === 'float32') {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = (instances[i][name] as number | null) ?? Number.NaN;
      feeds[name] = new Tensor('float32', data, [n, 1]);
    } else {
      const data = instances.map((instance) => {
        const value = instance[name];
        return value === null || value === undefined ? '' : String(value);
      });
      feeds[name] = new Tensor('string', data, [n, 1]);
    }
  }
  return feeds;
}

/** Runs the model on validated instances (see parseInstances): one prediction per instance. */
export async function predict(
  model: { session: InferenceSession; contract: ModelContract },
  instances: Instance[],
): Promise<Prediction[]> {
  const results = await model.session.run(toFeeds(model.contract, instances));
  const probability = results.probability?.data;
  const label = results.label?.data;
  if (!(probability instanceof Float32Array) || !(label instanceof BigInt64Array)) {
    throw new Error('model outputs are not probability float32 and label int64 tensors');
  }
  if (probability.length !== instances.length || label.length !== instances.length) {
    throw new Error(`model returned ${probability.length} probabilities for ${instances.length} instances`);
  }
  return instances.map((_, i) => ({ id: randomUUID(), probability: probability[i], label: Number(label[i]) }));
}

function isPlainObject(value: unknown): value is Instance {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value as JSON, shortened: messages echo what the client sent without echoing megabytes. */
function show(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
