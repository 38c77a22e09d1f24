import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { failureText, reportFailure } from '../../src/cli/failure';
import { summarizeFailure } from '../../src/shared/failure-chain';
import { redactSecrets } from '../../src/shared/redact';

const message = 'target "delay" must be a finite number, but dataset row 7 has null';

/** The chain the client throws for a pipeline whose training activity failed for good. */
function failedPipeline(root = message) {
  const application = ApplicationFailure.create({ message: root, type: 'TargetError', nonRetryable: true, details: [{ attempt: 1 }] });
  const activity = new ActivityFailure(
    'Activity task failed',
    'trainModel',
    '7',
    RetryState.NON_RETRYABLE_FAILURE,
    'worker@host',
    application,
  );
  return new WorkflowFailedError('Workflow execution failed', activity, RetryState.NON_RETRYABLE_FAILURE);
}

describe('summarizeFailure', () => {
  it('finds the root cause and its type under the SDK wrappers, and keeps the chain', () => {
    expect(summarizeFailure(failedPipeline())).toEqual({
      error: message,
      type: 'TargetError',
      nonRetryable: true,
      attempts: 1,
      cause: [
        { kind: 'WorkflowFailedError', message: 'Workflow execution failed' },
        { kind: 'ActivityFailure', message: 'Activity task failed', activityType: 'trainModel' },
        { kind: 'ApplicationFailure', message, type: 'TargetError', nonRetryable: true, attempt: 1 },
      ],
    });
  });

  it('reads a plain error as a chain of one', () => {
    expect(summarizeFailure(new Error('no training run "x"'))).toEqual({
      error: 'no training run "x"',
      type: 'Error',
      nonRetryable: false,
      cause: [{ kind: 'Error', message: 'no training run "x"' }],
    });
  });

  it('redacts secrets in every link', () => {
    const leaky = failedPipeline('postgres source "sales" (postgres://keel:s3cret@db:5432/sales) failed: password=hunter2, token: abc.def');
    const summary = summarizeFailure(new Error('the pipeline failed', { cause: leaky }));
    const text = JSON.stringify(summary) + failureText(summary);
    expect(text).not.toMatch(/s3cret|hunter2|abc\.def/);
    expect(summary.error).toBe('postgres source "sales" (postgres://keel:***@db:5432/sales) failed: password=***, token: ***');
  });
});

describe('the CLI failure report', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('prints the root cause with its type, then the chain, on stderr', () => {
    expect(failureText(summarizeFailure(failedPipeline())).split('\n')).toEqual([
      `keel: TargetError: ${message}`,
      '  WorkflowFailedError: Workflow execution failed',
      '  ← ActivityFailure (trainModel): Activity task failed',
      `  ← ApplicationFailure [TargetError, non-retryable, attempt 1]: ${message}`,
    ]);
    expect(failureText(summarizeFailure(new Error('no dataset version matches "ff"')))).toBe('keel: no dataset version matches "ff"');
  });

  it('prints { error, type, cause } on stdout with --json, and sets a non-zero exit code', () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    reportFailure(failedPipeline(), true);
    const printed = JSON.parse(String(stdout.mock.calls[0][0])) as { error: string; type: string; cause: { kind: string }[] };
    expect(printed).toMatchObject({ error: message, type: 'TargetError' });
    expect(printed.cause.map((link) => link.kind)).toEqual(['WorkflowFailedError', 'ActivityFailure', 'ApplicationFailure']);
    expect(process.exitCode).toBe(1);
  });
});

describe('redactSecrets', () => {
  it('hides URL passwords, key=value secrets and bearer tokens, and leaves the rest', () => {
    expect(redactSecrets('https://user:pw@example.com/x and http://example.com/y')).toBe(
      'https://user:***@example.com/x and http://example.com/y',
    );
    expect(redactSecrets('api_key="k-123" secret=\'s\' Authorization: Bearer eyJ.abc')).toBe(
      'api_key=*** secret=*** Authorization: Bearer ***',
    );
    expect(redactSecrets('dataset row 7 has null')).toBe('dataset row 7 has null');
  });
});
