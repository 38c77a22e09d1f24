import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { InvalidInputError } from '../shared/errors';
import type { batchFileFormats } from '../shared/batch-score';
import type { ScoredChunk } from './scored-columns';

export type BatchFileFormat = (typeof batchFileFormats)[number];

/** The absolute path of a part file; refuses what would leave the operator's output directory. */
export function outputPath(outputRoot: string, directory: string, file: string): string {
  const root = resolve(outputRoot);
  const path = resolve(root, directory, file);
  const inside = relative(root, path);
  if (inside.startsWith('..') || inside === '' || resolve(inside) === inside) {
    throw new InvalidInputError(`output.directory: "${directory}" is outside KEEL_BATCH_OUTPUT_DIR (${root})`);
  }
  return path;
}

/** The bytes of a chunk in a format: the same chunk always gives the same bytes. */
export function encodeChunk(chunk: ScoredChunk, format: BatchFileFormat): Uint8Array {
  switch (format) {
    case 'parquet':
      return new Uint8Array(
        parquetWriteBuffer({
          columnData: chunk.columns.map((c) => ({
            name: c.name,
            data: c.values,
            type: c.type === 'double' ? 'DOUBLE' : c.type === 'integer' ? 'INT32' : 'STRING',
          })),
        }),
      );
    case 'csv':
      return Buffer.from(
        stringify(
          Array.from({ length: chunk.rowCount }, (_, i) => chunk.columns.map((c) => c.values[i] ?? '')),
          { header: true, columns: chunk.columns.map((c) => c.name) },
        ),
      );
    case 'jsonl': {
      let text = '';
      for (let i = 0; i < chunk.rowCount; i++)
        text += `${JSON.stringify(Object.fromEntries(chunk.columns.map((c) => [c.name, c.values[i]])))}\n`;
      return Buffer.from(text);
    }
  }
}

/**
 * Writes a part file whole or not at all: to a temporary name, then renamed over the final one.
 * A retry writes the same bytes to the same name, so a second write leaves the same file.
 */
export async function writeChunkFile(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}.tmp`);
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}
