import { redactSecrets } from './redact';

/**
 * A failure as its chain of causes, outermost first: `WorkflowFailedError` → `ActivityFailure` →
 * `ApplicationFailure` (with its type, e.g. `DataValidationError`). Pure and duck-typed (it reads
 * `name`, `message`, `type`, `nonRetryable` and `cause`), so the workflow can record it and every
 * client can print it without importing a Temporal package. Messages are redacted here, once.
 */

export interface FailureLink {
  /** The error class: WorkflowFailedError, ActivityFailure, ApplicationFailure, Error… */
  kind: string;
  message: string;
  /** An ApplicationFailure's type (the domain error's name). */
  type?: string;
  nonRetryable?: boolean;
  /** An ActivityFailure's activity type. */
  activityType?: string;
  /** The attempt that failed, which keel's activities put in their failures' details. */
  attempt?: number;
}

/** What a failed run tells: the root cause's message and type, and the whole chain. */
export interface FailureSummary {
  error: string;
  type?: string;
  nonRetryable: boolean;
  /** Attempts of the activity that failed, when it said. */
  attempts?: number;
  cause: FailureLink[];
}

/** Messages the SDK puts on wrapper failures, which say nothing of the cause. */
const wrapperMessages = new Set(['Workflow execution failed', 'Activity task failed', 'Child Workflow execution failed']);

/** The chain of `error` and its causes (at most 20 deep: a cycle must not hang a CLI). */
export function failureChain(error: unknown): FailureLink[] {
  const chain: FailureLink[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 20) {
    chain.push(linkOf(current));
    current = typeof current === 'object' ? (current as { cause?: unknown }).cause : undefined;
  }
  return chain;
}

/**
 * The root cause as one sentence and the chain. The root is the innermost link whose message says
 * something (the SDK's wrappers say only "Workflow execution failed").
 */
export function summarizeFailure(error: unknown): FailureSummary {
  const cause = failureChain(error);
  const telling = cause.filter((link) => !wrapperMessages.has(link.message) && link.message !== '');
  const root = telling.at(-1) ?? cause.at(-1) ?? { kind: 'Error', message: String(error) };
  const typed = [...cause].reverse().find((link) => link.type !== undefined);
  const attempts = cause.find((link) => link.attempt !== undefined)?.attempt;
  return {
    error: root.message,
    type: root.type ?? typed?.type ?? root.kind,
    nonRetryable: cause.some((link) => link.nonRetryable === true),
    ...(attempts !== undefined && { attempts }),
    cause,
  };
}

/**
 * Readable lines: the root cause with its type first, then the chain, one line per link, e.g.
 *   TargetError: target "delay" must be a finite number, but dataset row 7 has null
 *     WorkflowFailedError: Workflow execution failed
 *     ← ActivityFailure (trainModel): Activity task failed
 *     ← ApplicationFailure [TargetError, non-retryable, attempt 1]: target "delay" must be …
 */
export function failureLines(summary: FailureSummary): string[] {
  const head = summary.type && summary.type !== 'Error' ? `${summary.type}: ${summary.error}` : summary.error;
  if (summary.cause.length <= 1) return [head];
  return [head, ...summary.cause.map((link, depth) => `  ${depth === 0 ? '' : '← '}${describeLink(link)}`)];
}

function describeLink(link: FailureLink): string {
  const notes = [
    link.type !== undefined && link.type !== link.kind && link.type,
    link.nonRetryable && 'non-retryable',
    link.attempt !== undefined && `attempt ${link.attempt}`,
  ].filter(Boolean);
  return `${link.kind}${link.activityType ? ` (${link.activityType})` : ''}${notes.length ? ` [${notes.join(', ')}]` : ''}: ${link.message}`;
}

function linkOf(error: unknown): FailureLink {
  if (typeof error !== 'object') return { kind: typeof error, message: redactSecrets(String(error)) };
  const e = error as {
    name?: unknown;
    message?: unknown;
    type?: unknown;
    nonRetryable?: unknown;
    activityType?: unknown;
    details?: unknown;
  };
  const link: FailureLink = {
    kind: typeof e.name === 'string' && e.name !== '' ? e.name : 'Error',
    message: redactSecrets(typeof e.message === 'string' ? e.message : String(error)),
  };
  if (typeof e.type === 'string' && e.type !== '') link.type = e.type;
  if (e.nonRetryable === true) link.nonRetryable = true;
  if (typeof e.activityType === 'string') link.activityType = e.activityType;
  const attempt = Array.isArray(e.details) ? (e.details[0] as { attempt?: unknown } | null | undefined)?.attempt : undefined;
  if (typeof attempt === 'number') link.attempt = attempt;
  return link;
}
