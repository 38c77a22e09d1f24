import type { ColumnDef, Row } from '../../src/data/columns';
import { profileDataset } from '../../src/data/profile';
import type { Database } from '../../src/db/database';
import {
  alerts,
  aliasHistory,
  datasetVersions,
  driftReports,
  modelAliases,
  modelVersions,
  pipelineRuns,
  registeredModels,
  rolloutEvents,
  rollouts,
  trainingRuns,
} from '../../src/db/schema';
import { binaryCurves } from '../../src/ml/evaluation-curves';
import { binaryClassificationMetrics } from '../../src/ml/metrics';
import { mulberry32 } from '../../src/shared/prng';

/**
 * A scratch database shaped like a busy keel: `runs` pipeline runs (each with a training run,
 * its 200-iteration learning curves and its evaluation with curve points), one dataset version of
 * `rows` rows with its profile and quarantine, `versions` model versions with an alias history,
 * a canary rollout, and `reports` drift reports (5 features, live performance) with alerts.
 * Seeded: the same sizes give the same database.
 */
export interface FillSizes {
  runs: number;
  versions: number;
  reports: number;
  rows: number;
}

export const benchModel = 'bench-model';
const features = ['hour', 'weekday', 'distance', 'origin', 'destination'];
const columns: ColumnDef[] = [
  { name: 'hour', type: 'integer' },
  { name: 'weekday', type: 'integer' },
  { name: 'distance', type: 'number' },
  { name: 'origin', type: 'string' },
  { name: 'destination', type: 'string' },
  { name: 'delayed', type: 'boolean' },
];

