import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Rows per block of `forEachBlockInTurns` for a light per-row pass (reading a field, hashing an
 * index): a few milliseconds of the event loop each on this 2-core VM.
 */
export const ROWS_PER_TURN = 20_000;

/**
 * Calls `work` for consecutive blocks [start, end) of [0, count), with an event-loop turn between
 * blocks. A pass over a dataset version's hundreds of thousands of rows, done at once, held the
 * event loop of the all-in-one process for up to half a second (docs/benchmarks.md, Soak): every
 * prediction the model server answered meanwhile waited.
 */
export async function forEachBlockInTurns(count: number, perTurn: number, work: (start: number, end: number) => void): Promise<void> {
  for (let start = 0; start < count; start += perTurn) {
    if (start > 0) await nextTurn();
    work(start, Math.min(count, start + perTurn));
  }
}
