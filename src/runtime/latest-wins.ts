/**
 * Writes the newest of a stream of values, one write at a time. A value offered while a write is
 * in flight replaces any other still waiting, so a writer slower than the stream falls behind by
 * at most one value instead of by a backlog that grows (and must all be written before `flush`
 * returns). Training checkpoints are such a stream: only the newest one is worth storing.
 *
 * `write` should handle its own errors; one that rejects ends the current drain, and `flush`
 * rejects with it.
 */
export function latestWins<T>(write: (value: T) => Promise<void>): { offer(value: T): void; flush(): Promise<void> } {
  let waiting: { value: T } | undefined;
  let draining: Promise<void> | undefined;

  async function drain(): Promise<void> {
    try {
      while (waiting) {
        const { value } = waiting;
        waiting = undefined;
        await write(value);
      }
    } finally {
      draining = undefined;
    }
  }

  return {
    offer(value) {
      waiting = { value };
      if (draining) return;
      draining = drain();
      // A failed write surfaces in `flush`; unawaited, it must not end the process.
      draining.catch(() => {});
    },
    async flush() {
      while (draining) await draining;
    },
  };
}
