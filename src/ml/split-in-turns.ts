import { forEachBlockInTurns, ROWS_PER_TURN } from './in-turns';
import { emptyPartition, partitionRowBlock, type SeededSplit, type SplitName } from './split';

/**
 * partitionRows a block of rows per event-loop turn (it hashes every row's index), for the
 * activities' main thread: the same parts.
 */
export async function partitionRowsInTurns<T>(rows: readonly T[], split: SeededSplit): Promise<Record<SplitName, T[]>> {
  const parts = emptyPartition<T>(split);
  await forEachBlockInTurns(rows.length, ROWS_PER_TURN, (start, end) => partitionRowBlock(rows, split, parts, start, end));
  return parts;
}
