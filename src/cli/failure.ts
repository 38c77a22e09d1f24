import { failureLines, summarizeFailure, type FailureSummary } from '../shared/failure-chain';

/**
 * How every keel command reports a failure: the root cause with its type and the chain it came
 * through (`WorkflowFailedError` → `ActivityFailure` → `ApplicationFailure`), as text on stderr, or
 * with --json as `{ "error", "type", "nonRetryable", "cause": [...] }` on stdout; the exit code is
 * 1. Messages are redacted on the way (src/shared/failure-chain.ts).
 */
export function reportFailure(error: unknown, json: boolean): void {
  const summary = summarizeFailure(error);
  if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else process.stderr.write(`${failureText(summary)}\n`);
  process.exitCode = 1;
}

/**
 * `keel: <type>: <root cause>`, then the chain indented. An error of the CLI's own (a chain of
 * one: a bad flag, an unknown id) reads as its message alone; --json still gives its type.
 */
export function failureText(summary: FailureSummary): string {
  if (summary.cause.length <= 1) return `keel: ${summary.error}`;
  return failureLines(summary)
    .map((line, i) => (i === 0 ? `keel: ${line}` : line))
    .join('\n');
}
