import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dataRowsCommand } from '../../src/cli/data-rows-command';
import { selectDatasetRows } from '../../src/data/dataset-store';
import { ingestDataset } from '../../src/data/ingest';
import { datasetSpecSchema } from '../../src/shared/dataset-spec';
import { drivers, openTestRegistry, type TestRegistry } from './registry-fixtures';

/**
 * `keel data rows` (the command object `keel data` mounts) over real ingested versions, on PGlite
 * and, when DATABASE_URL is set, on PostgreSQL.
 */
describe.each(drivers)('keel data rows (%s)', (driver) => {
  let registry: TestRegistry;
  let dir: string;
  let first: string;
  let second: string;

  const homes = [
    { address: '1 Elm', city: 'Irvine', price: 250000, heated: 'yes', built: '1990-05-01' },
    { address: '2 Oak', city: 'Tustin', price: 310000.5, heated: 'no', built: null },
    { address: '3 Ash', city: 'Irvine', price: 'call for price', heated: 'yes', built: '2001-01-01' }, // quarantined
    { address: '4 Fir', city: 'Irvine', price: 250000, heated: 'no', built: '1975-09-12' },
    { address: '5 Yew', city: null, price: 99000, heated: 'yes', built: '1962-02-03' },
    { address: '6 Elm', city: '250000', price: 120000, heated: 'no', built: '2010-10-10' },
  ];

  async function ingest(records: Record<string, unknown>[]): Promise<string> {
    const path = join(dir, `homes-${records.length}.jsonl`);
    await writeFile(path, records.map((r) => JSON.stringify(r)).join('\n'));
    const spec = datasetSpecSchema.parse({
      name: 'homes',
      columns: [
        { name: 'address', type: 'string', required: true },
        { name: 'city', type: 'string' },
        { name: 'price', type: 'number', required: true },
        { name: 'heated', type: 'boolean' },
        { name: 'built', type: 'date' },
      ],
      sources: [{ format: 'jsonl', name: 'listings', path }],
    });
    return (await ingestDataset(registry.database, spec)).datasetVersionId;
  }

  beforeAll(async () => {
    registry = await openTestRegistry(driver);
    dir = await mkdtemp(join(tmpdir(), 'keel-rows-'));
    first = await ingest(homes.slice(0, 4));
    await new Promise((resolve) => setTimeout(resolve, 5)); // a later created_at: the newest version
    second = await ingest(homes);
  });
  afterAll(async () => {
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function keel(...args: string[]): Promise<{ stdout: string; error?: string }> {
    let stdout = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      stdout += String(chunk);
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    });
    try {
      await dataRowsCommand((work) => work(registry.database))
        .exitOverride()
        .parseAsync(args, { from: 'user' });
      return { stdout };
    } catch (error) {
      return { stdout, error: (error as Error).message };
    } finally {
      write.mockRestore();
    }
  }

  const json = async (...args: string[]) =>
    JSON.parse((await keel(...args, '--json')).stdout) as {
      dataset: string;
      version: string;
      columns: string[];
      rows: { index: number; data: Record<string, unknown> }[];
    };

  it('lists the accepted rows of the newest version in dataset row order, quarantined ones left out', async () => {
    const all = await json('homes');
    expect(all.version).toBe(second);
    expect(all.columns).toEqual(['address', 'city', 'price', 'heated', 'built']);
    expect(all.rows.map((r) => [r.index, r.data.address])).toEqual([
      [0, '1 Elm'],
      [1, '2 Oak'],
      [2, '4 Fir'],
      [3, '5 Yew'],
      [4, '6 Elm'],
    ]);
    expect(all.rows[1].data).toEqual({ address: '2 Oak', city: 'Tustin', price: 310000.5, heated: 0, built: null });

    const older = await json(`homes@${first.slice(0, 8)}`);
    expect(older.version).toBe(first);
    expect(older.rows.map((r) => r.data.address)).toEqual(['1 Elm', '2 Oak', '4 Fir']);

    expect((await json('homes', '--limit', '2')).rows.map((r) => r.index)).toEqual([0, 1]);

    const text = (await keel('homes', '--limit', '2')).stdout;
    expect(text).toContain(`2 rows of 5 in version ${second} (homes) (--limit 2)`);
    expect(text).toMatch(/^ROW\s+address\s+city\s+price\s+heated\s+built$/m);
    // Dataset rows count from 1 in text, as in every message (the JSON keeps the 0-based index).
    expect(text).toMatch(/^2\s+2 Oak\s+Tustin\s+310000\.5\s+0\s+-$/m);
  });

  it('filters with --where on the JSON value: numbers as numbers, booleans as 1/0, null, several at once', async () => {
    const where = async (...filters: string[]) =>
      (await json('homes', ...filters.flatMap((f) => ['--where', f]))).rows.map((r) => r.data.address);
    expect(await where('price=250000')).toEqual(['1 Elm', '4 Fir']);
    expect(await where('price=250000.0')).toEqual(['1 Elm', '4 Fir']);
    // "250000" in a string column is the text, not the number.
    expect(await where('city=250000')).toEqual(['6 Elm']);
    expect(await where('city=Irvine', 'heated=false')).toEqual(['4 Fir']);
    expect(await where('heated=1')).toEqual(['1 Elm', '5 Yew']);
    expect(await where('city=null')).toEqual(['5 Yew']);
    expect(await where('built=1975-09-12')).toEqual(['4 Fir']);
    expect(await where('city=Nowhere')).toEqual([]);
    // The limit counts matching rows, across pages of the scan.
    expect((await json('homes', '--where', 'city=Irvine', '--limit', '1')).rows.map((r) => r.index)).toEqual([0]);
  });

  it('reads page by page in row order, the limit counting matching rows', async () => {
    const pages = async (options: Parameters<typeof selectDatasetRows>[2]) => {
      const out: number[][] = [];
      for await (const page of selectDatasetRows(registry.database.db, second, options)) out.push(page.map((r) => r.index));
      return out;
    };
    expect(await pages({ limit: 10, pageRows: 2 })).toEqual([[0, 1], [2, 3], [4]]);
    expect(await pages({ limit: 3, pageRows: 2 })).toEqual([[0, 1], [2]]);
    expect(await pages({ limit: 10, pageRows: 1, where: [{ column: 'heated', value: 0 }] })).toEqual([[1], [2], [4]]);
    expect(await pages({ limit: 0 })).toEqual([]);
  });

  it('writes CSV with a header in column order', async () => {
    const { stdout, error } = await keel('homes', '--csv', '--where', 'heated=yes');
    expect(error).toBeUndefined();
    expect(parse(stdout)).toEqual([
      ['address', 'city', 'price', 'heated', 'built'],
      ['1 Elm', 'Irvine', '250000', '1', '1990-05-01'],
      ['5 Yew', '', '99000', '1', '1962-02-03'],
    ]);
  });

  it('names the unknown dataset, version, column or value', async () => {
    expect((await keel('flats')).error).toBe('no dataset named "flats" (keel data versions lists them)');
    expect((await keel('homes@ffff0000')).error).toMatch(
      /^dataset "homes" has no version "ffff0000" \(its newest: [0-9a-f]{12}, [0-9a-f]{12}\)$/,
    );
    expect((await keel('homes', '--where', 'colour=red')).error).toBe(
      '--where "colour=red": no column "colour" (the columns: address, city, price, heated, built)',
    );
    expect((await keel('homes', '--where', 'price=cheap')).error).toBe(
      '--where "price=cheap": column "price" holds numbers, and "cheap" is not one',
    );
    expect((await keel('homes', '--where', 'heated=maybe')).error).toBe(
      '--where "heated=maybe": column "heated" holds booleans (true/false, yes/no, y/n or 1/0), not "maybe"',
    );
    expect((await keel('homes', '--where', 'price')).error).toBe('--where "price": expected column=value');
    expect((await keel('homes', '--limit', '-1')).error).toBe('--limit must be a whole number >= 0 (got "-1")');
    expect((await keel('homes', '--json', '--csv')).error).toBe('--json and --csv: choose one');
  });
});
