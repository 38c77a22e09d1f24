/**
 * Deterministic train/validation/test assignment: a pure function of (seed, key), so every stage
 * recomputes the same split instead of storing or passing rows around. Pure JavaScript (no
 * node:crypto), so it also runs inside the Temporal workflow sandbox.
 */

export type SplitName = 'train' | 'validation' | 'test';

export interface SplitFractions {
  train: number;
  validation: number;
  test: number;
}

/** Structurally the `SplitSpec` of src/shared. */
export interface SeededSplit extends SplitFractions {
  seed: number;
}

const defaultFractions: SplitFractions = { train: 0.7, validation: 0.15, test: 0.15 };

export function assignSplit(key: string, seed: number, fractions: SplitFractions = defaultFractions): SplitName {
  checkFractions(fractions);
  return splitOf(key, seed, fractions);
}

/** Rows keyed by their index in the dataset version (rows are stored in a fixed order). */
export function partitionRows<T>(rows: readonly T[], split: SeededSplit): Record<SplitName, T[]> {
  const parts = emptyPartition<T>(split);
  partitionRowBlock(rows, split, parts, 0, rows.length);
  return parts;
}

/** The parts partitionRows fills, empty (after checking the fractions). */
export function emptyPartition<T>(split: SeededSplit): Record<SplitName, T[]> {
  checkFractions(split);
  return { train: [], validation: [], test: [] };
}

/** Rows [start, end) appended to their parts: partitionRows block by block, blocks in order. */
export function partitionRowBlock<T>(
  rows: readonly T[],
  split: SeededSplit,
  parts: Record<SplitName, T[]>,
  start: number,
  end: number,
): void {
  for (let index = start; index < end; index++) parts[splitOf(String(index), split.seed, split)].push(rows[index]);
}

/** How many of `rowCount` rows, keyed by index as in partitionRows, fall in each split. */
export function countSplits(rowCount: number, split: SeededSplit): Record<SplitName, number> {
  checkFractions(split);
  const counts: Record<SplitName, number> = { train: 0, validation: 0, test: 0 };
  for (let index = 0; index < rowCount; index++) counts[splitOf(String(index), split.seed, split)]++;
  return counts;
}

function checkFractions({ train, validation, test }: SplitFractions): void {
  const all = [train, validation, test];
  if (!all.every((fraction) => Number.isFinite(fraction) && fraction >= 0)) {
    throw new Error(`split fractions must be numbers >= 0, got train ${train}, validation ${validation}, test ${test}`);
  }
  const sum = train + validation + test;
  if (Math.abs(sum - 1) > 1e-9) {
    throw new Error(
      `split fractions must sum to 1, got ${Number(sum.toPrecision(12))} (train ${train}, validation ${validation}, test ${test})`,
    );
  }
}

function splitOf(key: string, seed: number, { train, validation }: SplitFractions): SplitName {
  // The top 32 bits of the hash as a uniform number in [0, 1).
  const u = hash32(`${seed}:${key}`) / 2 ** 32;
  if (u < train) return 'train';
  return u < train + validation ? 'validation' : 'test';
}

/**
 * FNV-1a over the string's UTF-16 code units (low byte, then high byte), followed by MurmurHash3's
 * 32-bit finaliser: FNV alone mixes short, similar keys ("1", "2", ...) poorly into the high bits
 * that decide the split. Changing this changes every existing split.
 */
function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    hash = Math.imul(hash ^ (unit & 0xff), 0x01000193);
    hash = Math.imul(hash ^ (unit >>> 8), 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
