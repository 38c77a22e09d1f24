import type { GbdtCheckpoint, GbdtProgress } from './booster';
import type { GbdtTree } from './tree';

/**
 * How progress crosses from the training thread to its parent. A checkpoint holds every tree so
 * far; posted whole, each message was a structured clone of the entire model, deserialised into
 * a fresh object graph on the parent's heap. Over a long run that is quadratic: 3,000
 * native-split trees checkpointed every 10 iterations made 300 copies of up to 3,000 trees (about
 * 1.2 GB of JSON), a parent heap of 2.8 GB, and a worker crashed in V8 while deserialising one.
 *
 * So a checkpoint message carries only the trees grown since the previous one, and the parent
 * appends them to the trees it already has. Each checkpoint it hands on is a new array over the
 * same tree objects: holding many checkpoints (a slow store) costs one copy of the trees.
 */

/** A checkpoint as posted: `trees` holds the trees after the first `treesBefore`. */
type CheckpointMessage = GbdtCheckpoint & { treesBefore: number };

export type GbdtProgressMessage = Omit<GbdtProgress, 'checkpoint'> & { checkpoint?: CheckpointMessage };

/** Training-thread side: turns each progress report into its message (stateful: one per run). */
export function progressEncoder(): (progress: GbdtProgress) => GbdtProgressMessage {
  let sent = 0;
  return (progress) => {
    const { checkpoint } = progress;
    if (!checkpoint) return progress as GbdtProgressMessage;
    const message: GbdtProgressMessage = {
      ...progress,
      checkpoint: { ...checkpoint, trees: checkpoint.trees.slice(sent), treesBefore: sent },
    };
    sent = checkpoint.trees.length;
    return message;
  };
}

/** Parent side: the progress report again, its checkpoint whole (stateful: one per run). */
export function progressDecoder(): (message: GbdtProgressMessage) => GbdtProgress {
  const trees: GbdtTree[] = [];
  return (message) => {
    if (!message.checkpoint) return message;
    // The spread keeps the keys in the trainer's order, so the checkpoint's JSON is unchanged.
    const { treesBefore, ...checkpoint } = message.checkpoint;
    if (treesBefore !== trees.length) {
      throw new Error(`internal error: a checkpoint message continues after tree ${treesBefore}, ${trees.length} trees received`);
    }
    trees.push(...checkpoint.trees);
    return { ...message, checkpoint: { ...checkpoint, trees: [...trees] } };
  };
}
