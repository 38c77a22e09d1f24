import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDatasetRows, listQuarantinedRows } from '../../src/data/dataset-store';
import { ingestDataset } from '../../src/data/ingest';
import { compileMapper } from '../../src/data/mapping';
import { convertUnit, findUnit } from '../../src/data/units';
import { datasetSpecSchema, unitIds, type ColumnSpec, type FieldMapping, type MappedDatasetSpec } from '../../src/shared/dataset-spec';
import { InvalidInputError } from '../../src/shared/errors';
import { homeConfig, records, tempDatabase } from './data-helpers';

function mapper(columns: ColumnSpec[], mapping: Record<string, FieldMapping> = {}) {
  return compileMapper({ columns, mapping }, 'test');
}

describe('the worked example of issue 3', () => {
  const agencyRecord = {
    room: 2,
    built_date: '1990-05',
    cooling_system: 'Electric',
    heating_system: 'heat pump',
    address: '15 Star Thistle, Irvine, CA 92604',
    price: '130000',
    garage_spaces: 2,
    area: '1200 sqft',
  };
  const apiRecord = {
    room: 2,
    'temprature system': { cooler: 'Electric', heater: 'heat pump' },
    address: { state: 'CA', city: 'Irvine', street: '15 Star Thistle', 'zip code': '92604' },
    'built date': '1990 May',
    price: '130000',
    garage_spaces: 2,
    area: '130 m2',
  };

  it('maps both records onto one canonical schema, with one area unit and one date', () => {
    const { dataset } = homeConfig('http://127.0.0.1:1/listings');
    const columns = dataset.columns.filter((c) => c.name !== 'listed_at' && c.name !== 'source');
    const [agency, , api] = dataset.sources;
    const a = compileMapper({ columns, mapping: agency.mapping }, 'agency').map(agencyRecord);
    const b = compileMapper({ columns, mapping: api.mapping }, 'api').map(apiRecord);
    const common = {
      address: '15 Star Thistle, Irvine, CA 92604',
      city: 'Irvine',
      state: 'CA',
      zip: '92604',
      rooms: 2,
      built: '1990-05-01',
      year_built: 1990,
      cooling: 'electric',
      heating: 'heat_pump',
      garage_spaces: 2,
      price: 130000,
    };
    expect(a).toEqual({ kind: 'row', row: { ...common, area_sqft: 1200 } });
    expect(b).toMatchObject({ kind: 'row', row: common });
    if (b.kind === 'row') expect(b.row.area_sqft).toBeCloseTo(1399.31, 2);
  });

  it('ends up as one canonical home after deduplication by the normalised address', async () => {
    const { database, dispose, dir } = await tempDatabase();
    try {
      const { dataset } = homeConfig('http://127.0.0.1:1/listings');
      const without = (mapping: Record<string, FieldMapping> | undefined) => {
        const { listed_at: _listed, source: _source, ...rest } = mapping ?? {};
        return rest;
      };
      const agencyFile = join(dir, 'agency.json');
      const apiFile = join(dir, 'api.json');
      writeFileSync(agencyFile, JSON.stringify([agencyRecord]));
      writeFileSync(apiFile, JSON.stringify([apiRecord]));
      const spec: MappedDatasetSpec = {
        ...dataset,
        name: 'worked-example',
        columns: dataset.columns.filter((c) => c.name !== 'listed_at' && c.name !== 'source'),
        sources: [
          { format: 'json', name: 'agency', path: agencyFile, mapping: without(dataset.sources[0].mapping) },
          { format: 'json', name: 'api', path: apiFile, mapping: without(dataset.sources[2].mapping) },
        ],
        dedup: { key: [{ column: 'address', normalize: 'address' }], keep: 'source-priority' },
      };
      const result = await ingestDataset(database, spec);
      expect(result).toMatchObject({ rowsRead: 2, rowCount: 1, quarantinedCount: 0, duplicateCount: 1 });
      const rows = await readDatasetRows(database.db, result.datasetVersionId);
      // Source priority: the agency (listed first) wins.
      expect(rows).toEqual([
        {
          address: '15 Star Thistle, Irvine, CA 92604',
          city: 'Irvine',
          state: 'CA',
          zip: '92604',
          rooms: 2,
          area_sqft: 1200,
          built: '1990-05-01',
          year_built: 1990,
          cooling: 'electric',
          heating: 'heat_pump',
          garage_spaces: 2,
          price: 130000,
        },
      ]);
      const [duplicate] = await listQuarantinedRows(database.db, result.datasetVersionId, { kind: 'duplicate' });
      expect(duplicate).toMatchObject({
        source: 'api',
        recordNumber: 0,
        reasons: ['duplicate of agency source record 1 (kept by source priority; key "15 star thistle irvine ca 92604")'],
      });
    } finally {
      await dispose();
    }
  });
});

