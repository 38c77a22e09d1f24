/**
 * `npm run bench:ui` — page loads of the dashboard over a database with 100 pipeline runs, 50 model
 * versions and 1,000 drift reports (see shared/BENCHMARKS.md and docs/benchmarks.md), against the
 * goal of 300 ms at the 95th percentile:
 *
 *   1. fill.ts fills a scratch database (PostgreSQL when DATABASE_URL is set: a fresh database,
 *      dropped afterwards; else PGlite in a temporary directory);
 *   2. the dashboard serves it in this process; every page is fetched BENCH_REPEAT times (default
 *      30) after one warm-up: HTTP time to the last byte, and the server's own load-and-render time
 *      (its Server-Timing header);
 *   3. with /usr/bin/chromium present (BENCH_BROWSER=0 skips it), each page is also loaded in
 *      headless chromium BENCH_BROWSER_REPEAT times (default 5), up to every chart drawn.
 *
 * The last line printed is the JSON result.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { type Database, openDatabase } from '../../src/db/database';
import { createScratchDatabase } from '../../src/db/scratch-database';
import { paths } from '../../src/ui/links';
import { startUi } from '../../src/ui/server';
import { benchModel, fill } from './fill';

const sizes = { runs: 100, versions: 50, reports: 1000, rows: Number(process.env.BENCH_ROWS ?? 50_000) };
const REPEAT = Number(process.env.BENCH_REPEAT ?? 30);
const BROWSER_REPEAT = Number(process.env.BENCH_BROWSER_REPEAT ?? 5);
const GOAL_MS = 300;
const say = (line: string) => process.stderr.write(`${line}\n`);

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

async function main() {
  say(
    `bench:ui on ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'keel-bench-ui-'));
  const scratch = process.env.DATABASE_URL ? await createScratchDatabase(process.env.DATABASE_URL, 'keel_bench_ui') : undefined;
  const database: Database = await openDatabase({ url: scratch?.url, dataDir: dir });
  try {
    const filling = performance.now();
    const ids = await fill(database, sizes);
    say(
      `filled ${database.kind}: ${sizes.runs} runs, ${sizes.versions} versions, ${sizes.reports} drift reports, ${sizes.rows} rows in ${((performance.now() - filling) / 1000).toFixed(1)} s`,
    );
    const ui = await startUi({
      database,
      links: { ui: 'http://127.0.0.1:8233', namespace: 'default' },
      adminKeys: [],
      host: '127.0.0.1',
      port: 0,
    });
    const pages: Record<string, string> = {
      runs: paths.runs(),
      run: paths.run(ids.runId),
      data: paths.data(),
      dataset: paths.dataset(ids.datasetId),
      quarantine: paths.quarantine(ids.datasetId),
      rows: paths.rows(ids.datasetId),
      models: paths.models(),
      model: paths.model(benchModel),
      version: paths.version(benchModel, sizes.versions),
      diff: paths.diff(benchModel, 1, sizes.versions),
      rollouts: paths.rollouts(),
      rollout: paths.rollout(ids.rolloutId),
      monitoring: paths.monitoring(),
      monitoring_model: paths.monitoringModel(benchModel),
      drift_report: paths.driftReport(ids.reportId),
    };
    const results: Record<string, { p50_ms: number; p95_ms: number; server_p95_ms: number; bytes: number; browser_p95_ms?: number }> = {};
    for (const [name, path] of Object.entries(pages)) {
      const http: number[] = [];
      const server: number[] = [];
      let bytes = 0;
      for (let i = 0; i <= REPEAT; i++) {
        const started = performance.now();
        const response = await fetch(`${ui.url}${path}`);
        const body = await response.text();
        if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
        if (i === 0) continue; // warm-up
        http.push(performance.now() - started);
        server.push(Number(/dur=([\d.]+)/.exec(response.headers.get('server-timing') ?? '')?.[1] ?? Number.NaN));
        bytes = body.length;
      }
      results[name] = { p50_ms: quantile(http, 0.5), p95_ms: quantile(http, 0.95), server_p95_ms: quantile(server, 0.95), bytes };
    }

    const withBrowser = process.env.BENCH_BROWSER !== '0' && existsSync('/usr/bin/chromium');
    if (withBrowser) {
      const browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: [
          '--headless=new',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      try {
        const context = await browser.newContext();
        for (const [name, path] of Object.entries(pages)) {
          const times: number[] = [];
          for (let i = 0; i <= BROWSER_REPEAT; i++) {
            const page = await context.newPage();
            const started = performance.now();
            await page.goto(`${ui.url}${path}`, { waitUntil: 'load' });
            await page.evaluate(() => (globalThis as unknown as { keelChartsReady: Promise<number> }).keelChartsReady);
            if (i > 0) times.push(performance.now() - started);
            await page.close();
          }
          results[name].browser_p95_ms = quantile(times, 0.95);
        }
      } finally {
        await browser.close();
      }
    }
    await ui.close();

    say('page               p50 ms   p95 ms   server p95   browser p95 (charts drawn)');
    for (const [name, r] of Object.entries(results)) {
      say(
        `${name.padEnd(18)} ${r.p50_ms.toFixed(1).padStart(6)} ${r.p95_ms.toFixed(1).padStart(8)} ${r.server_p95_ms.toFixed(1).padStart(12)} ${(r.browser_p95_ms?.toFixed(0) ?? '-').padStart(13)}`,
      );
    }
    const p95 = Math.max(...Object.values(results).map((r) => r.p95_ms));
    const browserP95 = withBrowser ? Math.max(...Object.values(results).map((r) => r.browser_p95_ms ?? 0)) : null;
    say(
      `slowest page p95 ${p95.toFixed(1)} ms over HTTP (goal ${GOAL_MS} ms)${browserP95 === null ? '' : `, ${browserP95.toFixed(0)} ms in chromium with its charts drawn`}`,
    );
    const round = (x: number) => Math.round(x * 10) / 10;
    process.stdout.write(
      `${JSON.stringify({
        runs: sizes.runs,
        versions: sizes.versions,
        reports: sizes.reports,
        dataset_rows: sizes.rows,
        database: database.kind,
        repeat: REPEAT,
        p95_page_ms: round(p95),
        goal_ms: GOAL_MS,
        within_goal: p95 < GOAL_MS,
        browser_p95_page_ms: browserP95 === null ? null : round(browserP95),
        pages: Object.fromEntries(
          Object.entries(results).map(([k, r]) => [k, Object.fromEntries(Object.entries(r).map(([m, v]) => [m, round(v)]))]),
        ),
        load_average: loadavg()[0],
      })}\n`,
    );
  } finally {
    await database.close();
    await scratch?.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:ui: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
