import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../src/shared/prng';

/**
 * The benchmark's data: a seeded synthetic reference and window of `rows` rows each over 50
 * features — 30 numeric (bell, skewed, uniform, heavy-tailed, small integers; about 1 % missing)
 * and 20 categorical (2 to 300 categories, Zipf-like weights; about 1 % missing) — with 6 numeric
 * and 4 categorical columns drifted in the window. Written as .npy (float64, NaN = missing) and
 * text files (one value per line, '' = missing), so keel and SciPy read identical values.
 */

interface ColumnMeta {
  name: string;
  kind: 'numeric' | 'categorical';
  drifted: boolean;
}

export interface BenchData {
  rows: number;
  columns: ColumnMeta[];
}

const NUMERIC = 30;
const CATEGORICAL = 20;
/** Drifted in the window: one or two of each numeric shape, and the 12-category columns. */
const DRIFTED_NUMERIC = new Set([0, 7, 10, 13, 20, 21]);
const DRIFTED_CATEGORICAL = new Set([2, 7, 12, 17]);

/** Fills `out` with the next values of a numeric column (seeded; chunk after chunk, the same sequence as one call). */
export function numericGenerator(index: number, seed: number, drift: number): (out: Float64Array) => Float64Array {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const shape = index % 5;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      let x: number;
      if (shape === 0) x = 50 + 10 * normal() + drift * 10;
      else if (shape === 1) x = Math.exp(0.5 * normal() + drift * 0.5) * 100;
      else if (shape === 2) x = random() * (1000 + drift * 1000);
      else if (shape === 3) x = normal() / Math.max(0.05, random()) + drift * 10;
      else x = Math.floor(random() * (7 + drift * 3));
      out[i] = random() < 0.01 ? Number.NaN : x;
    }
    return out;
  };
}

function numericColumn(index: number, rows: number, seed: number, drift: number): Float64Array {
  return numericGenerator(index, seed, drift)(new Float64Array(rows));
}

/** Fills `out` with the next values of a categorical column ('' = missing), as numericGenerator. */
export function categoricalGenerator(index: number, seed: number, drift: number): (out: string[]) => string[] {
  const random = mulberry32(seed);
  const cardinality = [2, 5, 12, 50, 300][index % 5];
  // Zipf-like weights; drift reverses part of the order.
  const weights = Array.from({ length: cardinality }, (_, k) => 1 / (k + 1));
  if (drift) for (let k = 0; k < Math.ceil(cardinality / 2); k++) weights[k] = weights[cardinality - 1 - k] * (1 + drift);
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let running = 0;
  for (const w of weights) cumulative.push((running += w / total));
  const labels = Array.from({ length: cardinality }, (_, k) => `c${index}_${k}`);
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      if (random() < 0.01) {
        out[i] = '';
        continue;
      }
      const u = random();
      let lo = 0;
      let hi = cardinality - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cumulative[mid] < u) lo = mid + 1;
        else hi = mid;
      }
      out[i] = labels[lo];
    }
    return out;
  };
}

function categoricalColumn(index: number, rows: number, seed: number, drift: number): string[] {
  return categoricalGenerator(index, seed, drift)(new Array<string>(rows));
}

export function generate(dir: string, rows: number): BenchData {
  mkdirSync(dir, { recursive: true });
  const columns: ColumnMeta[] = [];
  for (let i = 0; i < NUMERIC; i++) {
    const meta = { name: `num_${String(i).padStart(2, '0')}`, kind: 'numeric' as const, drifted: DRIFTED_NUMERIC.has(i) };
    columns.push(meta);
    writeNpy(join(dir, `${meta.name}.reference.npy`), numericColumn(i, rows, 1000 + i, 0));
    writeNpy(join(dir, `${meta.name}.current.npy`), numericColumn(i, rows, 2000 + i, meta.drifted ? 0.3 : 0));
  }
  for (let i = 0; i < CATEGORICAL; i++) {
    const meta = { name: `cat_${String(i).padStart(2, '0')}`, kind: 'categorical' as const, drifted: DRIFTED_CATEGORICAL.has(i) };
    columns.push(meta);
    writeFileSync(join(dir, `${meta.name}.reference.txt`), categoricalColumn(i, rows, 3000 + i, 0).join('\n'));
    writeFileSync(join(dir, `${meta.name}.current.txt`), categoricalColumn(i, rows, 4000 + i, meta.drifted ? 0.5 : 0).join('\n'));
  }
  const data = { rows, columns };
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(data));
  return data;
}

export function load(dir: string): {
  data: BenchData;
  reference: Record<string, Float64Array | string[]>;
  current: Record<string, Float64Array | string[]>;
} {
  const data = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as BenchData;
  const reference: Record<string, Float64Array | string[]> = {};
  const current: Record<string, Float64Array | string[]> = {};
  for (const column of data.columns) {
    for (const [side, target] of [
      ['reference', reference],
      ['current', current],
    ] as const) {
      target[column.name] =
        column.kind === 'numeric'
          ? readNpy(join(dir, `${column.name}.${side}.npy`))
          : readFileSync(join(dir, `${column.name}.${side}.txt`), 'utf8').split('\n');
    }
  }
  return { data, reference, current };
}

/** NumPy .npy (format 1.0), little-endian float64, one dimension. */
function writeNpy(path: string, array: Float64Array): void {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${array.length},), }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 11, ' ') + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix.writeUInt16LE(header.length, 8);
  writeFileSync(
    path,
    Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(array.buffer, array.byteOffset, array.byteLength)]),
  );
}

function readNpy(path: string): Float64Array {
  const bytes = readFileSync(path);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.toString('latin1', 10, 10 + headerLength);
  if (!header.includes("'<f8'")) throw new Error(`${path}: expected float64`);
  const body = bytes.subarray(10 + headerLength);
  const out = new Float64Array(body.length / 8);
  new Uint8Array(out.buffer).set(body);
  return out;
}

/** One column of the scaled benchmark: how to generate its reference and window values. */
export interface ScaledColumn extends ColumnMeta {
  index: number;
  referenceSeed: number;
  windowSeed: number;
  /** The drift applied to the window (0: none). */
  drift: number;
}

/**
 * `features` columns as generate() makes them, in its proportions (3 numeric : 2 categorical)
 * and with its drift pattern repeated (numeric i drifts when i mod 30 drifts there, categorical i
 * when i mod 20 does): 1 000 features hold 600 numeric and 400 categorical ones, 200 drifted.
 */
export function scaledColumns(features: number): ScaledColumn[] {
  const numeric = Math.round((features * NUMERIC) / (NUMERIC + CATEGORICAL));
  if (numeric > 1000 || features - numeric > 1000) throw new Error(`at most 1000 columns of a kind (seeds), got ${features} features`);
  const columns: ScaledColumn[] = [];
  for (let i = 0; i < numeric; i++) {
    const drifted = DRIFTED_NUMERIC.has(i % NUMERIC);
    columns.push({
      name: `num_${String(i).padStart(3, '0')}`,
      kind: 'numeric',
      drifted,
      index: i,
      referenceSeed: 1000 + i,
      windowSeed: 2000 + i,
      drift: drifted ? 0.3 : 0,
    });
  }
  for (let i = 0; i < features - numeric; i++) {
    const drifted = DRIFTED_CATEGORICAL.has(i % CATEGORICAL);
    columns.push({
      name: `cat_${String(i).padStart(3, '0')}`,
      kind: 'categorical',
      drifted,
      index: i,
      referenceSeed: 3000 + i,
      windowSeed: 4000 + i,
      drift: drifted ? 0.5 : 0,
    });
  }
  return columns;
}
