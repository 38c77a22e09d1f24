import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { InvalidInputErrorType } from './errors';
import { onlyUnknownKeys, withoutUnknownKeys } from './strict';

/**
 * One line per zod issue, each naming the field path and the value found there. An unknown key
 * (see ./strict) is named in the path: `gate.minRocAUC: unknown key (did you mean minRocAuc?)`.
 */
export function describeIssues(issues: z.core.$ZodIssue[], input: unknown): string[] {
  return issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const path = issue.keys.length === 1 ? [...issue.path, issue.keys[0]] : issue.path;
      return `${path.length ? path.join('.') : '(root)'}: ${issue.message}`;
    }
    const path = issue.path.length ? issue.path.join('.') : '(root)';
    const value = valueAt(input, issue.path);
    return `${path}: ${issue.message} (got ${formatValue(value)})`;
  });
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Parses or throws an error whose message lists every bad field with its value. */
export function parseOrThrow<T extends z.ZodType>(
  schema: T,
  input: unknown,
  what: string,
  makeError: (message: string, details: string[]) => Error,
): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = describeIssues(result.error.issues, input);
  throw makeError(`invalid ${what}: ${details.join('; ')}`, details);
}

/**
 * `schema.safeParse`, except where only unknown keys are wrong and `acceptsUnknownKeys()` says
 * so: then the input is read without them. That is how a workflow replays a history from before
 * inputs were strict, when unknown keys were dropped (workflows pass `!patched('strict-inputs')`);
 * it is asked only when the input has unknown keys, so other histories carry no marker.
 */
export function safeParseInput<T extends z.ZodType>(
  schema: T,
  input: unknown,
  acceptsUnknownKeys?: () => boolean,
): z.ZodSafeParseResult<z.infer<T>> {
  const result = schema.safeParse(input);
  if (result.success || !acceptsUnknownKeys || !onlyUnknownKeys(result.error.issues) || !acceptsUnknownKeys()) return result;
  return schema.safeParse(withoutUnknownKeys(input, result.error.issues));
}

/**
 * Validates a workflow's input. A bad field, an unknown key included, fails the execution at
 * once with a non-retryable failure naming every bad field and its value (a plain Error would
 * retry the task forever). `acceptsUnknownKeys`: see safeParseInput.
 */
export function parseWorkflowInput<T extends z.ZodType>(
  schema: T,
  input: unknown,
  workflow: string,
  acceptsUnknownKeys?: () => boolean,
): z.infer<T> {
  const result = safeParseInput(schema, input, acceptsUnknownKeys);
  if (result.success) return result.data;
  const details = describeIssues(result.error.issues, input);
  throw ApplicationFailure.nonRetryable(`invalid ${workflow} input: ${details.join('; ')}`, InvalidInputErrorType, ...details);
}
