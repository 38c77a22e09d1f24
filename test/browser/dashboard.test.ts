import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvals, rolloutEvents, rollouts, trainingRuns } from '../../src/db/schema';
import { renderDatasetReport, renderDriftReport, renderRunReport } from '../../src/reports/render';
import { storedRunReport } from '../../src/reports/stored-run-report';
import { resolveAlias } from '../../src/registry/model-registry';
import { paths } from '../../src/ui/links';
import { type RunningUi, startUi } from '../../src/ui/server';
import { createHarness, type Harness } from '../integration/harness';
import { chartData, chartMarks, launchChromium, openPage, openReportOffline, screenshot } from './chromium';
import { buildScenario, type Scenario } from './scenario';

const adminKey = 'browser-test-admin-key';
let harness: Harness;
let scenario: Scenario;
let ui: RunningUi;
let browser: Browser;
let stopWorkers: () => void;
let workers: Promise<unknown>;
let dir: string;

/**
 * The dashboard in Debian's chromium, over a database that real pipeline, monitor and canary runs
 * filled (./scenario.ts): every page loads without console errors and its charts hold data marks;
 * the rollout buttons reach the running canary workflow. The `keel report` files, made from the
 * same database, open from file:// with the network blocked and draw their data. One scenario
 * serves both: building it is most of the time this file takes.
 */
