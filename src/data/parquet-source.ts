import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { ParquetSourceSpec } from '../shared/dataset-spec';
import { InvalidInputError } from '../shared/errors';
import type { OpenedSource, SourceOptions, SourceRecord } from './source-types';

/** What is known about a row group before reading it: its rows and its column statistics. */
export interface RowGroupInfo {
  index: number;
  /** Absolute position of the group's first row in the file. */
  rowStart: number;
  /** Absolute position after the group's last row. */
  rowEnd: number;
  /** Min/max per top-level column, when the writer recorded them (hyparquet converts them). */
  statistics: Record<string, { min?: unknown; max?: unknown }>;
}

interface ParquetReadProgress {
  /** Records decoded and handed out so far. */
  recordsRead: number;
  /** Row groups finished (read or skipped) of `rowGroups`. */
  rowGroupsDone: number;
  rowGroups: number;
}

export interface ReadParquetOptions {
  /** Called after each row group. */
  onProgress?: (progress: ParquetReadProgress) => void;
  /**
   * Return true to skip a row group without decoding it, e.g. when its statistics show that no
   * row can match a filter. Must be conservative: skipping is an optimisation, not a filter.
   */
  skipRowGroup?: (group: RowGroupInfo) => boolean;
  /** Columns to decode (all when omitted). */
  columns?: string[];
}

const VEGA_PREFIX = 'vega-datasets:';

/** A file path, or `vega-datasets:<file>` for a file of the vega-datasets package's data dir. */
export function resolveSourcePath(path: string): string {
  if (!path.startsWith(VEGA_PREFIX)) return path;
  const file = path.slice(VEGA_PREFIX.length);
  if (!file || file.split(/[\\/]/).some((part) => part === '..' || part === '')) {
    throw new InvalidInputError(`invalid source path ${JSON.stringify(path)}: expected vega-datasets:<file>`);
  }
  let packageDir: string;
  try {
    packageDir = vegaDatasetsDir();
  } catch (error) {
    throw new InvalidInputError(
      `cannot resolve ${JSON.stringify(path)}: the vega-datasets package is not installed (${(error as Error).message})`,
    );
  }
  return join(packageDir, 'data', file);
}

/**
 * The vega-datasets package directory. Its `exports` map does not expose `package.json`, so when
 * that subpath is refused, resolve the entry point and walk up to the package's package.json.
 */
function vegaDatasetsDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve('vega-datasets/package.json'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw error;
  }
  let dir = dirname(require.resolve('vega-datasets'));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'vega-datasets') {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json of vega-datasets not found');
    dir = parent;
  }
}

