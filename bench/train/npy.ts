import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Minimal NumPy .npy (format 1.0) reader and writer for little-endian typed arrays, so the
 * benchmark hands identical arrays to keel and to LightGBM (numpy.load reads them directly).
 */

type NpyArray = Float32Array | Float64Array | Int32Array | Uint8Array;

const dtypes: [string, new (buffer: ArrayBuffer) => NpyArray][] = [
  ['<f4', Float32Array],
  ['<f8', Float64Array],
  ['<i4', Int32Array],
  ['|u1', Uint8Array],
];

export function writeNpy(path: string, array: NpyArray, shape: number[] = [array.length]): void {
  const descr = dtypes.find(([, ctor]) => array instanceof ctor)?.[0];
  if (!descr) throw new Error('unsupported array type');
  if (shape.reduce((a, b) => a * b, 1) !== array.length)
    throw new Error(`shape [${shape.join(', ')}] does not match ${array.length} elements`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Magic (6) + version (2) + header length (2) + header + '\n' is padded to a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  writeFileSync(
    path,
    Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(array.buffer, array.byteOffset, array.byteLength)]),
  );
}

export function readNpy(path: string): { array: NpyArray; shape: number[] } {
  const bytes = readFileSync(path);
  if (bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path} is not a .npy file`);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.toString('latin1', 10, 10 + headerLength);
  const descr = /'descr': '([^']+)'/.exec(header)?.[1];
  const shape = (/'shape': \(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const ctor = dtypes.find(([d]) => d === descr)?.[1];
  if (!ctor || header.includes("'fortran_order': True")) throw new Error(`${path}: unsupported dtype ${descr}`);
  const data = bytes.subarray(10 + headerLength);
  const copy = new ArrayBuffer(data.length);
  new Uint8Array(copy).set(data);
  return { array: new ctor(copy), shape };
}