export async function fill(
  database: Database,
  sizes: FillSizes,
): Promise<{ datasetId: string; rolloutId: string; reportId: number; runId: string }> {
  const db = database.db;
  const random = mulberry32(7);
  const airports = Array.from({ length: 60 }, (_, i) => `A${i.toString(36).toUpperCase().padStart(2, '0')}`);
  const t0 = Date.UTC(2026, 0, 1);

  // --- dataset --------------------------------------------------------------------------------
  const datasetId = 'bench-dataset-0001';
  const rows: Row[] = Array.from({ length: sizes.rows }, () => {
    const hour = Math.floor(random() * 24);
    return {
      hour,
      weekday: 1 + Math.floor(random() * 7),
      distance: Math.round(100 + random() * 2500),
      origin: airports[Math.floor(random() ** 2 * airports.length)],
      destination: airports[Math.floor(random() * airports.length)],
      delayed: random() < 0.1 + hour / 60 ? 1 : 0,
    };
  });
  await database.copyRows(
    'dataset_rows',
    ['dataset_version_id', 'row_index', 'data'],
    rows.map((row, i) => [datasetId, i, row]),
  );
  const quarantined = Math.round(sizes.rows * 0.01);
  await database.copyRows(
    'quarantined_rows',
    ['dataset_version_id', 'source', 'record_number', 'raw', 'reasons', 'kind'],
    Array.from({ length: quarantined }, (_, i) => [
      datasetId,
      'flights.parquet',
      sizes.rows + i,
      { distance: 'n/a' },
      ['distance: not a number (got "n/a" from distance)'],
      'invalid',
    ]),
  );
  await db.insert(datasetVersions).values({
    id: datasetId,
    name: 'bench-flights',
    contentHash: 'b'.repeat(64),
    spec: {},
    columns,
    rowsRead: sizes.rows + quarantined,
    rowCount: sizes.rows,
    quarantinedCount: quarantined,
    duplicateCount: 0,
    report: {
      sources: [
        {
          name: 'flights.parquet',
          scanned: sizes.rows + quarantined,
          filtered: 0,
          read: sizes.rows + quarantined,
          accepted: sizes.rows,
          quarantined,
          duplicates: 0,
        },
      ],
      read: sizes.rows + quarantined,
      accepted: sizes.rows,
      quarantined,
      duplicates: 0,
      limited: false,
    },
    profile: profileDataset(rows, columns),
  });

  // --- pipeline runs and training runs -----------------------------------------------------------
  const stages = ['ingest', 'validate', 'split', 'train', 'export', 'evaluate', 'gate', 'register', 'deploy'];
  const n = 3000;
  for (let r = 0; r < sizes.runs; r++) {
    const workflowId = `train/${benchModel}/${r}`;
    const runId = `run-${r}`;
    const started = t0 + r * 3_600_000;
    const proba = Float64Array.from({ length: n }, () => random());
    const labels = Float64Array.from(proba, (p) => (random() < p * 0.6 ? 1 : 0));
    const metrics = binaryClassificationMetrics(labels, proba, 0.3);
    const curve = (start: number) => Array.from({ length: 200 }, (_, i) => start * Math.exp(-i / 30) + 0.5);
    const failed = r % 10 === 9;
    await db.insert(trainingRuns).values({
      id: `${workflowId}/${runId}/main`,
      modelName: benchModel,
      workflowId,
      runId,
      datasetVersionId: datasetId,
      trainer: { kind: 'logistic-regression', l2: 0.0001 },
      modelArtifactSha256: 'c'.repeat(64),
      learningCurve: { metric: 'logloss', train: curve(0.2), validation: curve(0.22) },
      trainSeconds: 2,
      validationMetrics: metrics,
      evaluation: { metrics, curves: binaryCurves(labels, proba, 0.3), testRows: n },
      gate: { passed: true, reasons: ['rocAuc ≥ 0.6'] },
      createdAt: new Date(started + 4000),
    });
    await db.insert(pipelineRuns).values({
      id: `${workflowId}/${runId}`,
      workflowId,
      runId,
      modelName: benchModel,
      status: failed ? 'failed' : 'succeeded',
      stages: stages.slice(0, failed ? 4 : stages.length).map((name, i, all) => ({
        name,
        startedAt: new Date(started + i * 1000).toISOString(),
        endedAt: new Date(started + (i + 1) * 1000).toISOString(),
        outcome: failed && i === all.length - 1 ? 'failed' : 'succeeded',
      })),
      failure: failed
        ? {
            error: 'target "delayed" must be a finite number, but dataset row 6 has null',
            type: 'DataValidationError',
            nonRetryable: true,
            cause: [],
          }
        : null,
      datasetVersionId: datasetId,
      trainingRunId: `${workflowId}/${runId}/main`,
      modelVersion: failed ? null : Math.min(sizes.versions, r + 1),
      startedAt: new Date(started),
      endedAt: new Date(started + stages.length * 1000),
    });
  }

  // --- versions and aliases ------------------------------------------------------------------------
  await db.insert(registeredModels).values({ name: benchModel });
  for (let v = 1; v <= sizes.versions; v++) {
    await db.insert(modelVersions).values({
      modelName: benchModel,
      version: v,
      idempotencyKey: `bench/${v}`,
      artifactSha256: v.toString(16).padStart(64, '0'),
      artifactBytes: 12_345,
      contract: { task: 'binary', inputs: features.map((name) => ({ name, type: 'float32' })), outputs: [] },
      params: { trainer: { kind: 'logistic-regression', l2: 0.0001 * v } },
      metrics: {
        task: 'binary',
        n,
        rocAuc: 0.6 + v / 1000,
        accuracy: 0.7,
        f1: 0.4,
        precision: 0.5,
        recall: 0.4,
        logLoss: 0.5,
        positives: 900,
      },
      datasetVersionId: datasetId,
      datasetHash: 'b'.repeat(64),
      trainingRunId: `train/${benchModel}/${v - 1}/run-${v - 1}/main`,
      gitCommit: 'abcdef0',
      gitDirty: false,
      workflowId: `train/${benchModel}/${v - 1}`,
      runId: `run-${v - 1}`,
      createdAt: new Date(t0 + (v - 1) * 3_600_000 + 8000),
    });
    await db.insert(aliasHistory).values({
      modelName: benchModel,
      alias: 'production',
      fromVersion: v > 1 ? v - 1 : null,
      toVersion: v,
      action: 'set',
      actor: 'workflow:bench',
      reason: 'passed the gate',
      at: new Date(t0 + (v - 1) * 3_600_000 + 9000),
    });
  }
  await db.insert(modelAliases).values({ modelName: benchModel, alias: 'production', version: sizes.versions });

  // --- a rollout -------------------------------------------------------------------------------------
  const rolloutId = `canary/${benchModel}/bench-run`;
  await db.insert(rollouts).values({
    id: rolloutId,
    modelName: benchModel,
    workflowId: `canary/${benchModel}`,
    runId: 'bench-run',
    baselineVersion: sizes.versions - 1,
    candidateVersion: sizes.versions,
    settings: { steps: [10, 50, 100], health: { maxErrorRateIncrease: 0.01 } },
    status: 'promoted',
    initiator: 'workflow:bench',
    startedAt: new Date(t0),
  });
  const health = (seq: number) => ({
    candidate: {
      version: sizes.versions,
      rows: 500,
      errors: 0,
      errorRate: 0.001 * (seq % 3),
      p99LatencyMs: 3 + seq / 10,
      labelled: 0,
      accuracy: null,
    },
    baseline: { version: sizes.versions - 1, rows: 2000, errors: 1, errorRate: 0.0005, p99LatencyMs: 3, labelled: 0, accuracy: null },
  });
  for (let seq = 0; seq < 40; seq++) {
    await db.insert(rolloutEvents).values({
      rolloutId,
      seq,
      kind: seq % 2 ? 'step_passed' : 'step',
      percent: seq % 2 ? null : Math.min(100, 10 + seq * 5),
      actor: 'workflow:bench',
      health: seq % 2 ? health(seq) : null,
      at: new Date(t0 + seq * 60_000),
    });
  }

  // --- drift reports and alerts ------------------------------------------------------------------
  let reportId = 0;
  for (let start = 0; start < sizes.reports; start += 100) {
    const batch = Array.from({ length: Math.min(100, sizes.reports - start) }, (_, k) => {
      const i = start + k;
      const end = new Date(t0 + i * 300_000);
      const columnsResult = features.map((feature, f) => {
        const score = 0.02 + 0.01 * f + 0.05 * Math.sin(i / 50 + f) ** 2;
        return { feature, status: 'ok', method: f < 3 ? 'wasserstein' : 'psi', score, threshold: 0.1, drifted: score > 0.1, psi: score };
      });
      const evaluation = {
        columns: columnsResult.map((c) => ({
          ...c,
          histogram: Array.from({ length: 20 }, (_, b) => ({ bin: b, reference: 0.05, current: 0.05 + 0.001 * b })),
        })),
      };
      const value = 0.7 - 0.02 * Math.sin(i / 80);
      return {
        runKey: `monitor/${benchModel}/${i}/run`,
        modelName: benchModel,
        version: sizes.versions,
        referenceDatasetVersionId: datasetId,
        windowStart: new Date(end.getTime() - 3_600_000),
        windowEnd: end,
        rowCount: 1000,
        status: columnsResult.some((c) => c.drifted) ? 'drift' : 'ok',
        features: { message: 'bench report', features: columnsResult, evaluation },
        performance: {
          metric: 'rocAuc',
          window: { start: end.toISOString(), end: end.toISOString() },
          minLabelled: 100,
          versions: [
            {
              version: sizes.versions,
              predictions: 1000,
              labelled: 800,
              coverage: 0.8,
              metrics: null,
              metric: { name: 'rocAuc', value, standardError: 0.015, reference: 0.71 },
              concept: { status: 'ok', floor: 0.66, reasons: [] },
              labelShift: { status: 'off', rate: null, referenceRate: null, change: null, pValue: null },
              rolling: [],
            },
          ],
        },
        findings: [],
        actions: i % 50 === 0 ? { alerts: [{ id: i, kind: 'feature_drift', created: true }] } : {},
        createdAt: end,
      };
    });
    const inserted = await db.insert(driftReports).values(batch).returning({ id: driftReports.id });
    reportId = inserted[inserted.length - 1].id;
  }
  for (let a = 0; a < 20; a++) {
    await db.insert(alerts).values({
      incidentKey: `feature_drift:${benchModel}:v${sizes.versions}:${a}`,
      modelName: benchModel,
      version: sizes.versions,
      kind: 'feature_drift',
      severity: 'warning',
      message: 'feature drift in 1 of 5 features',
      payload: {},
      deliveryStatus: 'none',
      createdAt: new Date(t0 + a * 3_600_000),
    });
  }
  return { datasetId, rolloutId, reportId, runId: `train/${benchModel}/0/run-0` };
}
