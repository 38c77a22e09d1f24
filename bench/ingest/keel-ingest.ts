/**
 * The keel side of `npm run bench:ingest`, in its own process so its peak RSS is its own: ingests
 * all of flights-3m.parquet (parse, map, validate, hash, profile, COPY) into DATABASE_URL and
 * prints one JSON line.
 */
import { ingestDataset } from '../../src/data/ingest';
import { openDatabase } from '../../src/db/database';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is required');
const database = await openDatabase({ url, dataDir: '/nonexistent' });
const spec = {
  name: 'flights-all',
  recipe: 'flights' as const,
  source: { format: 'parquet' as const, path: 'vega-datasets:flights-3m.parquet' },
  // Every flight of the file (January to June 2001).
  period: { from: '2000-01-01', to: '2002-01-01' },
};
const started = performance.now();
const result = await ingestDataset(database, spec, { ingestKey: `bench/${process.pid}` });
// (each round works on emptied tables: see run.ts)
const seconds = (performance.now() - started) / 1000;
await database.close();
console.log(
  JSON.stringify({
    versionId: result.datasetVersionId,
    rows: result.rowCount,
    read: result.rowsRead,
    quarantined: result.quarantinedCount,
    seconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
