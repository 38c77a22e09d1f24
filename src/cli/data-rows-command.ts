import { once } from 'node:events';
import { Command } from 'commander';
import { stringify } from 'csv-stringify';
import type { ColumnDef } from '../data/columns';
import { type IndexedRow, resolveDatasetVersion, selectDatasetRows } from '../data/dataset-store';
import { parseRowFilters } from '../data/row-filter';
import type { Database } from '../db/database';
import { InvalidInputError } from '../shared/errors';
import { clip, table } from './text-table';

type WithDatabase = <T>(work: (database: Database) => Promise<T>) => Promise<T>;

const DEFAULT_LIMIT = 100;

/**
 * `keel data rows <dataset>[@version]`: the accepted rows of a dataset version in dataset row
 * order (the `row_index` every other message calls "dataset row"), filtered with `--where`, as a
 * table, JSON or CSV. The rows come from the library (src/data/dataset-store.ts), never from SQL
 * written here.
 */
export function dataRowsCommand(withDatabase: WithDatabase): Command {
  return new Command('rows')
    .argument(
      '<dataset[@version]>',
      'a dataset name, and optionally @ one of its versions (an id or content-hash prefix); default: its newest version',
    )
    .description('the accepted rows of a dataset version, in dataset row order')
    .option('--limit <n>', 'at most this many rows', String(DEFAULT_LIMIT))
    .option(
      '--where <column=value>',
      'only rows whose column equals the value (numbers as numbers; null for missing); repeatable',
      collect,
      [],
    )
    .option('--json', 'machine-readable output: { dataset, version, columns, rows: [{ index, data }] }')
    .option('--csv', "CSV with a header line, the version's columns in order")
    .action((reference: string, opts: { limit: string; where: string[]; json?: boolean; csv?: boolean }) =>
      withDatabase(async (database) => {
        if (opts.json && opts.csv) throw new InvalidInputError('--json and --csv: choose one');
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 0)
          throw new InvalidInputError(`--limit must be a whole number >= 0 (got ${JSON.stringify(opts.limit)})`);
        const at = reference.lastIndexOf('@');
        const [dataset, version] = at > 0 ? [reference.slice(0, at), reference.slice(at + 1)] : [reference, undefined];
        const found = await resolveDatasetVersion(database.db, dataset, version);
        const columns = found.columns as ColumnDef[];
        const pages = selectDatasetRows(database.db, found.id, { where: parseRowFilters(columns, opts.where), limit });
        const names = columns.map((c) => c.name);

        if (opts.csv) return writeCsv(names, pages);
        const rows: IndexedRow[] = [];
        for await (const page of pages) for (const row of page) rows.push(row);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ dataset: found.name, version: found.id, columns: names, rows }, null, 2)}\n`);
          return;
        }
        const filtered = opts.where.length > 0 ? ` where ${opts.where.join(' and ')}` : '';
        const heading = `${rows.length} row${rows.length === 1 ? '' : 's'} of ${found.rowCount} in version ${found.id} (${found.name})${filtered}${rows.length === limit ? ` (--limit ${limit})` : ''}`;
        const body = rows.length
          ? table(
              ['ROW', ...names],
              rows.map((r) => [String(r.index + 1), ...names.map((name) => cell(r.data[name]))]),
            )
          : [];
        process.stdout.write(`${[heading, ...body].join('\n')}\n`);
      }),
    );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function cell(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '-' : clip(String(value), 40);
}

/** Streams the rows as CSV to stdout, waiting when stdout is slower than the database. */
async function writeCsv(columns: string[], pages: AsyncGenerator<IndexedRow[]>): Promise<void> {
  const csv = stringify({ header: true, columns });
  csv.pipe(process.stdout, { end: false });
  for await (const page of pages) {
    for (const row of page) {
      if (!csv.write(row.data)) await once(csv, 'drain');
    }
  }
  csv.end();
  await once(csv, 'end');
}
