/**
 * A worker thread of `npm run bench:drift -- --scale` (scale.ts): it owns some of the columns and,
 * on request, (1) builds their drift references from the reference rows streamed in chunks, (2)
 * reduces the window, streamed in chunks, against the stored (JSON) references, (3) computes the
 * exact statistics on a subsample. Data come from bench:drift's generators, chunk after chunk.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { evaluateDrift } from '../../src/monitoring/drift';
import { DriftWindow } from '../../src/monitoring/drift-window';
import {
  categoricalDriftReference,
  DriftReferenceBuilder,
  numericDriftReference,
  type DriftReferenceSet,
} from '../../src/monitoring/reference';
import { categoricalGenerator, numericGenerator, type ScaledColumn } from './data';

export type ScaleRequest =
  | { phase: 'reference'; rows: number; chunk: number }
  | { phase: 'window'; rows: number; chunk: number }
  | { phase: 'exact'; referenceRows: number; windowRows: number };

const columns = (workerData as { columns: ScaledColumn[] }).columns;
let stored = '';

/** Streams `rows` rows of the columns in chunks of `chunk`: fn(chunk columns, n) per chunk; returns the seconds spent generating. */
function stream(
  side: 'reference' | 'window',
  rows: number,
  chunk: number,
  fn: (data: Record<string, Float64Array | string[]>, n: number) => void,
): number {
  const generators = columns.map((c) => {
    const seed = side === 'reference' ? c.referenceSeed : c.windowSeed;
    const drift = side === 'reference' ? 0 : c.drift;
    return c.kind === 'numeric' ? numericGenerator(c.index, seed, drift) : categoricalGenerator(c.index, seed, drift);
  });
  const buffers = columns.map((c) => (c.kind === 'numeric' ? new Float64Array(chunk) : new Array<string>(chunk)));
  let generating = 0;
  for (let start = 0; start < rows; start += chunk) {
    const n = Math.min(chunk, rows - start);
    const started = performance.now();
    const data: Record<string, Float64Array | string[]> = {};
    columns.forEach((c, k) => {
      const buffer = n === chunk ? buffers[k] : buffers[k].slice(0, n);
      data[c.name] = (generators[k] as (out: typeof buffer) => typeof buffer)(buffer);
    });
    generating += performance.now() - started;
    fn(data, n);
  }
  return generating / 1000;
}

function exactSubsample(referenceRows: number, windowRows: number): string[] {
  const reference: DriftReferenceSet = {};
  const current: Record<string, Float64Array | string[]> = {};
  for (const c of columns) {
    const one = { ...c };
    const make = (side: 'reference' | 'window', rows: number) => {
      const seed = side === 'reference' ? one.referenceSeed : one.windowSeed;
      const drift = side === 'reference' ? 0 : one.drift;
      return c.kind === 'numeric'
        ? numericGenerator(c.index, seed, drift)(new Float64Array(rows))
        : categoricalGenerator(c.index, seed, drift)(new Array<string>(rows));
    };
    const values = make('reference', referenceRows);
    // Every value kept: the statistics are exact, as SciPy computes them on the raw arrays.
    reference[c.name] = c.kind === 'numeric' ? numericDriftReference(values, { sampleSize: Infinity }) : categoricalDriftReference(values);
    current[c.name] = make('window', windowRows);
  }
  const result = evaluateDrift({ reference, current: { columns: current, rowCount: windowRows }, features: columns.map((c) => c.name) });
  return result.dataset.driftedColumns;
}

parentPort!.on('message', (request: ScaleRequest) => {
  const started = performance.now();
  if (request.phase === 'reference') {
    const builder = new DriftReferenceBuilder(
      columns.map((c) => ({ name: c.name, kind: c.kind })),
      { seed: 7 },
    );
    const generateS = stream('reference', request.rows, request.chunk, (data, n) => builder.addColumns(data, n));
    stored = JSON.stringify(builder.finish());
    parentPort!.postMessage({ references: stored, generate_s: generateS, seconds: (performance.now() - started) / 1000 });
  } else if (request.phase === 'window') {
    // The stored references, as the monitor reads them.
    const references = JSON.parse(stored) as DriftReferenceSet;
    const window = new DriftWindow(
      references,
      columns.map((c) => c.name),
    );
    const generateS = stream('window', request.rows, request.chunk, (data, n) => window.addColumns(data, n));
    parentPort!.postMessage({ window: window.snapshot(), generate_s: generateS, seconds: (performance.now() - started) / 1000 });
  } else {
    const drifted = exactSubsample(request.referenceRows, request.windowRows);
    parentPort!.postMessage({ drifted, seconds: (performance.now() - started) / 1000 });
  }
});