describe('transforms', () => {
  it('converts units, with spellings and a default for bare numbers', () => {
    const m = mapper([{ name: 'area', type: 'number' }], { area: { from: 'a', unit: { to: 'sqft', default: 'sqft' }, round: 1 } });
    const area = (a: unknown) => m.map({ a });
    expect(area('130 m2')).toEqual({ kind: 'row', row: { area: 1399.3 } });
    expect(area('130 m²')).toEqual({ kind: 'row', row: { area: 1399.3 } });
    expect(area('1,200 sq. ft')).toEqual({ kind: 'row', row: { area: 1200 } });
    expect(area('1200')).toEqual({ kind: 'row', row: { area: 1200 } });
    expect(area(1200)).toEqual({ kind: 'row', row: { area: 1200 } });
    expect(area('0.5 acres')).toEqual({ kind: 'row', row: { area: 21780 } });
    expect(area('12 meters')).toEqual({ kind: 'invalid', reasons: ['area: m is a length, sqft is an area (got "12 meters" from a)'] });
    expect(area('9 parsecs')).toEqual({
      kind: 'invalid',
      reasons: ['area: unknown unit "parsecs" (known for sqft: sqft, ft2, ft², ...) (got "9 parsecs" from a)'],
    });
    expect(findUnit('Square Meters')).toBe('m2');
    expect(convertUnit(1, 'mi', 'km')).toBeCloseTo(1.609344, 9);
    for (const id of unitIds) expect(findUnit(id)).toBe(id);
  });

  it('reads dates in several formats into one ISO form, and fails on impossible ones', () => {
    const m = mapper([{ name: 'built', type: 'date' }], {
      built: { from: 'd', date: { formats: ['YYYY-MM', 'YYYY MMMM', 'YYYY MMM', 'MM/DD/YYYY', 'D.M.YYYY'] } },
    });
    const built = (d: unknown) => m.map({ d });
    for (const text of ['1990-05', '1990 May', '1990 may', '1990 Sept', '05/01/1990', '1.5.1990']) {
      const expected = text === '1990 Sept' ? '1990-09-01' : '1990-05-01';
      expect(built(text)).toEqual({ kind: 'row', row: { built: expected } });
    }
    expect(built('02/30/1990')).toEqual({ kind: 'invalid', reasons: ['built: not a real date: "02/30/1990" (got "02/30/1990" from d)'] });
    expect(built('199O May')).toEqual({
      kind: 'invalid',
      reasons: ['built: does not match any of the formats YYYY-MM, YYYY MMMM, YYYY MMM, MM/DD/YYYY, D.M.YYYY (got "199O May" from d)'],
    });
    // Datetimes with a zone become UTC; date parts are numbers.
    const dt = mapper(
      [
        { name: 'at', type: 'datetime' },
        { name: 'hour', type: 'integer' },
        { name: 'day', type: 'date' },
      ],
      { at: 't', hour: { from: 't', part: 'hour' }, day: 't' },
    );
    expect(dt.map({ t: '2024-03-10T12:30:00+02:00' })).toEqual({
      kind: 'row',
      row: { at: '2024-03-10T10:30:00', hour: 10, day: '2024-03-10' },
    });
  });

  it('reads numbers in strings, formatted numbers, and fails explicitly on others', () => {
    const m = mapper(
      [
        { name: 'price', type: 'number' },
        { name: 'eu', type: 'number' },
      ],
      { price: 'p', eu: { from: 'e', number: { thousands: '.', decimal: ',' } } },
    );
    expect(m.map({ p: '130000', e: '1.200,50' })).toEqual({ kind: 'row', row: { price: 130000, eu: 1200.5 } });
    expect(m.map({ p: ' 12e3 ', e: null })).toEqual({ kind: 'row', row: { price: 12000, eu: null } });
    expect(m.map({ p: '$130,000', e: 'abc' })).toEqual({
      kind: 'invalid',
      reasons: ['price: must be a number (got "$130,000" from p)', 'eu: must be a number (got "abc" from e)'],
    });
    const dollars = mapper([{ name: 'price', type: 'number' }], { price: { from: 'p', number: { thousands: ',' } } });
    expect(dollars.map({ p: '$130,000' })).toEqual({ kind: 'row', row: { price: 130000 } });
    expect(dollars.map({ p: true })).toEqual({ kind: 'invalid', reasons: ['price: must be a number, got a boolean (got true from p)'] });
  });

  it('maps enum spellings to canonical values', () => {
    const m = mapper([{ name: 'heating', type: 'string', enum: ['heat_pump', 'gas', 'electric'] }], {
      heating: { from: 'h', values: { 'gas furnace': 'gas', HP: 'heat_pump' } },
    });
    const heating = (h: unknown) => m.map({ h });
    expect(heating('Heat Pump')).toEqual({ kind: 'row', row: { heating: 'heat_pump' } });
    expect(heating('heat-pump')).toEqual({ kind: 'row', row: { heating: 'heat_pump' } });
    expect(heating('GAS FURNACE')).toEqual({ kind: 'row', row: { heating: 'gas' } });
    expect(heating('hp')).toEqual({ kind: 'row', row: { heating: 'heat_pump' } });
    expect(heating('wood stove')).toEqual({
      kind: 'invalid',
      reasons: ['heating: must be one of heat_pump, gas, electric (got "wood stove" from h)'],
    });
  });

  it('reads nested paths, templates, regex extracts, constants, flags and missing-value spellings', () => {
    const m = mapper(
      [
        { name: 'address', type: 'string', required: true },
        { name: 'zip', type: 'string', pattern: '^\\d{5}$' },
        { name: 'city', type: 'string' },
        { name: 'origin', type: 'string' },
        { name: 'late', type: 'boolean' },
        { name: 'note', type: 'string' },
      ],
      {
        address: { template: '{a.street}, {a.city} {a.zip code}' },
        zip: 'a.zip code',
        city: { from: 'full', extract: '^[^,]+,\\s*([^,]+),' },
        origin: { const: 'agency' },
        late: { from: 'delay', flag: { gt: 15 } },
        note: { from: ['x.y'], nullIf: ['N/A', ''] },
      },
    );
    expect(
      m.map({
        a: { street: '15 Star Thistle', city: 'Irvine', 'zip code': '92604' },
        full: '15 Star Thistle, Irvine, CA',
        delay: 20,
        'x.y': 'N/A',
      }),
    ).toEqual({
      kind: 'row',
      row: { address: '15 Star Thistle, Irvine 92604', zip: '92604', city: 'Irvine', origin: 'agency', late: 1, note: null },
    });
    // A missing template field makes the whole value missing, and a required column says so.
    expect(m.map({ a: { street: '1 Main' }, full: 'nowhere', delay: 3 })).toEqual({
      kind: 'invalid',
      reasons: [
        'address: is required (got null from {a.street}, {a.city} {a.zip code})',
        'city: does not match /^[^,]+,\\s*([^,]+),/ (got "nowhere" from full)',
      ],
    });
  });

  it('coerces types strictly: objects are not text, booleans have spellings, integers are whole', () => {
    const m = mapper([
      { name: 'name', type: 'string' },
      { name: 'ok', type: 'boolean' },
      { name: 'n', type: 'integer', min: 0 },
    ]);
    expect(m.map({ name: 12, ok: 'yes', n: '3' })).toEqual({ kind: 'row', row: { name: '12', ok: 1, n: 3 } });
    expect(m.map({ name: { first: 'a' }, ok: 'maybe', n: '-2.5' })).toEqual({
      kind: 'invalid',
      reasons: [
        'name: must be text, got an object (got {"first":"a"})',
        'ok: must be a boolean (true/false, yes/no, 1/0) (got "maybe")',
        'n: must be >= 0 (got "-2.5")',
        'n: must be an integer (got "-2.5")',
      ],
    });
  });
});

