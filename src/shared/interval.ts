import { z } from 'zod';

/**
 * Durations in configuration and workflow inputs: a whole number of seconds, minutes, hours or
 * days, e.g. `5m`, `24h` (what Temporal's intervals take). Pure module: bundled into workflows.
 */
export const intervalSchema = z.string().regex(/^\d+[smhd]$/, 'must be a number followed by s, m, h or d, e.g. "5m"');

/** A duration as `intervalSchema` reads it, in milliseconds. */
export function intervalMs(text: string): number {
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[text.slice(-1) as 's' | 'm' | 'h' | 'd'];
  return Number(text.slice(0, -1)) * unit;
}
