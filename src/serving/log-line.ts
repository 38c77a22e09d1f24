import { copyField } from '../db/copy-text';

// One prediction as one line of COPY text: what the spool stores and the log's COPYs send.

export interface PredictionLogEntry {
  id: string;
  model: string;
  version: number;
  /** The raw instance as the client sent it. */
  inputs: Record<string, unknown>;
  /**
   * The row's outputs as JSON text, by task (src/serving/task-outputs.ts): binary
   * `{"probability","label"}`, regression `{"prediction"}`, multiclass `{"label": "<class>",
   * "probabilities": [...]}`; null when inference failed (`error` says why).
   */
  outputs: string | null;
  /** Validation and inference time of the request's whole batch (the body upload excluded). */
  latencyMs: number;
  createdAt: Date;
  /** A shadow prediction: scored on mirrored traffic, never returned. */
  shadow?: boolean;
  /** For a shadow prediction: the id of the prediction returned for the same row. */
  primaryId?: string;
  /** Why inference failed for this (valid) row. */
  error?: string;
}

/**
 * A prediction as one line of a `prediction_log` COPY (COLUMNS order, tab-separated, newline at
 * the end), made when it is queued: a flat string is what the flush sends, and it costs the
 * garbage collector less than the entry's objects (and the request body they reference) would
 * while it waits.
 */
export type LogLine = string;

export const COLUMNS = ['id', 'model_name', 'version', 'inputs', 'outputs', 'latency_ms', 'created_at', 'shadow', 'primary_id', 'error'];

/** Rows of one request share a Date, and requests arrive many per millisecond: format each ms once. */
let lastTime = Number.NaN;
let lastIso = '';
function iso(date: Date): string {
  const time = date.getTime();
  if (time !== lastTime) {
    lastTime = time;
    lastIso = date.toISOString();
  }
  return lastIso;
}

/**
 * The rows of one request share a version and a latency: each number is formatted once for all
 * of them (the COPY encoder would format it per row, and a latency has up to 17 digits).
 */
let lastVersion = Number.NaN;
let lastVersionText = '';
let lastLatency = Number.NaN;
let lastLatencyText = '';
function versionText(version: number): string {
  if (version !== lastVersion) {
    lastVersion = version;
    lastVersionText = String(version);
  }
  return lastVersionText;
}
/** Whole microseconds: enough for a latency, and short digits are much cheaper to format than a double's 17. */
function latencyText(ms: number): string {
  if (ms !== lastLatency) {
    lastLatency = ms;
    lastLatencyText = String(Math.round(ms * 1000) / 1000);
  }
  return lastLatencyText;
}

/** The entry as a COPY line: inputs and outputs as JSON text, numbers as text formatted once per request. */
export function logLine(e: PredictionLogEntry): LogLine {
  return `${copyField(e.id)}\t${e.model}\t${versionText(e.version)}\t${inputsField(e.inputs)}\t${e.outputs === null ? NULL : jsonField(e.outputs)}\t${latencyText(e.latencyMs)}\t${iso(e.createdAt)}\t${e.shadow === true ? 't' : 'f'}\t${e.primaryId === undefined ? NULL : copyField(e.primaryId)}\t${e.error === undefined ? NULL : copyField(jsonbSafeText(e.error))}\n`;
}

const NULL = '\\N';

/**
 * The inputs as JSON text in a COPY field. JSON.stringify escapes control characters (tab and
 * newline among them) with a backslash, and writes \u0000 and unpaired surrogates as escapes
 * too; so text without a backslash — nearly every row — is ready as it is.
 */
function inputsField(inputs: Record<string, unknown>): string {
  const json = JSON.stringify(inputs);
  return json.includes('\\') ? doubleBackslashes(JSON.stringify(jsonbSafe(inputs))) : json;
}

/** JSON text as a COPY field: it has no raw control characters, only backslashes to double. */
function jsonField(json: string): string {
  return json.includes('\\') ? doubleBackslashes(json) : json;
}

function doubleBackslashes(text: string): string {
  return text.replaceAll('\\', '\\\\');
}

/**
 * jsonb (and text) reject the \u0000 escape and unpaired surrogates, and one such value would fail
 * its whole COPY batch. The server refuses requests whose strings hold them (a 400 naming the
 * feature: request-limits.ts), so the log stores inputs as received; this is the last guard, for a
 * writer that did not check, so that one row cannot cost a batch of others.
 */
function jsonbSafe(inputs: Record<string, unknown>): Record<string, unknown> {
  let safe: Record<string, unknown> | undefined;
  for (const key in inputs) {
    const value = inputs[key];
    if (typeof value === 'string' && JSONB_UNSAFE_TEST.test(value)) {
      safe ??= { ...inputs };
      safe[key] = value.replace(JSONB_UNSAFE, '\uFFFD');
    }
  }
  // Almost always: nothing to replace, no copy.
  return safe ?? inputs;
}

const JSONB_UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const JSONB_UNSAFE_TEST = new RegExp(JSONB_UNSAFE.source);

export function jsonbSafeText(text: string): string {
  return JSONB_UNSAFE_TEST.test(text) ? text.replace(JSONB_UNSAFE, '\uFFFD') : text;
}
