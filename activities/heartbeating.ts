import { heartbeat } from '@temporalio/activity';

/**
 * Runs `work` while heartbeating `details` at once and then every `everyMs`, so a phase that
 * reports no progress of its own (loading rows, scoring a split, storing a model) is not taken
 * for a dead worker by an activity's heartbeat timeout; `report` replaces the details sent.
 */
export async function heartbeating<T>(
  details: Record<string, unknown>,
  work: (report: (next: Record<string, unknown>) => void) => Promise<T>,
  everyMs = 1000,
): Promise<T> {
  let current = details;
  heartbeat(current);
  const timer = setInterval(() => heartbeat(current), everyMs);
  try {
    return await work((next) => {
      current = next;
      heartbeat(current);
    });
  } finally {
    clearInterval(timer);
  }
}