/** Opens a parquet file and reads its footer; errors name the path. */
async function openParquet(path: string): Promise<{ file: AsyncBuffer; metadata: FileMetaData; resolvedPath: string }> {
  const resolvedPath = resolveSourcePath(path);
  const where = resolvedPath === path ? path : `${path} (${resolvedPath})`;
  let file: AsyncBuffer;
  try {
    file = await asyncBufferFromFile(resolvedPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = `cannot read parquet file ${where}: ${(error as Error).message}`;
    // A missing file or a directory is a wrong input; other I/O errors may be transient.
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw new InvalidInputError(message);
    throw new Error(message, { cause: error });
  }
  try {
    const metadata = await parquetMetadataAsync(file);
    return { file, metadata, resolvedPath };
  } catch (error) {
    throw new InvalidInputError(`${where} is not a readable parquet file: ${(error as Error).message}`);
  }
}

/**
 * Reads a parquet file one row group at a time (memory stays bounded by one group) and yields its
 * records one by one, in file order, each with its absolute 0-based record number. Stopping the
 * iteration early (break / return) stops reading.
 */
export async function* readParquetRecords(path: string, options: ReadParquetOptions = {}): AsyncGenerator<SourceRecord> {
  const { file, metadata } = await openParquet(path);
  yield* readOpenedParquet(file, metadata, path, options);
}

async function* readOpenedParquet(
  file: AsyncBuffer,
  metadata: FileMetaData,
  path: string,
  options: ReadParquetOptions,
): AsyncGenerator<SourceRecord> {
  const groups = rowGroupInfos(metadata);
  let recordsRead = 0;
  let rowGroupsDone = 0;
  for (const group of groups) {
    if (!options.skipRowGroup?.(group)) {
      let records: Record<string, unknown>[];
      try {
        records = await parquetReadObjects({
          file,
          metadata,
          compressors,
          columns: options.columns,
          rowStart: group.rowStart,
          rowEnd: group.rowEnd,
        });
      } catch (error) {
        throw new Error(`cannot decode row group ${group.index} of parquet file ${path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      for (let i = 0; i < records.length; i++) {
        yield { recordNumber: group.rowStart + i, record: records[i] };
      }
      recordsRead += records.length;
    }
    rowGroupsDone++;
    options.onProgress?.({ recordsRead, rowGroupsDone, rowGroups: groups.length });
  }
}

function rowGroupInfos(metadata: FileMetaData): RowGroupInfo[] {
  const infos: RowGroupInfo[] = [];
  let rowStart = 0;
  metadata.row_groups.forEach((group, index) => {
    const rows = Number(group.num_rows);
    const statistics: RowGroupInfo['statistics'] = {};
    for (const column of group.columns) {
      const meta = column.meta_data;
      if (!meta || meta.path_in_schema.length !== 1) continue;
      const stats = meta.statistics;
      if (!stats) continue;
      statistics[meta.path_in_schema[0]] = { min: stats.min_value ?? stats.min, max: stats.max_value ?? stats.max };
    }
    infos.push({ index, rowStart, rowEnd: rowStart + rows, statistics });
    rowStart += rows;
  });
  return infos;
}

/** The top-level field names of a parquet file (nested groups come back as objects). */
function parquetFields(metadata: FileMetaData): string[] {
  return parquetSchema(metadata).children.map((child) => child.element.name);
}

/**
 * A parquet file as a dataset source: one row group decoded at a time (ZSTD through
 * hyparquet-compressors; Snappy, gzip, brotli and LZ4 too), fields known from the footer.
 *
 * Columnar: a row group is decoded column by column and the records are views over those arrays.
 * The record object (and the SourceRecord around it) is reused for the next record: consumers
 * copy what they keep (the quarantine does). That saves millions of short-lived objects.
 */
export async function openParquetSource(spec: ParquetSourceSpec, name: string, options: SourceOptions = {}): Promise<OpenedSource> {
  const { file, metadata, resolvedPath } = await openParquet(spec.path);
  const where = resolvedPath === spec.path ? spec.path : `${spec.path} (${resolvedPath})`;
  const groups = rowGroupInfos(metadata);
  let done = 0;

  async function* records(): AsyncGenerator<SourceRecord> {
    for (const group of groups) {
      if (!options.skipRowGroup?.(group.statistics)) {
        const chunks = new Map<string, { rowStart: number; data: ArrayLike<unknown> }[]>();
        try {
          await parquetRead({
            file,
            metadata,
            compressors,
            rowStart: group.rowStart,
            rowEnd: group.rowEnd,
            onChunk: ({ columnName, columnData, rowStart }) => {
              let list = chunks.get(columnName);
              if (!list) chunks.set(columnName, (list = []));
              list.push({ rowStart, data: columnData as ArrayLike<unknown> });
            },
          });
        } catch (error) {
          throw new Error(`cannot decode row group ${group.index} of parquet file ${where}: ${(error as Error).message}`, { cause: error });
        }
        const names = [...chunks.keys()];
        const columns = names.map((column) => contiguous(chunks.get(column)!, group.rowStart, group.rowEnd, column, where));
        chunks.clear();
        const record: Record<string, unknown> = {};
        const item: SourceRecord = { recordNumber: 0, record };
        const rows = group.rowEnd - group.rowStart;
        const width = names.length;
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < width; c++) record[names[c]] = columns[c][r];
          item.recordNumber = group.rowStart + r;
          yield item;
        }
      }
      done++;
    }
  }

  return {
    name,
    where,
    fields: parquetFields(metadata),
    records: records(),
    fraction: () => (groups.length ? done / groups.length : 1),
    close: async () => {},
  };
}

/** One array for the rows [rowStart, rowEnd) of a column, from the chunks hyparquet gave. */
function contiguous(
  chunks: { rowStart: number; data: ArrayLike<unknown> }[],
  rowStart: number,
  rowEnd: number,
  column: string,
  where: string,
): ArrayLike<unknown> {
  if (chunks.length === 1 && chunks[0].rowStart === rowStart && chunks[0].data.length >= rowEnd - rowStart) return chunks[0].data;
  const out = new Array<unknown>(rowEnd - rowStart);
  let filled = 0;
  for (const { rowStart: start, data } of chunks.sort((a, b) => a.rowStart - b.rowStart)) {
    for (let i = 0; i < data.length; i++) {
      const at = start + i - rowStart;
      if (at >= 0 && at < out.length) {
        out[at] = data[i];
        filled++;
      }
    }
  }
  if (filled !== out.length)
    throw new Error(`parquet file ${where}: column ${column} has ${filled} of ${out.length} values in rows ${rowStart}..${rowEnd - 1}`);
  return out;
}
