/**
 * Writes the newest of a stream of values, one write at a time. A value offered while a write is
 * in flight replaces any other still waiting, so a writer slower than the stream falls behind by
 * at most one value instead of by a backlog that grows (and must all be written before `flush`
 * returns). Training checkpoints are such a stream: only the newest one is worth storing.
 *
 * `restFactor` bounds the writer's share of a core: after a write that took w ms it rests
 * w · restFactor ms before the next, so writes take at most 1 / (1 + restFactor) of the time.
 * A checkpoint of a long GBDT run is megabytes of JSON to serialise, hash and store; written back
 * to back they kept a second core busy for as long as training ran (3,000 trees: 14 s of CPU next
 * to 17 s of training). `flush` cuts a rest short.
 *
 * `write` should handle its own errors; one that rejects ends the current drain, and `flush`
 * rejects with it.
 */
export function latestWins<T>(
  write: (value: T) => Promise<void>,
  { restFactor = 0 }: { restFactor?: number } = {},
): { offer(value: T): void; flush(): Promise<void> } {
  let waiting: { value: T } | undefined;
  let draining: Promise<void> | undefined;
  let flushing = false;
  let endRest: (() => void) | undefined;

  async function drain(): Promise<void> {
    try {
      while (waiting) {
        const { value } = waiting;
        waiting = undefined;
        const started = performance.now();
        await write(value);
        const rest = (performance.now() - started) * restFactor;
        if (rest > 0 && !flushing) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, rest);
            endRest = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          endRest = undefined;
        }
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
      flushing = true;
      try {
        endRest?.();
        while (draining) await draining;
      } finally {
        flushing = false;
      }
    },
  };
}
