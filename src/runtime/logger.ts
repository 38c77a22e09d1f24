import { pino } from 'pino';

/** Structured logs: one JSON object per line on stderr, so stdout stays for what users read. */
export function createLogger(level: string) {
  return pino({ level, base: { app: 'keel' } }, pino.destination(2));
}
