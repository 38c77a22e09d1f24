import type { z } from 'zod';
import { InvalidInputError } from '../../shared/errors';
import { type GbdtObjective, gbdtParamsSchema } from '../../shared/gbdt-params';

export { type GbdtObjective, gbdtParamsSchema };

/** Hyperparameters as written in a config (defaults may be omitted). */
export type GbdtParamsInput = z.input<typeof gbdtParamsSchema>;
/** Hyperparameters with every default filled in (what a trained model records). */
export type GbdtParams = z.output<typeof gbdtParamsSchema>;

/**
 * Validates and completes hyperparameters. Throws an InvalidInputError (non-retryable) naming every bad field and its value,
 * e.g. `invalid GBDT parameters: learningRate: Too big: expected number to be <=1 (got 3)`.
 */
export function parseGbdtParams(input: unknown): GbdtParams {
  const result = gbdtParamsSchema.safeParse(input);
  if (result.success) return result.data;
  const record = (input ?? {}) as Record<string, unknown>;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown parameter(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    const field = issue.path.join('.') || '(params)';
    const got = issue.path.length === 1 ? ` (got ${JSON.stringify(record[issue.path[0] as string])})` : '';
    return `${field}: ${issue.message}${got}`;
  });
  throw new InvalidInputError(`invalid GBDT parameters: ${problems.join('; ')}`);
}