describe('keel ui and keel report in a browser', () => {
  beforeAll(async () => {
    // The workers hold the admin key too: they check the approval's proof of it.
    harness = await createHarness({ adminKeys: [adminKey] });
    dir = await mkdtemp(join(tmpdir(), 'keel-reports-'));
    let built!: (s: Scenario) => void;
    const ready = new Promise<Scenario>((resolve) => (built = resolve));
    // Workers run for the whole file: the canary rollout must answer the dashboard's actions.
    workers = harness.withWorkers(async () => {
      built(await buildScenario(harness));
      await new Promise<void>((resolve) => (stopWorkers = resolve));
    });
    workers.catch((error: unknown) => built(Promise.reject(error) as never));
    [scenario, browser] = await Promise.all([ready, launchChromium()]);
    ui = await startUi({
      database: harness.database,
      links: { ui: 'http://127.0.0.1:8233', namespace: 'default' },
      adminKeys: [adminKey],
      host: '127.0.0.1',
      port: 0,
      temporal: async () => harness.client,
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await ui?.close();
    stopWorkers?.();
    await workers?.catch(() => undefined);
    await scenario?.server.close();
    await harness?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // First: they only read, and the dashboard's cases below promote and approve.
  describe('self-contained HTML reports, opened offline (keel report run|dataset|drift)', () => {
    const pointsOf = async (page: Page, id: string) => (await chartMarks(page, id)).items;

    it('run: the stored report and a fresh one open offline with the evaluation plots and the trials', async () => {
      const [run] = await harness.database.db.select().from(trainingRuns).where(eq(trainingRuns.id, scenario.second.trainingRunId));
      expect(run.reportArtifactSha256).toMatch(/^[0-9a-f]{64}$/);
      const stored = await storedRunReport(harness.database.db, harness.artifacts, `${scenario.model}@${scenario.second.version}`);
      expect(stored.id).toBe(scenario.second.trainingRunId);

      for (const report of [stored, await renderRunReport(harness.database.db, `${scenario.model}@${scenario.second.version}`)]) {
        const { page, charts, attempted, errors } = await openReportOffline(browser, dir, report);
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
      const { page, charts, attempted, errors } = await openReportOffline(browser, dir, report);
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
      const { page, charts, attempted, errors } = await openReportOffline(browser, dir, report);
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

  it('Runs: the list shows every run, and a run shows its stages, learning curve and evaluation plots', async () => {
    const list = await openPage(browser, `${ui.url}/runs`);
    expect(list.loaded.errors).toEqual([]);
    expect(await list.page.locator('#runs tbody tr').count()).toBeGreaterThanOrEqual(3);
    expect(await list.page.locator('#temporal-link').getAttribute('href')).toContain('http://127.0.0.1:8233/namespaces/default/workflows');

    const run = `train/${scenario.model}/first`;
    const { page, loaded } = await openPage(browser, `${ui.url}/runs/${encodeURIComponent(run)}`);
    expect(loaded.errors).toEqual([]);
    expect(loaded.charts).toBeGreaterThanOrEqual(6);
    const roc = await chartData<{ fpr: number; tpr: number }>(page, 'roc', 'roc');
    expect(roc.length).toBeGreaterThan(10);
    expect(roc.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
    expect((await chartMarks(page, 'roc')).items.symbol).toBe(1); // the operating point
    expect((await chartMarks(page, 'learning-curve')).series.line).toBe(2); // train and validation
    expect((await chartMarks(page, 'pr')).items.line).toBeGreaterThan(10);
    expect((await chartMarks(page, 'calibration')).items.symbol).toBeGreaterThan(3);
    expect((await chartMarks(page, 'confusion-matrix')).items.rect).toBe(4);
    expect((await chartMarks(page, 'stages')).items.rect).toBeGreaterThanOrEqual(5);
    expect(await page.locator('#temporal-link').getAttribute('href')).toContain(encodeURIComponent(run));
    await screenshot(page, 'ui-run');

    const tuned = await openPage(browser, `${ui.url}/runs/${encodeURIComponent(`train/${scenario.model}/second`)}`);
    expect(tuned.loaded.errors).toEqual([]);
    const trials = tuned.page.locator('#trials tbody tr');
    expect(await trials.count()).toBe(2);
    // Sortable by metric: a click on the header orders the rows by it.
    const column = await tuned.page
      .locator('#trials th')
      .evaluateAll((ths: { textContent: string | null }[]) => ths.findIndex((th) => th.textContent?.trim() === 'rocAuc'));
    expect(column).toBeGreaterThan(0);
    const aucs = () =>
      trials.evaluateAll(
        (rows, c) => rows.map((r) => Number((r as unknown as { cells: { dataset: { value?: string } }[] }).cells[c].dataset.value)),
        column,
      );
    await tuned.page.locator('#trials th').nth(column).click();
    const descending = await aucs();
    await tuned.page.locator('#trials th').nth(column).click();
    expect(await aucs()).toEqual([...descending].reverse());
    expect(descending[0]).toBeGreaterThanOrEqual(descending[1]);
  });

  it('Data: source accounting, profile charts, the quarantine browser and accepted rows', async () => {
    const list = await openPage(browser, `${ui.url}/data`);
    expect(list.loaded.errors).toEqual([]);
    const datasetId = scenario.first.datasetVersionId;
    const { page, loaded } = await openPage(browser, `${ui.url}${paths.dataset(datasetId)}`);
    expect(loaded.errors).toEqual([]);
    const accounting = await chartData<{ outcome: string; records: number; read: number }>(page, 'source-accounting', 'source_accounting');
    const accepted = accounting.find((a) => a.outcome === 'accepted')!;
    expect(accepted.records).toBe(20_000 - accounting.filter((a) => a.outcome !== 'accepted').reduce((s, a) => s + a.records, 0));
    expect(accounting.reduce((s, a) => s + a.records, 0)).toBe(accepted.read);
    expect((await chartMarks(page, 'null-share')).items.rect).toBeGreaterThanOrEqual(5);
    expect((await chartMarks(page, 'correlations')).items.rect).toBeGreaterThanOrEqual(4);
    expect(loaded.charts).toBeGreaterThanOrEqual(8);
    await screenshot(page, 'ui-data');

    const quarantine = await openPage(browser, `${ui.url}${paths.quarantine(datasetId)}?column=delay`);
    expect(quarantine.loaded.errors).toEqual([]);
    expect(await quarantine.page.locator('#quarantine-total').textContent()).toMatch(/^\d[\d,]* records?$/);
    const rows = await openPage(browser, `${ui.url}${paths.rows(datasetId)}`);
    expect(rows.loaded.errors).toEqual([]);
    expect(await rows.page.locator('#rows tbody tr').count()).toBe(50);
  });

  it('Models: versions, lineage, the alias timeline and a diff', async () => {
    const { page, loaded } = await openPage(browser, `${ui.url}${paths.model(scenario.model)}`);
    expect(loaded.errors).toEqual([]);
    expect(await page.locator('#versions tbody tr').count()).toBe(3);
    expect((await chartMarks(page, 'alias-timeline')).items.rect).toBeGreaterThanOrEqual(1);
    const version = await openPage(browser, `${ui.url}${paths.version(scenario.model, 1)}`);
    expect(version.loaded.errors).toEqual([]);
    expect(await version.page.locator(`#lineage a[href="${paths.dataset(scenario.first.datasetVersionId)}"]`).count()).toBe(1);
    const diff = await openPage(browser, `${ui.url}${paths.diff(scenario.model, 1, 2)}`);
    expect(diff.loaded.errors).toEqual([]);
    expect(await diff.page.locator('#diff-metrics tbody tr').count()).toBeGreaterThan(3);
  });

  it('Monitoring: drift per feature over time (one series per feature), live performance, a report', async () => {
    const { page, loaded } = await openPage(browser, `${ui.url}${paths.monitoringModel(scenario.model)}`);
    expect(loaded.errors).toEqual([]);
    const marks = await chartMarks(page, 'drift-over-time', 'feature');
    // A statistic line and a threshold line per feature.
    expect(marks.series.line).toBe(2 * scenario.features.length);
    expect(new Set(marks.lineValues)).toEqual(new Set(scenario.features));
    const points = await chartData<{ reportId: number }>(page, 'drift-over-time', 'drift');
    expect(new Set(points.map((p) => p.reportId))).toEqual(new Set(scenario.reports.map((r) => r.reportId)));
    expect((await chartMarks(page, 'live-performance')).series.area).toBe(1);
    await screenshot(page, 'ui-monitoring');
    const report = await openPage(browser, `${ui.url}${paths.driftReport(scenario.reports[1].reportId)}`);
    expect(report.loaded.errors).toEqual([]);
    expect(await report.page.locator('#drift-features tbody tr').count()).toBe(scenario.features.length);
  });

  it('Rollouts: the live canary, and its buttons need the admin key and promote through the workflow', async () => {
    const list = await openPage(browser, `${ui.url}/rollouts`);
    expect(list.loaded.errors).toEqual([]);
    const { page, loaded } = await openPage(browser, `${ui.url}${paths.rollout(scenario.rolloutId)}`);
    expect(loaded.errors).toEqual([]);
    const traffic = await chartData<{ percent: number }>(page, 'canary-traffic', 'canary_traffic');
    expect(traffic.map((t) => t.percent)).toContain(25);
    expect((await chartData(page, 'canary-health', 'canary_health')).length).toBeGreaterThan(0);
    await screenshot(page, 'ui-rollout');

    // Without the key: refused, and the rollout runs on.
    await page.locator('#promote-button').click();
    await page.locator('#action-result', { hasText: /refused: this route needs an admin key/ }).waitFor({ timeout: 10_000 });
    await page.locator('#admin-key').fill(adminKey);
    await page.locator('#admin-key').dispatchEvent('change');
    await page.locator('#action-reason').fill('looks good in the browser test');
    await page.locator('#promote-button').click();
    await page.locator('#action-result', { hasText: /promoted/ }).waitFor({ timeout: 30_000 });
    const [rollout] = await harness.database.db.select().from(rollouts).where(eq(rollouts.id, scenario.rolloutId));
    expect(rollout).toMatchObject({ status: 'promoted', decidedBy: 'user:dashboard' });
    expect((await resolveAlias(harness.database.db, scenario.model, 'production'))?.version).toBe(scenario.second.version);
    const promoted = await harness.database.db
      .select()
      .from(rolloutEvents)
      .where(and(eq(rolloutEvents.rolloutId, scenario.rolloutId), eq(rolloutEvents.kind, 'promoted')));
    expect(promoted[0]?.reason).toContain('looks good in the browser test');
  });

  it('Approval: a pending run shows its evaluation against production; Approve needs the key and moves it to deploy', async () => {
    const runs = await openPage(browser, `${ui.url}/runs`);
    expect(runs.loaded.errors).toEqual([]);
    const runId = `${scenario.awaiting.workflowId}/${scenario.awaiting.runId}`;
    expect(await runs.page.locator(`#pending-approvals a[href="${paths.run(runId)}"]`).count()).toBe(1);

    const { page, loaded } = await openPage(browser, `${ui.url}${paths.run(runId)}`);
    expect(loaded.errors).toEqual([]);
    expect(await page.locator('#approval').textContent()).toMatch(/rocAuc [\d.]+ vs production v\d+ [\d.]+/);
    await screenshot(page, 'ui-approval');
    await page.locator('#approve-button').click();
    await page.locator('#action-result', { hasText: /refused: this route needs an admin key/ }).waitFor({ timeout: 10_000 });
    await page.locator('#admin-key').fill(adminKey);
    await page.locator('#admin-key').dispatchEvent('change');
    await page.locator('#approver').fill('user:browser-test');
    await page.locator('#action-reason').fill('evaluation checked');
    await page.locator('#approve-button').click();
    await page.locator('#action-result', { hasText: /approved v\d+ by user:browser-test/ }).waitFor({ timeout: 30_000 });

    const result = await scenario.awaiting.result;
    expect(result).toMatchObject({ status: 'registered', deployed: true });
    expect((await resolveAlias(harness.database.db, scenario.model, 'production'))?.version).toBe((result as { version: number }).version);
    const [row] = await harness.database.db.select().from(approvals).where(eq(approvals.workflowId, scenario.awaiting.workflowId));
    expect(row).toMatchObject({
      status: 'approved',
      decidedBy: 'user:browser-test',
      channel: 'dashboard',
      authenticated: true,
      reason: 'evaluation checked',
    });
  });

  it('refuses an action from another origin or without the dashboard header', async () => {
    const url = `${ui.url}/actions/rollouts/${scenario.model}/pause`;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` };
    const noHeader = await fetch(url, { method: 'POST', headers, body: '{}' });
    expect(noHeader.status).toBe(403);
    const crossSite = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'x-keel-action': '1', origin: 'http://evil.example' },
      body: '{}',
    });
    expect(crossSite.status).toBe(403);
    expect(((await crossSite.json()) as { message: string }).message).toContain('cross-origin');
  });
});
