import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Screenshots of the browser tests (not checked in; two are copied to docs/img by hand). */
const screenshotDir = join(process.cwd(), 'test-results', 'browser');

/** Debian's chromium, headless, with nothing that reaches the network on its own. */
export async function launchChromium(): Promise<Browser> {
  await mkdir(screenshotDir, { recursive: true });
  return chromium.launch({
    executablePath: process.env.KEEL_CHROMIUM ?? '/usr/bin/chromium',
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
}

export interface LoadedPage {
  /** Chart id → number of charts drawn, and the console errors and failed requests seen. */
  charts: number;
  errors: string[];
}

/**
 * Opens `url` in a fresh page, waits until every chart is drawn, and returns the console errors,
 * uncaught exceptions and failed requests (a request to anything but the dashboard would fail:
 * there is no network, and the CSP forbids it).
 */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; loaded: LoadedPage }> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()}`));
  const origin = new URL(url).origin;
  page.on('request', (request) => {
    if (!request.url().startsWith(origin) && !request.url().startsWith('data:')) errors.push(`off-site request: ${request.url()}`);
  });
  const response = await page.goto(url, { waitUntil: 'load' });
  expect(response?.status(), url).toBe(200);
  const charts = await page.evaluate(() => (globalThis as unknown as { keelChartsReady: Promise<number> }).keelChartsReady);
  return { page, loaded: { charts, errors } };
}

/** The data set `name` of chart `id`, as its Vega view holds it. */
export function chartData<T = Record<string, unknown>>(page: Page, id: string, name: string): Promise<T[]> {
  return page.evaluate(
    ([chart, data]) =>
      (globalThis as unknown as { keelCharts: Record<string, { data(n: string): unknown[] }> }).keelCharts[chart].data(data),
    [id, name],
  ) as Promise<T[]>;
}

/**
 * The marks Vega drew for chart `id`, from its scenegraph: per mark type, the items (bars,
 * points) and the series (one line or area mark per group), and the values of `field` that the
 * line series carry (e.g. one feature per drift line).
 */
export function chartMarks(page: Page, id: string, field?: string) {
  return page.evaluate(
    ([chart, key]) => {
      interface Node {
        marktype?: string;
        role?: string;
        items?: (Node & { datum?: Record<string, unknown> })[];
      }
      const view = (globalThis as unknown as { keelCharts: Record<string, { scenegraph(): { root: Node } }> }).keelCharts[chart];
      const items: Record<string, number> = {};
      const series: Record<string, number> = {};
      const lineValues: string[] = [];
      const walk = (node: Node) => {
        if (node.marktype && node.role === 'mark' && node.items?.length) {
          items[node.marktype] = (items[node.marktype] ?? 0) + node.items.length;
          series[node.marktype] = (series[node.marktype] ?? 0) + 1;
          if (node.marktype === 'line' && key) lineValues.push(String(node.items[0].datum?.[key]));
        }
        for (const child of node.items ?? []) if (child && typeof child === 'object') walk(child);
      };
      walk(view.scenegraph().root);
      return { items, series, lineValues };
    },
    [id, field ?? ''] as const,
  );
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

/**
 * Writes a self-contained report into `dir`, opens it from file:// with every request outside
 * file: and data: blocked (and listed in `attempted`), and waits until every chart is drawn.
 */
export async function openReportOffline(browser: Browser, dir: string, report: { kind: string; id: string; html: string }) {
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
