import type { InferenceSession } from 'onnxruntime-node';

/**
 * How every keel onnxruntime session runs: the model server, evaluation and batch scoring. One
 * intra-op thread: parallelism comes from running several sessions (inference threads, batch
 * chunks), and ORT's default (a thread per core in every session) would oversubscribe the cores.
 * It also fixes the order in which a tree ensemble sums its trees, so a score is the same float32
 * wherever it is computed: batch outputs equal the server's answers to the bit.
 */
export const onnxSessionOptions: InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};
