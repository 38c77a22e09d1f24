import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { eq } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainingRuns } from '../../src/db/schema';
import { renderDatasetReport, renderDriftReport, renderRunReport, type RenderedReport } from '../../src/reports/render';
import { storedRunReport } from '../../src/reports/stored-run-report';
import { createHarness, type Harness } from '../integration/harness';
import { chartMarks, launchChromium, screenshot } from './chromium';
import { buildScenario, type Scenario } from './scenario';

let harness: Harness;
let scenario: Scenario;
let browser: Browser;
let dir: string;
let stopWorkers: () => void;
let workers: Promise<unknown>;

/**
 * `keel report run|dataset|drift` files, made from a database that real pipeline, monitor and
 * canary runs filled (./scenario.ts), opened from file:// in Debian's chromium with every request
 * outside file: and data: blocked: no request is attempted, and every chart draws its data marks.
 */
describe('self-contained HTML reports in a browser, offline', () => {
  beforeAll(async () => {
    harness = await createHarness();
    dir = await mkdtemp(join(tmpdir(), 'keel-reports-'));
    let built!: (s: Scenario) => void;
    const ready = new Promise<Scenario>((resolve) => (built = resolve));
    workers = harness.withWorkers(async () => {
      built(await buildScenario(harness));
      await new Promise<void>((resolve) => (stopWorkers = resolve));
    });
    workers.catch((error: unknown) => built(Promise.reject(error) as never));
    [scenario, browser] = await Promise.all([ready, launchChromium()]);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    stopWorkers?.();
    await workers?.catch(() => undefined);
    await scenario?.server.close();
    await harness?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Writes the report, opens it offline, and waits until every chart is drawn. */
  async function openOffline(report: RenderedReport) {
    const file = join(dir, `${report.kind}-${report.id.replace(/\W+/g, '_')}.html`);
    await writeFile(file, report.html);
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const attempted: string[] = [];
    const errors: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      attempted.push(url);
      return route.abort();
    });
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const charts = await page.evaluate(() => (globalThis as unknown as { keelChartsReady: Promise<number> }).keelChartsReady);
    return { page, charts, attempted, errors };
  }

  const pointsOf = async (page: Page, id: string) => (await chartMarks(page, id)).items;

  it('run: the stored report and a fresh one open offline with the evaluation plots and the trials', async () => {
    const [run] = await harness.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, scenario.second.trainingRunId));
    expect(run.reportArtifactSha256).toMatch(/^[0-9a-f]{64}$/);
    const stored = await storedRunReport(harness.database.db, harness.artifacts, `${scenario.model}@${scenario.second.version}`);
    expect(stored.id).toBe(scenario.second.trainingRunId);

    for (const report of [stored, await renderRunReport(harness.database.db, `${scenario.model}@${scenario.second.version}`)]) {
      const { page, charts, attempted, errors } = await openOffline(report);
      expect(attempted).toEqual([]);
      expect(errors).toEqual([]);
      expect(charts).toBeGreaterThanOrEqual(6);
      // ROC: a curve of more than 10 points, and the chosen threshold as a point of its own.
      const roc = await pointsOf(page, 'roc');
      expect(roc.line).toBeGreaterThan(10);
      expect(roc.symbol ?? 0).toBeGreaterThanOrEqual(1);
      expect((await pointsOf(page, 'pr')).line).toBeGreaterThan(10);
      expect((await pointsOf(page, 'learning-curve')).line).toBeGreaterThan(10);
      expect((await pointsOf(page, 'confusion-matrix')).rect).toBe(4);
      expect(await page.locator('#trials tbody tr').count()).toBe(2);
      expect(await page.locator('.evaluation').textContent()).toContain('passed');
      expect(await page.locator('.lineage').textContent()).toContain(scenario.second.datasetVersionId);
      // Stored once the outcome was recorded: the run shows as ended.
      expect(await page.locator('dl.facts').first().textContent()).toContain('succeeded');
      if (report === stored) await screenshot(page, 'report-run');
      await page.close();
    }
  });

  it('dataset: accounting, histograms, top categories and correlations draw offline', async () => {
    const report = await renderDatasetReport(harness.database.db, scenario.first.datasetVersionId);
    const { page, charts, attempted, errors } = await openOffline(report);
    expect(attempted).toEqual([]);
    expect(errors).toEqual([]);
    expect(charts).toBeGreaterThanOrEqual(5);
    expect((await pointsOf(page, 'source-accounting')).rect).toBeGreaterThanOrEqual(1);
    expect((await pointsOf(page, 'null-share')).rect).toBeGreaterThanOrEqual(5);
    expect((await pointsOf(page, 'correlations')).rect).toBeGreaterThanOrEqual(4);
    const histograms = await page.locator('[data-chart^="column-"]').count();
    expect(histograms).toBeGreaterThanOrEqual(5);
    await screenshot(page, 'report-dataset');
    await page.close();
  });

  it('drift: one series per feature over time, the reference distributions and live performance', async () => {
    const drifted = scenario.reports[1];
    const report = await renderDriftReport(harness.database.db, drifted.reportId);
    const { page, charts, attempted, errors } = await openOffline(report);
    expect(attempted).toEqual([]);
    expect(errors).toEqual([]);
    expect(charts).toBeGreaterThanOrEqual(3);
    const overTime = await chartMarks(page, 'drift-over-time', 'feature');
    expect(new Set(overTime.lineValues)).toEqual(new Set(scenario.features));
    // Reference and window bars for every feature and the prediction.
    const bars = await chartMarks(page, 'distributions');
    expect(bars.items.rect).toBeGreaterThan(2 * scenario.features.length);
    expect((await pointsOf(page, `drift-features-${drifted.reportId}`)).rect).toBeGreaterThanOrEqual(1);
    expect(await page.locator('.drift-report').textContent()).toContain('drift');
    await screenshot(page, 'report-drift');
    await page.close();
  });
});