describe('mapping checks', () => {
  it('names a mapped field the source does not declare (parquet, CSV, query)', () => {
    const m = mapper([{ name: 'price', type: 'number' }], { price: 'sale_price' });
    expect(() => m.checkFields(['id', 'price'], 'source "listings" (listings.csv)')).toThrow(
      'source "listings" (listings.csv): the mapping of column "price" reads field "sale_price", which the source does not have (its fields: id, price); map the column to another field, or to null if this source lacks it',
    );
    expect(() => m.checkFields(['sale_price'], 'x')).not.toThrow();
  });

  it('fails an ingest whose mapping reads a field no record of a JSON source has', async () => {
    const { database, dispose } = await tempDatabase();
    try {
      const spec = datasetSpecSchema.parse({
        name: 'typo',
        columns: [{ name: 'price', type: 'number' }],
        sources: [{ format: 'jsonl', name: 'feed', path: 'injected', mapping: { price: 'prcie' } }],
      });
      const error = await ingestDataset(database, spec, { records: records([{ price: 1 }, { price: 2 }]) }).catch(
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as Error).message).toBe(
        'source "feed" (feed): the mapping of column "price" reads field "prcie", which none of its 2 records has; map the column to another field, or to null if this source lacks it',
      );
    } finally {
      await dispose();
    }
  });

  it('fails an ingest whose parquet columns do not match the mapping, before reading', async () => {
    const { database, dispose } = await tempDatabase();
    try {
      const { dataset } = homeConfig('http://127.0.0.1:1/listings');
      const api = dataset.sources[2];
      const spec: MappedDatasetSpec = {
        ...dataset,
        name: 'parquet-mismatch',
        sources: [
          {
            format: 'parquet',
            name: 'api-parquet',
            path: 'examples/home-prices/parquet/api-listings-snappy.parquet',
            mapping: { ...api.mapping, price: 'sale_price' },
          },
        ],
      };
      await expect(ingestDataset(database, spec)).rejects.toThrow(
        /^source "api-parquet" \(examples\/home-prices\/parquet\/api-listings-snappy\.parquet\): the mapping of column "price" reads field "sale_price", which the source does not have \(its fields: id, room, temprature system, address/,
      );
    } finally {
      await dispose();
    }
  });

  it('the config schema names unknown columns, bad transforms and bad dedup keys', () => {
    const result = datasetSpecSchema.safeParse({
      name: 'bad',
      columns: [
        { name: 'price', type: 'number' },
        { name: 'city', type: 'string', min: 3 },
      ],
      sources: [{ format: 'csv', path: 'x.csv', mapping: { prise: 'price', price: { from: 'p', template: '{a}' } } }],
      dedup: { key: ['address'], keep: 'most-recent' },
    });
    expect(result.success).toBe(false);
    const issues = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        'columns.1.min: only number and integer columns have min (this one is string)',
        'sources.0.mapping.price: needs exactly one of from, template, const (got from, template)',
        'dedup.recency: keep "most-recent" needs a recency column',
      ]),
    );
    const unknown = datasetSpecSchema.safeParse({
      name: 'bad',
      columns: [{ name: 'price', type: 'number' }],
      sources: [{ format: 'csv', path: 'x.csv', mapping: { prise: 'price' } }],
      dedup: { key: ['address'], keep: 'source-priority' },
    });
    expect(unknown.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'sources.0.mapping.prise: maps unknown column "prise" (columns: price)',
      'dedup.key.0: unknown column "address" (columns: price)',
    ]);
  });

  it('the flights config and the home-price example are valid specs', async () => {
    const { readFileSync } = await import('node:fs');
    const keel = JSON.parse(readFileSync('keel.config.json', 'utf8')) as { pipeline: { dataset: unknown } };
    expect(datasetSpecSchema.parse(keel.pipeline.dataset)).toMatchObject({ recipe: 'flights' });
    const home = JSON.parse(readFileSync('examples/home-prices/dataset.json', 'utf8')) as { dataset: unknown };
    expect(datasetSpecSchema.parse(home.dataset)).toMatchObject({ recipe: 'mapping', name: 'home-prices' });
  });
});

