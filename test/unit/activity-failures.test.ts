import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { toActivityFailure, withActivityFailures } from '../../activities/failures';
import { DataValidationError, FeatureContractError, InvalidInputError, TargetError } from '../../src/shared/errors';

describe('toActivityFailure', () => {
  it.each([
    ['DataValidationError', new DataValidationError('rule minRows: 3 rows < 1000', 'minRows', 3)],
    ['TargetError', new TargetError('target "delay" must be a finite number, but dataset row 7 has null')],
    ['FeatureContractError', new FeatureContractError('feature "hour" is listed twice')],
    ['InvalidInputError', new InvalidInputError('invalid dataset spec: name: …')],
  ])('makes a %s non-retryable, keeping its type and message', (type, error) => {
    const failure = toActivityFailure(error) as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type, message: error.message, nonRetryable: true });
    expect(failure.stack).toBe(error.stack);
  });

  it('leaves any other error retryable (a database away, a worker crash)', () => {
    const failure = toActivityFailure(new Error('connection refused')) as ApplicationFailure;
    expect(failure).toMatchObject({ type: 'Error', message: 'connection refused', nonRetryable: false });
  });

  it('passes failures that already say what they are through unchanged', () => {
    const application = ApplicationFailure.nonRetryable('already decided', 'RolloutInProgressError');
    const cancelled = new CancelledFailure('cancelled');
    expect(toActivityFailure(application)).toBe(application);
    expect(toActivityFailure(cancelled)).toBe(cancelled);
    expect(toActivityFailure('a string')).toBe('a string');
  });

  it('wraps every activity of a set, and keeps what they return', async () => {
    const activities = withActivityFailures({
      ok: async (n: number) => n + 1,
      bad: async () => {
        throw new TargetError('target "y" is constant');
      },
    });
    await expect(activities.ok(1)).resolves.toBe(2);
    await expect(activities.bad()).rejects.toMatchObject({ type: 'TargetError', nonRetryable: true });
  });
});
