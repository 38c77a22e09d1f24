import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../src/data/source-types';
import { openSource } from '../../src/data/source';
import type { SourceSpec } from '../../src/shared/dataset-spec';
import { InvalidInputError } from '../../src/shared/errors';
import { startListingsServer } from '../../examples/home-prices/serve';
import { homeDir } from './data-helpers';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keel-sources-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function readAll(spec: SourceSpec, options: Parameters<typeof openSource>[1] = {}) {
  const source = await openSource(spec, options);
  const out: SourceRecord[] = [];
  try {
    // Sources may reuse the record objects: copy.
    for await (const r of source.records) out.push({ ...r, record: structuredClone(r.record) });
  } finally {
    await source.close();
  }
  return { source, records: out };
}

const noSleep = { sleep: async () => {} };

describe('CSV source', () => {
  it('reads the header, strings and nulls, and quarantines a ragged row with its line', async () => {
    const path = file('ragged.csv', 'id,name,price\n1,"Smith, J",100\n2,,200\n3,x,300,extra\n4,y\n');
    const { source, records } = await readAll({ format: 'csv', path });
    expect(source.fields).toEqual(['id', 'name', 'price']);
    expect(records.map((r) => [r.recordNumber, r.record, r.unreadable])).toEqual([
      [0, { id: '1', name: 'Smith, J', price: '100' }, undefined],
      [1, { id: '2', name: null, price: '200' }, undefined],
      [2, { line: 4, fields: ['3', 'x', '300', 'extra'] }, 'line 4: has 4 fields, the header has 3'],
      [3, { line: 5, fields: ['4', 'y'] }, 'line 5: has 2 fields, the header has 3'],
    ]);
  });

  it('fails on an unbalanced quote, naming the file and the line', async () => {
    const path = file('quote.csv', 'id,name\n1,ok\n2,"never closed\n3,more\n');
    const error = await readAll({ format: 'csv', path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/Quote Not Closed: .* at line 4 \(the record with the unclosed quote starts at line 3\)$/);
  });

  it('fails on bytes that are not the declared encoding, naming the line; reads latin1 when declared', async () => {
    const bytes = Buffer.concat([Buffer.from('id,city\n1,Paris\n2,Z'), Buffer.from([0xfc]), Buffer.from('rich\n')]);
    const path = file('latin1.csv', bytes);
    const error = await readAll({ format: 'csv', path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(new RegExp(`${path}: not valid utf-8 at line 3 \\(byte 19, bytes fc`));
    expect((error as Error).message).toContain('"encoding": "latin1"');
    const { records } = await readAll({ format: 'csv', path, encoding: 'latin1' });
    expect(records[1].record).toEqual({ id: '2', city: 'Zürich' });
  });

  it('recognises UTF-16 by its byte order mark, and strips a UTF-8 one', async () => {
    const utf16 = file('utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n1,é\n', 'utf16le')]));
    expect((await readAll({ format: 'csv', path: utf16 })).records[0].record).toEqual({ a: '1', b: 'é' });
    const bom = file('bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a,b\n1,2\n')]));
    expect((await readAll({ format: 'csv', path: bom })).source.fields).toEqual(['a', 'b']);
  });

  it('names a missing file, a directory, and a bad header', async () => {
    await expect(openSource({ format: 'csv', path: join(dir, 'nope.csv') })).rejects.toThrow(
      `cannot read csv file ${join(dir, 'nope.csv')}: no such file`,
    );
    mkdirSync(join(dir, 'a-dir.csv'), { recursive: true });
    await expect(openSource({ format: 'csv', path: join(dir, 'a-dir.csv') })).rejects.toThrow(/it is a directory/);
    await expect(openSource({ format: 'csv', path: file('dup.csv', 'a,a\n1,2\n') })).rejects.toThrow(/names field "a" twice/);
  });

  it('reads files without a header with configured columns and other delimiters', async () => {
    const path = file('semi.csv', '1;2\n3;4\n');
    const { records } = await readAll({ format: 'csv', path, header: false, columns: ['x', 'y'], delimiter: ';' });
    expect(records.map((r) => r.record)).toEqual([
      { x: '1', y: '2' },
      { x: '3', y: '4' },
    ]);
  });
});

