import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { InvalidInputErrorType } from './errors';

/** One line per zod issue, each naming the field path and the value found there. */
export function describeIssues(issues: z.core.$ZodIssue[], input: unknown): string[] {
  return issues.map((issue) => {
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
 * Validates a workflow's input. A bad field fails the execution at once with a non-retryable
 * failure naming every bad field and its value (a plain Error would retry the task forever).
 */
export function parseWorkflowInput<T extends z.ZodType>(schema: T, input: unknown, workflow: string): z.infer<T> {
  return parseOrThrow(schema, input, `${workflow} input`, (message, details) =>
    ApplicationFailure.nonRetryable(message, InvalidInputErrorType, ...details),
  );
}
