import { open, type FileHandle } from 'node:fs/promises';
import { TextDecoder } from 'node:util';
import { InvalidInputError } from '../shared/errors';
import { resolveSourcePath } from './parquet-source';

/**
 * Text files for the CSV, JSON and JSONL sources: opened with errors that name the file, read in
 * 64 KiB chunks (memory stays bounded whatever the size) and decoded strictly, so a file in
 * another encoding than declared fails with its line instead of turning into U+FFFD soup.
 */

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'latin1' | 'windows-1252';

export interface TextFile {
  /** The path as configured, plus the resolved path when they differ: for messages. */
  where: string;
  size: number;
  /** Bytes read so far. */
  bytesRead(): number;
  /** Decoded text, chunk by chunk. */
  text(): AsyncGenerator<string>;
  close(): Promise<void>;
}

/** Opens a file for reading; a missing or unreadable file is an InvalidInputError naming it. */
export async function openTextFile(path: string, what: string, encoding: TextEncoding = 'utf-8'): Promise<TextFile> {
  const resolved = resolveSourcePath(path);
  const where = resolved === path ? path : `${path} (${resolved})`;
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(resolved, 'r');
    const stat = await handle.stat();
    if (stat.isDirectory()) {
      await handle.close();
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
    size = stat.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : (error as Error).message;
    const message = `cannot read ${what} file ${where}: ${reason}`;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EACCES') throw new InvalidInputError(message);
    throw new Error(message, { cause: error });
  }
  let bytes = 0;
  return {
    where,
    size,
    bytesRead: () => bytes,
    text: () =>
      decodeText(
        (async function* () {
          for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 16, autoClose: false, start: 0 })) {
            bytes += (chunk as Buffer).length;
            yield chunk as Buffer;
          }
        })(),
        encoding,
        where,
      ),
    close: () => handle.close(),
  };
}

/**
 * Decodes byte chunks. A byte order mark decides the encoding by itself (UTF-8, UTF-16 LE/BE) and
 * is dropped. UTF-8 and UTF-16 are decoded strictly: an invalid sequence throws an
 * InvalidInputError naming the line and byte offset. latin1/windows-1252 accept every byte.
 */
async function* decodeText(chunks: AsyncIterable<Uint8Array>, declared: TextEncoding, where: string): AsyncGenerator<string> {
  let decoder: TextDecoder | undefined;
  let encoding: string = declared;
  let bytesBefore = 0;
  let linesBefore = 0;
  let head: Uint8Array = new Uint8Array(0);
  for await (const chunk of chunks) {
    let bytes: Uint8Array = chunk;
    if (!decoder) {
      // Wait for enough bytes to see a byte order mark.
      head = concat(head, bytes);
      if (head.length < 3) continue;
      bytes = head;
      const bom = byteOrderMark(bytes);
      if (bom) encoding = bom;
      decoder = makeDecoder(encoding);
    }
    let text: string;
    try {
      text = decoder.decode(bytes, { stream: true });
    } catch {
      throw invalidText(bytes, encoding, where, bytesBefore, linesBefore);
    }
    bytesBefore += bytes.length;
    linesBefore += countNewlines(text);
    if (text) yield text;
  }
  if (!decoder) {
    // A file shorter than three bytes.
    if (head.length === 0) return;
    const bom = byteOrderMark(head);
    if (bom) encoding = bom;
    decoder = makeDecoder(encoding);
    let text: string;
    try {
      text = decoder.decode(head, { stream: true });
    } catch {
      throw invalidText(head, encoding, where, 0, 0);
    }
    bytesBefore = head.length;
    if (text) yield text;
  }
  let rest: string;
  try {
    rest = decoder.decode();
  } catch {
    throw new InvalidInputError(`${where}: not valid ${encoding}: the file ends in the middle of a character (byte ${bytesBefore})`);
  }
  if (rest) yield rest;
}

function makeDecoder(encoding: string): TextDecoder {
  // WHATWG maps latin1 to windows-1252, a superset for printable text.
  const label = encoding === 'latin1' ? 'windows-1252' : encoding;
  const strict = label === 'utf-8' || label.startsWith('utf-16');
  // ignoreBOM false: the decoder drops a leading BOM of its own encoding.
  return new TextDecoder(label, { fatal: strict });
}

function byteOrderMark(bytes: Uint8Array): TextEncoding | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return undefined;
}

/** Locates the first invalid sequence of a chunk that failed strict decoding. */
function invalidText(bytes: Uint8Array, encoding: string, where: string, bytesBefore: number, linesBefore: number): InvalidInputError {
  const lenient = new TextDecoder(encoding, { fatal: false }).decode(bytes);
  const bad = lenient.indexOf('\uFFFD');
  const prefix = bad >= 0 ? lenient.slice(0, bad) : lenient;
  const line = linesBefore + countNewlines(prefix) + 1;
  const offset = bytesBefore + (encoding === 'utf-8' ? Buffer.byteLength(prefix, 'utf8') : prefix.length * 2);
  const sample = Buffer.from(bytes.subarray(Math.max(0, offset - bytesBefore), offset - bytesBefore + 4)).toString('hex');
  return new InvalidInputError(
    `${where}: not valid ${encoding} at line ${line} (byte ${offset}, bytes ${sample}); ` +
      `if the file uses another encoding, declare it in the source, e.g. "encoding": "latin1"`,
  );
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