describe('JSON and JSONL sources', () => {
  it('streams the records of an array, at the top level or at recordsPath', async () => {
    const { records } = await readAll({ format: 'json', path: join(homeDir, 'agency.json') });
    expect(records).toHaveLength(160);
    expect(records[0].record).toMatchObject({ address: '15 Star Thistle, Irvine, CA 92604', area: '1200 sqft' });
    const nested = file('nested.json', JSON.stringify({ meta: { n: 2 }, data: { items: [{ a: 1 }, { a: 2 }, 5] } }));
    const read = await readAll({ format: 'json', path: nested, recordsPath: 'data.items' });
    expect(read.records.map((r) => [r.record, r.unreadable])).toEqual([
      [{ a: 1 }, undefined],
      [{ a: 2 }, undefined],
      [{ value: 5 }, 'element 2 is not an object (got 5)'],
    ]);
  });

  it('fails on a file that is HTML, not JSON, naming the file and the line', async () => {
    const path = file('error-page.json', '\n<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>\n');
    const error = await readAll({ format: 'json', path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(
      new RegExp(`^${path}: not valid JSON at line 2 \\(byte 1\\) — it looks like HTML or XML, not JSON`),
    );
  });

  it('fails on truncated JSON and on an object without recordsPath', async () => {
    await expect(readAll({ format: 'json', path: file('cut.json', '[{"a":1},{"a":') })).rejects.toThrow(/the JSON ends early/);
    await expect(readAll({ format: 'json', path: file('obj.json', '{"data":[{"a":1}]}') })).rejects.toThrow(/set "recordsPath"/);
    await expect(readAll({ format: 'json', path: file('obj2.json', '{"data":{"x":{"a":1}}}'), recordsPath: 'data' })).rejects.toThrow(
      /data is an object, not an array of records/,
    );
  });

  it('JSONL: quarantines a line that is not a JSON object, with its line number', async () => {
    const path = file('rows.jsonl', '{"a":1}\n\n{"a":2\n[1,2]\n{"a":3}');
    const { records } = await readAll({ format: 'jsonl', path });
    expect(records.map((r) => [r.recordNumber, r.unreadable ?? r.record])).toEqual([
      [0, { a: 1 }],
      [1, expect.stringMatching(/^line 3: not JSON/)],
      [2, 'line 4: not a JSON object (got [1,2])'],
      [3, { a: 3 }],
    ]);
  });
});

describe('Parquet source', () => {
  it.each(['snappy', 'zstd'])('reads %s-compressed row groups with nested structs', async (codec) => {
    const { source, records } = await readAll({ format: 'parquet', path: join(homeDir, 'parquet', `api-listings-${codec}.parquet`) });
    expect(source.fields).toEqual([
      'id',
      'room',
      'temprature system',
      'address',
      'built date',
      'price',
      'garage_spaces',
      'area',
      'updated',
    ]);
    expect(records).toHaveLength(91);
    expect(records[0].record).toMatchObject({
      id: 'h-0',
      room: 2n,
      address: { state: 'CA', city: 'Irvine', street: '15 Star Thistle', 'zip code': '92604' },
      'temprature system': { cooler: 'Electric', heater: 'heat pump' },
    });
    expect(records.map((r) => r.recordNumber)).toEqual(Array.from({ length: 91 }, (_, i) => i));
  });

  it('skips row groups on request (statistics)', async () => {
    const { records } = await readAll(
      { format: 'parquet', path: join(homeDir, 'parquet', 'api-listings-zstd.parquet') },
      { skipRowGroup: (stats) => stats.id?.min === 'h-0' },
    );
    expect(records[0].recordNumber).toBe(30);
  });

  it('names a file that is not parquet', async () => {
    const path = file('fake.parquet', 'a,b\n1,2\n');
    await expect(openSource({ format: 'parquet', path })).rejects.toThrow(`${path} is not a readable parquet file`);
  });
});

describe('HTTP source', () => {
  it('reads every page', async () => {
    const server = await startListingsServer({ pageSize: 30 });
    try {
      const { records } = await readAll({
        format: 'http',
        url: server.url,
        recordsPath: 'data',
        pagination: { type: 'page', param: 'page', start: 1 },
      });
      expect(records).toHaveLength(91);
      expect(records[90].recordNumber).toBe(90);
      // 4 pages of data, then an empty one.
      expect(server.requests).toEqual(['/listings?page=1', '/listings?page=2', '/listings?page=3', '/listings?page=4', '/listings?page=5']);
    } finally {
      await server.close();
    }
  });

  it('retries a 500 with backoff, then succeeds', async () => {
    const server = await startListingsServer({ failFirst: 2, pageSize: 50 });
    const waits: number[] = [];
    try {
      const { records } = await readAll(
        {
          format: 'http',
          url: server.url,
          recordsPath: 'data',
          pagination: { type: 'page', param: 'page', start: 1, sizeParam: 'per_page', size: 50 },
          retries: { attempts: 3, initialDelayMs: 100, maxDelayMs: 1000 },
        },
        { sleep: async (ms) => void waits.push(ms) },
      );
      expect(records).toHaveLength(91);
      expect(waits).toEqual([100, 200]);
    } finally {
      await server.close();
    }
  });

  it('fails clearly after the last retry of a 500', async () => {
    const server = await startListingsServer({ failFirst: 100 });
    try {
      const error = await readAll(
        {
          format: 'http',
          name: 'listings',
          url: server.url,
          recordsPath: 'data',
          retries: { attempts: 3, initialDelayMs: 1, maxDelayMs: 1 },
        },
        noSleep,
      ).catch((e: unknown) => e as Error);
      expect((error as Error).message).toBe(
        `http source "listings": page 1 (GET ${server.url}) failed after 3 attempts: attempt 1: 500 Internal Server Error; attempt 2: 500 Internal Server Error; attempt 3: 500 Internal Server Error`,
      );
      expect(server.requests).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  it('times out a slow answer, retries, then fails naming the timeout', async () => {
    const server = await startListingsServer({ delayMs: 1000 });
    try {
      const error = await readAll(
        {
          format: 'http',
          name: 'slow',
          url: server.url,
          recordsPath: 'data',
          timeoutMs: 50,
          retries: { attempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
        },
        noSleep,
      ).catch((e: unknown) => e as Error);
      expect((error as Error).message).toMatch(
        /^http source "slow": page 1 .* failed after 2 attempts: attempt 1: timed out after 50 ms; attempt 2: timed out after 50 ms$/,
      );
    } finally {
      await server.close();
    }
  });

  it('fails at once on HTML, on a 404 and on a page without the records array', async () => {
    const html = await startListingsServer({ html: true });
    try {
      const error = await readAll({ format: 'http', name: 'api', url: html.url, recordsPath: 'data' }, noSleep).catch(
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as Error).message).toMatch(
        /^http source "api": page 1 \(GET .*\) answered text\/html that looks like HTML, not JSON: <!DOCTYPE html>/,
      );
      expect(html.requests).toHaveLength(1);
    } finally {
      await html.close();
    }
    const server = await startListingsServer();
    try {
      await expect(readAll({ format: 'http', url: server.url.replace('/listings', '/nope') }, noSleep)).rejects.toThrow(
        /answered 404 Not Found/,
      );
      await expect(readAll({ format: 'http', url: server.url, recordsPath: 'items' }, noSleep)).rejects.toThrow(
        /has no array of records at items \(found nothing; keys: data, page, total\)/,
      );
    } finally {
      await server.close();
    }
  });

  it('follows a cursor', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((request, response) => {
      const cursor = new URL(request.url ?? '/', 'http://x').searchParams.get('after');
      const body =
        cursor === null ? { items: [{ n: 1 }, { n: 2 }], next: 'c2' } : cursor === 'c2' ? { items: [{ n: 3 }], next: null } : { items: [] };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const { records } = await readAll({
        format: 'http',
        url: `http://127.0.0.1:${port}/x`,
        recordsPath: 'items',
        pagination: { type: 'cursor', param: 'after', nextPath: 'next' },
      });
      expect(records.map((r) => r.record.n)).toEqual([1, 2, 3]);
    } finally {
      server.close();
    }
  });
});

describe.skipIf(!process.env.DATABASE_URL)('PostgreSQL query source', () => {
  it('streams a query through a cursor; names a bad query and a missing URL', async () => {
    const sql = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    const table = `keel_src_${process.pid}`;
    try {
      await sql.unsafe(`create table ${table} (id int, city text, price numeric, listed date)`);
      await sql.unsafe(
        `insert into ${table} select i, 'city ' || (i % 3), i * 1000.5, date '2024-01-01' + i from generate_series(1, 2500) i`,
      );
      const { source, records } = await readAll({
        format: 'postgres',
        query: `select * from ${table} where id > $1 order by id`,
        params: [500],
        batchSize: 700,
      });
      expect(source.fields).toEqual(['id', 'city', 'price', 'listed']);
      expect(records).toHaveLength(2000);
      expect(records[0].record).toMatchObject({ id: 501, city: 'city 0', price: '501250.5' });
      const error = await openSource({ format: 'postgres', name: 'sales', query: `select nope from ${table}` }).catch(
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as Error).message).toMatch(
        /^postgres source "sales" \(postgres:\/\/.*\*\*\*@.*\): column "nope" does not exist \(SQLSTATE 42703\)/,
      );
      await expect(openSource({ format: 'postgres', query: 'select 1', urlEnv: 'KEEL_NO_SUCH_URL' })).rejects.toThrow(
        'postgres source "postgres": the environment variable KEEL_NO_SUCH_URL (its connection URL) is not set',
      );
    } finally {
      await sql.unsafe(`drop table if exists ${table}`);
      await sql.end();
    }
  });
});
