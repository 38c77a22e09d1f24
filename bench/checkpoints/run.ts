/**
 * `npm run bench:checkpoints [-- --rows 8000 --trees 3000 --every 10]`
 *
 * The long native-split GBDT of the Temporal-restart fault test, outside Temporal: 3,000 trees
 * (31 leaves, learning rate 0.02, no early stopping) on flight rows with hour, weekday, origin and
 * destination categorical, trained in a worker thread with a checkpoint every 10 iterations.
 * Each checkpoint is serialised to JSON on this thread, as the training activity does before
 * storing it. Before checkpoint messages carried only their new trees (progress-messages.ts), this
 * run's heap grew to 2.8 GB and a Temporal worker running it crashed in V8 deserialising one.
 *
 * Data: the first rows of bench:train's prepared flights (bench/train/prepare.ts, cached), split
 * 70/15 train/validation in order, like the fault tests' pipeline. Last line: JSON with `trees`,
 * `checkpoints`, `seconds`, `peak_heap_mb` (this thread, sampled at each checkpoint),
 * `peak_rss_mb`, `last_checkpoint_bytes`.
 */
import { parseArgs } from 'node:util';
import type { FeatureColumn } from '../../src/ml/feature-columns';
import { trainGbdtInWorkerThread } from '../../src/ml/gbdt/train';
import { loadRawSplits, prepareFlights } from '../train/prepare';

const log = (message: string) => console.error(`[bench:checkpoints] ${message}`);
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '8000' },
    trees: { type: 'string', default: '3000' },
    every: { type: 'string', default: '10' },
  },
});
const rows = Number(args.rows);
const trees = Number(args.trees);
const every = Number(args.every);

const { dir, meta } = await prepareFlights(100_000, 1000, log);
const { train } = loadRawSplits(dir, meta);
if (rows > train.targets.delayed.length) throw new Error(`--rows must be at most ${train.targets.delayed.length}`);

/** Rows [from, from + n) of the prepared columns, hour and weekday as categories (as keel.config.json declares them). */
function slice(from: number, n: number): { columns: FeatureColumn[]; labels: Float64Array } {
  const columns = train.columns.map((column): FeatureColumn => {
    if (column.kind === 'categorical') return { ...column, codes: column.codes.slice(from, from + n) };
    if (column.kind !== 'numeric') throw new Error(`unexpected column kind ${column.kind}`);
    const values = column.values.slice(from, from + n);
    if (column.name === 'distance') return { ...column, values };
    const dictionary = [...new Set(values)].map(String);
    return { name: column.name, kind: 'categorical', dictionary, codes: Int32Array.from(values, (v) => dictionary.indexOf(String(v))) };
  });
  return { columns, labels: train.targets.delayed.slice(from, from + n) };
}

const trainRows = Math.round(rows * 0.7);
const fit = slice(0, trainRows);
const validation = slice(trainRows, Math.round(rows * 0.15));
const params = { objective: 'binary', numTrees: trees, maxLeaves: 31, learningRate: 0.02, earlyStoppingRounds: 0 } as const;

const started = performance.now();
let checkpoints = 0;
let lastCheckpointBytes = 0;
let peakHeap = 0;
let saving = Promise.resolve();
const model = await trainGbdtInWorkerThread(
  { target: 'delayed', params, columns: fit.columns, labels: fit.labels, validation },
  {
    checkpointEvery: every,
    onProgress: ({ iteration, checkpoint }) => {
      if (!checkpoint) return;
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      saving = saving.then(() => {
        lastCheckpointBytes = Buffer.byteLength(JSON.stringify(checkpoint));
        checkpoints++;
      });
      if (iteration % 500 === 0) {
        const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
        log(`iteration ${iteration}: ${((performance.now() - started) / 1000).toFixed(1)} s, heap ${heapMb.toFixed(0)} MB`);
      }
    },
  },
);
await saving;
console.log(
  JSON.stringify({
    rows: trainRows,
    trees: model.trees.length,
    checkpoints,
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
    peak_heap_mb: Math.round(peakHeap / 2 ** 20),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    last_checkpoint_bytes: lastCheckpointBytes,
  }),
);
