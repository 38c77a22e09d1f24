import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { mapFlightRecord } from '../../src/data/flights-recipe';
import { readParquetRecords, resolveSourcePath } from '../../src/data/parquet-source';
import type { FeatureColumn } from '../../src/ml/feature-columns';
import { encodeTreeColumns, fitTreePipeline } from '../../src/ml/gbdt/tree-pipeline';
import { assignSplit } from '../../src/ml/split';
import { readNpy, writeNpy } from './npy';

/**
 * The benchmark's data: the first `rows` valid records of vega-datasets' flights-3m.parquet (read
 * with keel's parquet source and flights recipe), split 80/20 train/test by keel's split hash.
 * Written once as .npy files under ~/.cache/keel/bench-train/ and reused (keyed by the source
 * file's size and mtime), so keel and LightGBM read identical arrays:
 *
 * - raw columns for keel (hour, weekday, distance as float64; origin and destination as codes
 *   into a dictionary), the two targets — `delayed` (binary) and `delay` (arrival delay in
 *   minutes, for regression) — and the test mask;
 * - X_train / X_test (float32, rows × 5): the same rows after keel's tree feature pipeline
 *   (numeric as is; airports as frequency-rank codes fitted on the training rows), and the
 *   targets y_<target>_train / y_<target>_test, for LightGBM.
 */

const SOURCE = 'vega-datasets:flights-3m.parquet';
const FEATURES = ['hour', 'weekday', 'distance', 'origin', 'destination'] as const;
const CATEGORICAL = new Set(['origin', 'destination']);
const VERSION = 2;
const SPLIT = { seed: 42, train: 0.8, validation: 0, test: 0.2 };

export interface PreparedMeta {
  version: number;
  source: string;
  sourceKey: string;
  rows: number;
  trainRows: number;
  testRows: number;
  features: string[];
  dictionaries: Record<string, string[]>;
  maxCategories: number;
}

/** The benchmark's targets: `delayed` (0/1, binary) and `delay` (minutes, regression). */
export const TARGETS = ['delayed', 'delay'] as const;
export type Target = (typeof TARGETS)[number];

export interface RawSplit {
  columns: FeatureColumn[];
  targets: Record<Target, Float64Array>;
}

function cacheDir(rows: number): string {
  return join(process.env.KEEL_BENCH_CACHE ?? join(homedir(), '.cache', 'keel', 'bench-train'), `flights-${rows}`);
}

