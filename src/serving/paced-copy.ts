import { setTimeout as sleep } from 'node:timers/promises';
import { type CopyClient, openCopy } from '../db/postgres-copy';

/** Characters of COPY text per slice, at least: about 40 prediction-log rows. */
export const MIN_SLICE_CHARS = 16 * 1024;
/** Slices per COPY, at most: a larger batch gets larger slices, so the pauses never limit the rate a log can be written at. */
export const MAX_SLICES = 64;
/** The pause between slices: PostgreSQL's backend waits for data in it, off the cores. */
const PAUSE_MS = 1;

/**
 * COPY … FROM STDIN of COPY text, sent in slices of whole lines with a pause between them; one
 * statement, so one transaction, as before.
 *
 * PostgreSQL parses and inserts COPY rows as their data arrives. Sent at once, each 200 ms batch
 * of the prediction log kept a backend busy for ~2 ms without a pause. Where the backend shares
 * the cores with the model server and its clients, a thread woken onto its core (the client with
 * its answer, the event loop with a request) waited for the backend's time slice: the largest
 * cause of the c=1 tail in `bench:serve` (`perf sched`: the backend ran on the core a woken
 * client waited for in most of the delays over 0.5 ms). In slices, the backend works in short
 * runs and sleeps between them. docs/benchmarks.md has the measurements.
 */
export async function copyPaced(sql: CopyClient, table: string, columns: readonly string[], texts: readonly string[]): Promise<void> {
  const slices = sliceLines(texts);
  const writable = await openCopy(sql, table, columns);
  const finished = new Promise<void>((resolve, reject) => {
    writable.on('error', reject);
    writable.on('finish', resolve);
    // Closed without finishing or an error (the connection gone during a pause): fail, never hang.
    writable.on('close', () => reject(new Error('the COPY stream closed before the COPY finished')));
  });
  // A failure during a pause is awaited below, not unhandled meanwhile.
  finished.catch(() => {});
  for (let i = 0; i < slices.length; i++) {
    if (i > 0) await sleep(PAUSE_MS);
    if (writable.destroyed) return finished;
    writable.write(slices[i]);
  }
  writable.end();
  return finished;
}

/**
 * `texts` (COPY lines, each ending in a newline) cut into at most about MAX_SLICES slices of at
 * least MIN_SLICE_CHARS, each ending at the end of a line (a line longer than a slice is a slice
 * of its own, whole). Joined, the slices are the texts.
 */
export function sliceLines(texts: readonly string[]): string[] {
  const total = texts.reduce((chars, text) => chars + text.length, 0);
  const target = Math.max(MIN_SLICE_CHARS, Math.ceil(total / MAX_SLICES));
  const slices: string[] = [];
  for (const text of texts) {
    for (let from = 0; from < text.length;) {
      let to = from + target;
      if (to >= text.length) to = text.length;
      else {
        const lineEnd = text.lastIndexOf('\n', to - 1);
        to = lineEnd >= from ? lineEnd + 1 : text.indexOf('\n', to) + 1 || text.length;
      }
      slices.push(text.slice(from, to));
      from = to;
    }
  }
  return slices;
}
