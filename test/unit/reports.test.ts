import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { profileDataset } from '../../src/data/profile';
import {
  datasetRows,
  datasetVersions,
  driftReferences,
  driftReports,
  modelVersions,
  quarantinedRows,
  trainingRuns,
} from '../../src/db/schema';
import { binaryCurves } from '../../src/ml/evaluation-curves';
import { binaryClassificationMetrics } from '../../src/ml/metrics';
import { categoricalDriftReference, numericDriftReference } from '../../src/monitoring/reference';
import { formatLineage } from '../../src/cli/model-version-text';
import { describeVersion } from '../../src/registry/lineage';
import { collectGarbage } from '../../src/registry/retention';
import { inlineScript } from '../../src/reports/html-document';
import { defaultReportFileName, renderDatasetReport, renderDriftReport, renderRunReport } from '../../src/reports/render';
import { storedRunReport, storeRunReport } from '../../src/reports/stored-run-report';
import { chartLibraries } from '../../src/ui/assets';
import { mulberry32 } from '../../src/shared/prng';
import { openTestRegistry, registerTiny, type TestRegistry } from './registry-fixtures';
import { parseJson } from '../fixtures/json';

/**
 * The three reports rendered from a PGlite database that holds what a pipeline and a monitor run
 * store: each is one document with the chart libraries inlined once, specs that parse and carry
 * data, and no address that a browser would fetch.
 */