export async function prepareFlights(
  rows: number,
  maxCategories: number,
  log: (message: string) => void,
): Promise<{ dir: string; meta: PreparedMeta }> {
  const dir = cacheDir(rows);
  const stat = statSync(resolveSourcePath(SOURCE));
  const sourceKey = `${stat.size}:${stat.mtimeMs}`;
  const metaPath = join(dir, 'meta.json');
  if (existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as PreparedMeta;
    if (meta.version === VERSION && meta.sourceKey === sourceKey && meta.maxCategories === maxCategories) return { dir, meta };
  }
  log(`preparing ${rows} flight rows from ${SOURCE} into ${dir} (once; cached)`);
  const started = performance.now();
  const hour = new Float64Array(rows);
  const weekday = new Float64Array(rows);
  const distance = new Float64Array(rows);
  const origin = new Int32Array(rows);
  const destination = new Int32Array(rows);
  const delayed = new Float64Array(rows);
  const delay = new Float64Array(rows);
  const dictionaries: Record<string, Map<string, number>> = { origin: new Map(), destination: new Map() };
  const code = (feature: 'origin' | 'destination', value: string) => {
    const dictionary = dictionaries[feature];
    let c = dictionary.get(value);
    if (c === undefined) dictionary.set(value, (c = dictionary.size));
    return c;
  };
  const period = { from: '1900-01-01', to: '2100-01-01' };
  let n = 0;
  for await (const { record } of readParquetRecords(SOURCE)) {
    const outcome = mapFlightRecord(record, period);
    if (outcome.kind !== 'row') continue;
    const row = outcome.row;
    hour[n] = Number(row.hour);
    weekday[n] = Number(row.weekday);
    distance[n] = Number(row.distance);
    origin[n] = code('origin', String(row.origin));
    destination[n] = code('destination', String(row.destination));
    delayed[n] = Number(row.delayed);
    delay[n] = Number(row.delay);
    if (++n === rows) break;
  }
  if (n < rows) throw new Error(`${SOURCE} has only ${n} valid rows, ${rows} requested`);

  const test = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) test[i] = assignSplit(String(i), SPLIT.seed, SPLIT) === 'test' ? 1 : 0;

  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  const raw = { hour, weekday, distance, origin, destination, delayed, delay };
  for (const [name, array] of Object.entries(raw)) writeNpy(join(tmp, `${name}.npy`), array);
  writeNpy(join(tmp, 'test.npy'), test);
  const dictionaryLists = Object.fromEntries(Object.entries(dictionaries).map(([name, map]) => [name, [...map.keys()]]));

  // The encoded matrices for LightGBM: keel's tree pipeline fitted on the training rows.
  const split = loadRawFrom(raw, test, dictionaryLists);
  const pipeline = fitTreePipeline(split.train.columns, maxCategories);
  for (const part of ['train', 'test'] as const) {
    const encoded = encodeTreeColumns(pipeline, split[part].columns);
    const m = split[part].targets.delayed.length;
    const x = new Float32Array(m * encoded.length);
    for (let r = 0; r < m; r++) for (let f = 0; f < encoded.length; f++) x[r * encoded.length + f] = encoded[f][r];
    writeNpy(join(tmp, `X_${part}.npy`), x, [m, encoded.length]);
    for (const target of TARGETS) writeNpy(join(tmp, `y_${target}_${part}.npy`), split[part].targets[target]);
  }
  const meta: PreparedMeta = {
    version: VERSION,
    source: SOURCE,
    sourceKey,
    rows,
    trainRows: split.train.targets.delayed.length,
    testRows: split.test.targets.delayed.length,
    features: [...FEATURES],
    dictionaries: dictionaryLists,
    maxCategories,
  };
  writeFileSync(join(tmp, 'meta.json'), JSON.stringify(meta));
  mkdirSync(join(dir, '..'), { recursive: true });
  if (existsSync(dir)) renameSync(dir, `${dir}.old-${process.pid}`);
  renameSync(tmp, dir);
  log(`prepared in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { dir, meta };
}

/** The train and test splits as keel's feature columns (read back from the .npy files). */
export function loadRawSplits(dir: string, meta: PreparedMeta): { train: RawSplit; test: RawSplit } {
  const read = (name: string) => readNpy(join(dir, `${name}.npy`)).array;
  const raw = {
    hour: read('hour') as Float64Array,
    weekday: read('weekday') as Float64Array,
    distance: read('distance') as Float64Array,
    origin: read('origin') as Int32Array,
    destination: read('destination') as Int32Array,
    delayed: read('delayed') as Float64Array,
    delay: read('delay') as Float64Array,
  };
  return loadRawFrom(raw, read('test') as Uint8Array, meta.dictionaries);
}

function loadRawFrom(
  raw: { hour: Float64Array; weekday: Float64Array; distance: Float64Array; origin: Int32Array; destination: Int32Array } & Record<
    Target,
    Float64Array
  >,
  test: Uint8Array,
  dictionaries: Record<string, string[]>,
): { train: RawSplit; test: RawSplit } {
  const pick = (wantTest: number): RawSplit => {
    let m = 0;
    for (let i = 0; i < test.length; i++) if (test[i] === wantTest) m++;
    const subset = <T extends Float64Array | Int32Array>(array: T): T => {
      const out = new (array.constructor as new (n: number) => T)(m);
      for (let i = 0, j = 0; i < test.length; i++) if (test[i] === wantTest) out[j++] = array[i];
      return out;
    };
    const columns: FeatureColumn[] = FEATURES.map((name) =>
      CATEGORICAL.has(name)
        ? { name, kind: 'categorical', dictionary: dictionaries[name], codes: subset(raw[name as 'origin' | 'destination']) }
        : { name, kind: 'numeric', values: subset(raw[name as 'hour' | 'weekday' | 'distance']) },
    );
    return { columns, targets: { delayed: subset(raw.delayed), delay: subset(raw.delay) } };
  };
  return { train: pick(0), test: pick(1) };
}
