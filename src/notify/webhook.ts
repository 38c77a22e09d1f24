/**
 * One webhook POST with a deadline. Retries and backoff are Temporal's job (the delivery runs as
 * an activity with a retry policy), so this function only classifies failures:
 *
 * - WebhookDeliveryError (retryable): timeout, network error, HTTP 5xx, 408 and 429;
 * - WebhookRejectedError (not retryable: list its name in the activity's nonRetryableErrorTypes):
 *   any other 4xx or 3xx left after redirects, and a URL that is not http(s).
 */

import type { ReadableStreamReadResult } from 'node:stream/web';

const WebhookDeliveryErrorType = 'WebhookDeliveryError';
export const WebhookRejectedErrorType = 'WebhookRejectedError';

export class WebhookDeliveryError extends Error {
  override readonly name = WebhookDeliveryErrorType;
  readonly retryable = true;
  constructor(
    message: string,
    /** HTTP status, when the receiver answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export class WebhookRejectedError extends Error {
  override readonly name = WebhookRejectedErrorType;
  readonly retryable = false;
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface DeliveryOptions {
  /** Deadline for the whole exchange, response body included. */
  timeoutMs: number;
  headers?: Record<string, string>;
  /** Sent as Idempotency-Key, for receivers that deduplicate (e.g. `<incident key>/<target>`). */
  idempotencyKey?: string;
  /** For tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface DeliveryResult {
  status: number;
  durationMs: number;
  /** The start of the response body (at most 1000 characters). */
  body: string;
}

const MAX_BODY = 1000;

export async function deliverWebhook(url: string, payload: unknown, options: DeliveryOptions): Promise<DeliveryResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookRejectedError(`invalid webhook URL ${JSON.stringify(redact(url))}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new WebhookRejectedError(`webhook URL must be http(s), got ${parsed.protocol}`);
  }
  const target = `${parsed.origin}${parsed.pathname.length > 1 ? '/…' : ''}`; // never log the secret path
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const started = performance.now();
  try {
    const response = await (options.fetch ?? fetch)(parsed, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'keel-notify/1',
        ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
        ...options.headers,
      },
      body: JSON.stringify(payload),
      signal: controller.signal,
    });
    const body = await readStart(response);
    const durationMs = performance.now() - started;
    const status = response.status;
    if (status >= 200 && status < 300) return { status, durationMs, body };
    const detail = `webhook ${target} answered HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`;
    if (status >= 500 || status === 408 || status === 429) throw new WebhookDeliveryError(detail, status);
    throw new WebhookRejectedError(detail, status);
  } catch (error) {
    if (error instanceof WebhookDeliveryError || error instanceof WebhookRejectedError) throw error;
    if (controller.signal.aborted) throw new WebhookDeliveryError(`webhook ${target} timed out after ${options.timeoutMs} ms`);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new WebhookDeliveryError(`webhook ${target} failed: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads at most MAX_BODY characters of the body and releases the connection. */
async function readStart(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < MAX_BODY) {
      const { done, value } = (await reader.read()) as ReadableStreamReadResult<Uint8Array>;
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text.slice(0, MAX_BODY);
}

function redact(url: string): string {
  return url.length > 24 ? `${url.slice(0, 24)}…` : url;
}