describe('self-contained HTML reports', () => {
  let registry: TestRegistry;
  const model = 'report-test';
  const workflowId = `train/${model}/first`;
  const runId = 'run-1';
  const trainingRunId = `${workflowId}/${runId}/trial-1`;
  let reportId: number;

  beforeAll(async () => {
    registry = await openTestRegistry('pglite');
    const db = registry.database.db;
    const random = mulberry32(5);
    const rows = Array.from({ length: 400 }, (_, i) => {
      const distance = 100 + random() * 2000;
      return { distance, minutes: distance / 8 + random() * 30, origin: ['SFO', 'LAX', 'ORD'][i % 3], delayed: random() < 0.25 ? 1 : 0 };
    });
    const columns = [
      { name: 'distance', type: 'number' },
      { name: 'minutes', type: 'number' },
      { name: 'origin', type: 'string' },
      { name: 'delayed', type: 'boolean' },
    ] as const;
    await db.insert(datasetVersions).values({
      id: 'a1b2c3d4e5f60718',
      name: 'flights-report',
      contentHash: 'c0ffee',
      spec: {},
      columns,
      rowsRead: 403,
      rowCount: 400,
      quarantinedCount: 2,
      duplicateCount: 1,
      report: {
        sources: [{ name: 'flights', scanned: 410, filtered: 7, read: 403, accepted: 400, quarantined: 2, duplicates: 1 }],
        read: 403,
        accepted: 400,
        quarantined: 2,
        duplicates: 1,
        limited: false,
      },
      profile: profileDataset(rows, [...columns]),
    });
    await db.insert(datasetRows).values(rows.map((data, rowIndex) => ({ datasetVersionId: 'a1b2c3d4e5f60718', rowIndex, data })));
    await db.insert(quarantinedRows).values([
      {
        datasetVersionId: 'a1b2c3d4e5f60718',
        source: 'flights',
        recordNumber: 3,
        raw: {},
        reasons: ['distance: must be a number (got "far" from DISTANCE)'],
      },
      {
        datasetVersionId: 'a1b2c3d4e5f60718',
        source: 'flights',
        recordNumber: 9,
        raw: {},
        reasons: ['distance: must be a number (got "</script><img src=http://x>" from DISTANCE)'],
      },
    ]);

    const labels = rows.map((r) => r.delayed);
    const proba = rows.map((r, i) => Math.min(1, Math.max(0, 0.2 + 0.3 * r.delayed + (random() - 0.5) * 0.5 + (i % 2) * 0.01)));
    const metrics = binaryClassificationMetrics(labels, proba, 0.3);
    const trial = (name: string, l2: number, value: number) => ({
      id: `${workflowId}/${runId}/${name}`,
      trial: name,
      modelName: model,
      workflowId,
      runId,
      datasetVersionId: 'a1b2c3d4e5f60718',
      trainer: { kind: 'logistic-regression', l2, maxIterations: 50 },
      modelArtifactSha256: 'a'.repeat(64),
      learningCurve: {
        metric: 'logloss',
        train: Array.from({ length: 30 }, (_, i) => 0.7 - i / 100),
        validation: Array.from({ length: 30 }, (_, i) => 0.72 - i / 120),
      },
      trainSeconds: 1.5,
      validationMetrics: { ...metrics, rocAuc: value },
    });
    await db.insert(trainingRuns).values([trial('trial-0', 0.1, 0.61), trial('trial-1', 0.01, 0.66)]);
    await db
      .update(trainingRuns)
      .set({
        evaluation: { metrics, curves: binaryCurves(labels, proba, 0.3), testRows: 400 },
        gate: { passed: true, reasons: ['rocAuc 0.7 >= 0.6'] },
      })
      .where(eq(trainingRuns.id, trainingRunId));
    await registerTiny(registry, model, 1, { trainingRunId, datasetVersionId: 'a1b2c3d4e5f60718', workflowId, runId });

    await db.insert(driftReferences).values({
      modelName: model,
      version: 1,
      datasetVersionId: 'a1b2c3d4e5f60718',
      references: {
        features: {
          distance: numericDriftReference(rows.map((r) => r.distance)),
          origin: categoricalDriftReference(rows.map((r) => r.origin)),
        },
        prediction: numericDriftReference(proba),
      },
      summary: {},
    });
    const originBins = [
      ...Array.from({ length: 15 }, (_, i) => ({ label: `A${i}`, reference: 0.06, current: i === 0 ? 0.2 : 0.05 })),
      { label: '(other)', reference: 0.1, current: 0.1 },
      { label: '(missing)', reference: 0, current: 0 },
    ];
    const report = (hour: number, distance: number) => ({
      runKey: `monitor/${model}/${hour}`,
      modelName: model,
      version: 1,
      referenceDatasetVersionId: 'a1b2c3d4e5f60718',
      windowStart: new Date(Date.UTC(2026, 0, 1, hour)),
      windowEnd: new Date(Date.UTC(2026, 0, 1, hour + 1)),
      rowCount: 300,
      status: distance > 0.1 ? 'drift' : 'ok',
      features: {
        // The second report was stored with its PSI bins (origin with 15 categories), the first before they were kept.
        ...(hour === 2 ? { evaluation: { columns: [{ column: 'origin', bins: originBins }], prediction: null } } : {}),
        message: 'drift in distance',
        features: [
          { feature: 'distance', method: 'wasserstein', score: distance, threshold: 0.1, drifted: distance > 0.1, psi: 0.3 },
          { feature: 'origin', method: 'psi', score: 0.02, threshold: 0.25, drifted: false, psi: 0.02 },
        ],
      },
      findings: distance > 0.1 ? ['feature_drift'] : [],
      actions: { retrain: { workflowId: `train/${model}/drift-x`, period: null, consecutive: 2, started: true } },
    });
    await db.insert(driftReports).values([report(1, 0.05), report(2, 0.4)]);
    [{ id: reportId }] = await db
      .select({ id: driftReports.id })
      .from(driftReports)
      .where(eq(driftReports.runKey, `monitor/${model}/2`));
  });
  let closed = false;
  afterAll(async () => {
    if (!registry) return;
    if (closed) await rm(registry.dir, { recursive: true, force: true });
    else await registry.close();
  });

  /** The specs of every chart in the document, by chart id. */
  function specsOf(html: string): Map<string, { data?: { values?: unknown[] }; layer?: { data?: { values?: unknown[] } }[] }> {
    const specs = new Map<string, { data?: { values?: unknown[] }; layer?: { data?: { values?: unknown[] } }[] }>();
    for (const [, id, json] of html.matchAll(/<script type="application\/json" id="([^"]+)-spec">(.*?)<\/script>/gs))
      specs.set(id, parseJson(json));
    return specs;
  }

  function expectSelfContained(html: string): void {
    // Each library once, escaped so that it cannot end its element early.
    for (const library of chartLibraries()) expect(html.split(inlineScript(library.text)).length - 1).toBe(1);
    expect(html.match(/<script\b/gi)?.length).toBe(specsOf(html).size + 4);
    // Nothing a browser would fetch: no element with a src or href to an address (nor a relative
    // one: a file has no server beside it), no script or stylesheet from a file.
    const markup = html.replace(/(<script\b[^>]*>)[\s\S]*?<\/script>/gi, '$1</script>');
    const addresses = [...markup.matchAll(/<[a-z][^>]*?\s(?:src|href)\s*=\s*["']?([^"'\s>]*)/gi)].map((m) => m[1]);
    expect(addresses.filter((a) => !a.startsWith('#') && !a.startsWith('data:'))).toEqual([]);
    expect(markup).not.toMatch(/<script\b[^>]*\ssrc=/i);
  }

  it('run: summary, learning curve, ROC/PR/calibration with the threshold, trials, gate and lineage', async () => {
    const { html, id, kind } = await renderRunReport(registry.database.db, `${model}@1`);
    expect(id).toBe(trainingRunId);
    expectSelfContained(html);
    const specs = specsOf(html);
    expect([...specs.keys()]).toEqual(expect.arrayContaining(['learning-curve', 'roc', 'pr', 'calibration', 'confusion-matrix']));
    const roc = JSON.stringify(specs.get('roc'));
    expect(roc).toContain('"threshold":0.3');
    expect((roc.match(/"fpr":/g) ?? []).length).toBeGreaterThan(10);
    expect(html).toContain('id="trials"');
    expect(html).toContain('rocAuc 0.7 &gt;= 0.6');
    expect(html).toContain('c0ffee');
    expect(defaultReportFileName({ kind, id })).toBe('keel-report-run-train_report-test_first_run-1_trial-1.html');
    // The other references name the same run.
    for (const reference of [trainingRunId, workflowId, `${model}@latest`])
      expect((await renderRunReport(registry.database.db, reference)).id).toBe(trainingRunId);
    await expect(renderRunReport(registry.database.db, 'no-such-run')).rejects.toThrow(/no training run matches "no-such-run"/);
  });

  it('dataset: accounting, profile charts with data, correlations, quarantine reasons escaped', async () => {
    const { html, id } = await renderDatasetReport(registry.database.db, 'flights-report');
    expect(id).toBe('a1b2c3d4e5f60718');
    expectSelfContained(html);
    const specs = specsOf(html);
    expect(specs.get('source-accounting')?.data?.values?.length).toBe(3);
    expect(specs.get('correlations')?.data?.values?.length).toBe(4);
    expect([...specs.keys()].filter((k) => k.startsWith('column-')).length).toBe(4);
    // The reason is grouped without the value; the example keeps it, escaped.
    expect(html).toContain('<td>distance: must be a number</td><td class="num">2</td>');
    expect(html).toContain('&lt;/script&gt;&lt;img src=http://x&gt;');
    expect((await renderDatasetReport(registry.database.db, 'flights-report@a1b2c3')).id).toBe('a1b2c3d4e5f60718');
  });

  it('drift: per feature, over time, reference distributions and the actions', async () => {
    const { html } = await renderDriftReport(registry.database.db, reportId);
    expectSelfContained(html);
    const specs = specsOf(html);
    const overTime = specs.get('drift-over-time')!.data!.values as { feature: string; reportId: number }[];
    expect(new Set(overTime.map((p) => p.feature))).toEqual(new Set(['distance', 'origin']));
    expect(new Set(overTime.map((p) => p.reportId)).size).toBe(2);
    // Stored with the window's bins: both shares, 12 categories and the rest as (other), no empty (missing).
    const bins = specs.get('distributions')!.data!.values as { feature: string; bin: string; set: string; share: number }[];
    expect(bins.filter((b) => b.set === 'current').map((b) => b.bin)).toEqual([
      ...Array.from({ length: 12 }, (_, i) => `A${i}`),
      '(other)',
    ]);
    expect(bins.find((b) => b.set === 'current' && b.bin === '(other)')!.share).toBeCloseTo(0.25, 12);
    // Stored without them (as before reports kept them): the reference alone, from the drift reference.
    const older = specsOf((await renderDriftReport(registry.database.db, reportId - 1)).html);
    const reference = older.get('distributions')!.data!.values as { feature: string; set: string }[];
    expect(new Set(reference.map((b) => b.feature))).toEqual(new Set(['distance', 'origin', 'prediction']));
    expect(new Set(reference.map((b) => b.set))).toEqual(new Set(['reference']));
    expect(html).toContain('Started retraining');
    await expect(renderDriftReport(registry.database.db, 999_999)).rejects.toThrow(/no drift report 999999/);
  });

  it('stores a run report once per content, linked from the run, kept by GC, shown by lineage', async () => {
    const db = registry.database.db;
    const first = await storeRunReport(db, registry.artifacts, trainingRunId);
    const again = await storeRunReport(db, registry.artifacts, trainingRunId);
    expect(again.sha256).toBe(first.sha256);
    const stored = await storedRunReport(db, registry.artifacts, `${model}@1`);
    expect(stored.html).toContain('<!doctype html>');
    const [version] = await db.select().from(modelVersions).where(eq(modelVersions.modelName, model));
    const lineage = await describeVersion(db, version, {
      temporalUi: 'http://127.0.0.1:8233',
      namespace: 'default',
      artifacts: registry.artifacts,
    });
    expect(lineage.trainingRun?.report?.sha256).toBe(first.sha256);
    expect(formatLineage(lineage)).toContain(
      `run report: ${registry.artifacts.pathOf(first.sha256)} (keel report run ${model}@1 --stored)`,
    );
    const gc = await collectGarbage(db, registry.artifacts, { graceMinutes: 0, dryRun: true });
    expect(gc.references[first.sha256]).toEqual([`${model}@1 run report: active version`]);
    await expect(storedRunReport(db, registry.artifacts, `${workflowId}/${runId}/trial-0`)).rejects.toThrow(/has no stored report/);
  });

  it('keel report writes each file and prints its path (the real entry point, on the embedded database)', async () => {
    await storeRunReport(registry.database.db, registry.artifacts, trainingRunId);
    // PGlite is single-process: the CLI opens the directory once this process has let go.
    await registry.database.close();
    closed = true;
    const env = {
      ...process.env,
      KEEL_DATA_DIR: join(registry.dir, 'db'),
      KEEL_ARTIFACT_STORE: registry.artifacts.root,
      DATABASE_URL: '',
      LOG_LEVEL: 'silent',
    };
    const keel = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'report', ...args], { env, cwd: process.cwd() }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const out = join(registry.dir, 'run.html');
    // One at a time: a CLI refuses a PGlite directory another process holds.
    const run = await keel('run', `${model}@1`, '--stored', '--out', out);
    const drift = await keel('drift', String(reportId), '--out', join(registry.dir, 'drift.html'));
    const bad = await keel('drift', 'latest');
    expect(run).toMatchObject({ code: 0, stdout: `${out}\n` });
    expect(await readFile(out, 'utf8')).toContain('<body data-report="run">');
    expect(drift.code).toBe(0);
    expect(await readFile(drift.stdout.trim(), 'utf8')).toContain(`Drift report #${reportId}`);
    expect(bad).toMatchObject({ code: 1 });
    expect(bad.stderr).toContain('reportId: must be a positive whole number (got "latest")');
  });
});
