/** Helpers for the data tests (not a test file itself). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDatabase, type Database } from '../../src/db/database';
import type { SourceRecord } from '../../src/data/source-types';
import type { DatasetRules, MappedDatasetSpec } from '../../src/shared/dataset-spec';

/** An embedded PGlite database in a temporary directory. */
export async function tempDatabase(prefix = 'keel-data-'): Promise<{ database: Database; dir: string; dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const database = await openDatabase({ dataDir: dir });
  return {
    database,
    dir,
    async dispose() {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function* records(list: Record<string, unknown>[]): AsyncGenerator<SourceRecord> {
  for (let i = 0; i < list.length; i++) yield { recordNumber: i, record: list[i] };
}

/**
 * A database that "crashes" after `copies` COPY statements into dataset_rows: that COPY lands,
 * then it and every later call (queries included) throws, as if the process had died — so the
 * failing attempt cannot clean up after itself.
 */
export function crashingDatabase(database: Database, copies: number): Database & { crashed(): boolean } {
  let n = 0;
  let crashed = false;
  const crash = () => new Error('simulated crash: the worker died');
  const db = new Proxy(database.db, {
    get(target, property, receiver) {
      if (crashed) throw crash();
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return {
    kind: database.kind,
    db,
    async copyRows(table, columns, rows) {
      if (crashed) throw crash();
      await database.copyRows(table, columns, rows);
      if (table === 'dataset_rows' && ++n >= copies) {
        crashed = true;
        throw crash();
      }
    },
    copyText: (table, columns, text) => (crashed ? Promise.reject(crash()) : database.copyText(table, columns, text)),
    close: () => database.close(),
    crashed: () => crashed,
  };
}

export const homeDir = resolve('examples/home-prices');

/** The home-price example's config with file paths resolved and the API at `apiUrl`. */
export function homeConfig(apiUrl: string): { dataset: MappedDatasetSpec; rules: DatasetRules } {
  const config = JSON.parse(readFileSync(join(homeDir, 'dataset.json'), 'utf8')) as { dataset: MappedDatasetSpec; rules: DatasetRules };
  config.dataset.recipe = 'mapping';
  config.dataset.sources = config.dataset.sources.map((source) => {
    if (source.format === 'http') return { ...source, url: apiUrl, retries: { attempts: 2, initialDelayMs: 1, maxDelayMs: 1 } };
    if ('path' in source) return { ...source, path: join(homeDir, source.path) };
    return source;
  });
  return config;
}
