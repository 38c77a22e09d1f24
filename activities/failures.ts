import { activityInfo, ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { nonRetryableErrorTypes } from '../src/shared/errors';

/**
 * The one place where library errors become Temporal failures. Library code throws typed errors
 * (DataValidationError, TargetError, FeatureContractError, InvalidInputError… in
 * src/shared/errors.ts) and knows nothing of Temporal; here an error whose type no retry can fix
 * becomes a non-retryable ApplicationFailure of that type, so the run fails at once instead of
 * after five attempts. Every failure carries the attempt it failed on (`details[0].attempt`),
 * which the pipeline run's record shows.
 */
export function toActivityFailure(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof CancelledFailure) return error;
  if (error instanceof ApplicationFailure) return error;
  const failure = ApplicationFailure.create({
    message: error.message,
    type: error.name,
    nonRetryable: nonRetryableErrorTypes.includes(error.name),
    details: [{ attempt: currentAttempt() }],
  });
  failure.stack = error.stack;
  return failure;
}

/** Wraps every activity of a set with toActivityFailure; names and signatures stay. */
export function withActivityFailures<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, (...args: never[]) => Promise<unknown>> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args) => {
      try {
        return await activity(...args);
      } catch (error) {
        throw toActivityFailure(error);
      }
    };
  }
  return wrapped as T;
}

function currentAttempt(): number | undefined {
  try {
    return activityInfo().attempt;
  } catch {
    return undefined; // called outside an activity (a test calling the function directly)
  }
}