describe('the home-price example', () => {
  let server: Awaited<ReturnType<typeof import('../../examples/home-prices/serve').startListingsServer>>;
  let db: Awaited<ReturnType<typeof tempDatabase>>;
  beforeAll(async () => {
    const { startListingsServer } = await import('../../examples/home-prices/serve');
    server = await startListingsServer();
    db = await tempDatabase();
  });
  afterAll(async () => {
    await server?.close();
    await db?.dispose();
  });

  it('ingests three sources into one version, and the accounting balances', async () => {
    const { dataset } = homeConfig(server.url);
    const result = await ingestDataset(db.database, dataset);
    const { report } = result;
    expect(report.read).toBe(report.accepted + report.quarantined + report.duplicates);
    for (const s of report.sources) expect(s.read).toBe(s.accepted + s.quarantined + s.duplicates);
    expect(report.sources.map((s) => [s.name, s.read, s.quarantined])).toEqual([
      ['agency', 160, 4],
      ['listings-csv', 162, 3],
      ['listings-api', 91, 2],
    ]);
    expect(result).toMatchObject({ rowsRead: 413, rowCount: 325, quarantinedCount: 9, duplicateCount: 79, created: true });
    const rows = await readDatasetRows(db.database.db, result.datasetVersionId);
    const home = rows.filter((r) => r.address === '15 Star Thistle, Irvine, CA 92604');
    // Most recent wins: the API's listing (2024-03-10) over the agency's (2024-03-02).
    expect(home).toHaveLength(1);
    expect(home[0]).toMatchObject({ source: 'listings-api', built: '1990-05-01', listed_at: '2024-03-10', price: 130000 });
    expect(new Set(rows.map((r) => r.address)).size).toBe(rows.length);
  });
});
