import { randomFillSync } from 'node:crypto';

/**
 * Prediction ids: UUID version 7 (RFC 9562) — 48 bits of Unix milliseconds, then 74 random bits.
 * Time-ordered ids keep inserts into prediction_log's primary key at the right edge of the
 * index, where random (v4) ids would touch a random leaf page per row; the ids also sort by
 * time. Random bytes are drawn in blocks, like crypto.randomUUID does.
 */
const POOL_IDS = 512;
const pool = new Uint8Array(16 * POOL_IDS);
let next = POOL_IDS;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function predictionId(now: number = Date.now()): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const r = next++ * 16;
  const high = Math.floor(now / 0x1_0000_0000);
  const low = now >>> 0;
  return (
    HEX[(high >>> 8) & 0xff] +
    HEX[high & 0xff] +
    HEX[low >>> 24] +
    HEX[(low >>> 16) & 0xff] +
    '-' +
    HEX[(low >>> 8) & 0xff] +
    HEX[low & 0xff] +
    '-' +
    HEX[0x70 | (pool[r + 6] & 0x0f)] +
    HEX[pool[r + 7]] +
    '-' +
    HEX[0x80 | (pool[r + 8] & 0x3f)] +
    HEX[pool[r + 9]] +
    '-' +
    HEX[pool[r + 10]] +
    HEX[pool[r + 11]] +
    HEX[pool[r + 12]] +
    HEX[pool[r + 13]] +
    HEX[pool[r + 14]] +
    HEX[pool[r + 15]]
  );
}
