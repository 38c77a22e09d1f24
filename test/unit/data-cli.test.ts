import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListingsServer, type ListingsServer } from '../../examples/home-prices/serve';
import { homeConfig } from './data-helpers';

const run = promisify(execFile);

/** `keel data ...` against an embedded database in a temporary KEEL_DATA_DIR. */
describe('keel data', () => {
  let dir: string;
  let server: ListingsServer;
  let config: string;
  const keel = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'data', ...args], {
        env: { ...process.env, KEEL_DATA_DIR: dir, DATABASE_URL: '', LOG_LEVEL: 'silent' },
        maxBuffer: 1 << 24,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-cli-'));
    server = await startListingsServer();
    config = join(dir, 'homes.json');
    writeFileSync(config, JSON.stringify(homeConfig(server.url)));
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingest, versions, show and quarantine', async () => {
    const ingest = await keel('ingest', config, '--json');
    expect(ingest.code).toBe(0);
    const result = JSON.parse(ingest.stdout) as {
      datasetVersionId: string;
      rowCount: number;
      report: { read: number };
      rules: { checked: boolean; passed: boolean };
    };
    expect(result).toMatchObject({
      rowCount: 325,
      quarantinedCount: 9,
      duplicateCount: 79,
      created: true,
      report: { read: 413 },
      rules: { checked: true, passed: true },
    });
    const id = result.datasetVersionId;

    const again = await keel('ingest', config);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`dataset home-prices: version ${id} (identical content exists: no new version)`);
    expect(again.stdout).toContain('read 413 = 325 accepted + 9 quarantined + 79 duplicates');
    expect(again.stdout).toContain('rules: all passed');

    const versions = JSON.parse((await keel('versions', '--json')).stdout) as { id: string; rowCount: number }[];
    expect(versions.map((v) => [v.id, v.rowCount])).toEqual([[id, 325]]);

    const show = await keel('show', id.slice(0, 8));
    expect(show.stdout).toContain(`version ${id}  dataset home-prices`);
    expect(show.stdout).toMatch(/area_sqft\s+number\s+0%\s+min \d+\s+p25 \d+\s+median \d+/);
    expect(show.stdout).toMatch(/heating\s+string\s+0%\s+3 distinct: gas \d+, heat_pump \d+, electric \d+/);
    const byName = JSON.parse((await keel('show', 'home-prices', '--json')).stdout) as { id: string; profile: Record<string, unknown> };
    expect(byName.id).toBe(id);
    expect(byName.profile.price).toMatchObject({ type: 'number', count: 325, nulls: 0 });

    const quarantine = JSON.parse((await keel('quarantine', id, '--json')).stdout) as {
      total: number;
      rows: { source: string; sourceRecord: number; reasons: string[] }[];
    };
    expect(quarantine.total).toBe(9);
    // Source records count from 1, as every message counts them.
    expect(quarantine.rows.map((r) => `${r.source}#${r.sourceRecord}`)).toEqual([
      'agency#18',
      'agency#43',
      'agency#89',
      'agency#132',
      'listings-api#21',
      'listings-api#56',
      'listings-csv#24',
      'listings-csv#63',
      'listings-csv#100',
    ]);
    expect(quarantine.rows[0].reasons).toEqual(['price: must be a number (got "call for price")']);
    const duplicates = await keel('quarantine', id, '--duplicates', '--limit', '1');
    expect(duplicates.stdout).toContain('79 duplicate records in version');
    expect(duplicates.stdout).toContain(
      'agency record 1: duplicate of listings-api source record 1 (kept the most recent; key "15 star thistle irvine ca 92604")',
    );
  }, 180_000);

  it('fails with the field and the value of a bad config, and with a rule that fails', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ dataset: { name: 'Homes!', columns: [], sources: [] } }));
    const result = await keel('ingest', bad);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^keel: invalid data config .*bad\.json: dataset\.name: must be lowercase letters, digits, dots, dashes or underscores, starting with a letter or digit \(got "Homes!"\)/,
    );

    const strict = join(dir, 'strict.json');
    const cfg = homeConfig(server.url);
    writeFileSync(strict, JSON.stringify({ ...cfg, rules: { ...cfg.rules, minRows: 1000 } }));
    const failed = await keel('ingest', strict, '--no-progress');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('rules: FAILED: rule minRows: 325 rows < 1000 required');

    const missing = await keel('show', 'ffffffff');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('keel: no dataset version matches "ffffffff" (keel data versions lists them)');
  }, 180_000);
});
