import { describe, expect, it } from 'vitest';
import { livePerformance, type LoggedPrediction } from '../../src/monitoring/live-performance';
import { actionAlerts, monitorFailureAlert, reportAlerts } from '../../src/monitoring/monitor-alerts';
import { monitoredColumns, monitoredRows } from '../../src/monitoring/monitored-columns';
import type { WindowRow } from '../../src/monitoring/prediction-window';
import { DriftReferenceBuilder, numericDriftReference } from '../../src/monitoring/reference';
import type { StoredReference } from '../../src/monitoring/reference-store';
import { evaluateWindowInWorkerThread } from '../../src/monitoring/evaluate-window-in-worker-thread';
import { buildReport, evaluateWindow, reportSummary, type ReportDetails, type StoredReport } from '../../src/monitoring/report';
import { DataValidationError } from '../../src/shared/errors';
import { monitorInputSchema } from '../../src/shared/monitoring';
import { mulberry32 } from '../../src/shared/prng';

/**
 * The monitor's report as a pure function of the window: findings, status, message and the
 * alerts it raises, without a database. A binary model with a numeric and a categorical input.
 */
const airports = ['ATL', 'ORD', 'DFW'];
const window = { start: '2031-01-01T00:00:00.000Z', end: '2031-01-01T01:00:00.000Z' };

function traffic(n: number, seed: number, options: { shift?: number; airports?: string[] } = {}) {
  const random = mulberry32(seed);
  const codes = options.airports ?? airports;
  return Array.from({ length: n }, () => ({
    distance: 200 + 800 * random() + (options.shift ?? 0),
    origin: codes[Math.floor(random() * codes.length)],
    score: random(),
  }));
}

function reference(): StoredReference {
  const columns = monitoredColumns(
    [
      { name: 'distance', kind: 'numeric' },
      { name: 'origin', kind: 'categorical' },
    ],
    new Map([
      ['distance', 'number'],
      ['origin', 'string'],
    ]),
  );
  const rows = traffic(3000, 1);
  const builder = new DriftReferenceBuilder(columns, { seed: 7 });
  for (const row of monitoredRows(columns, rows)) builder.add(row);
  const metrics = { rocAuc: 0.9, accuracy: 0.8, f1: 0.7, n: 3000, positives: 1500 };
  return {
    datasetVersionId: 'ds-1',
    columns,
    features: builder.finish(),
    prediction: numericDriftReference(rows.map((r) => r.score)),
    summary: { rows: 3000, testRows: 3000, positives: 1500, target: 'late', metrics },
  };
}

function served(rows: ReturnType<typeof traffic>): WindowRow[] {
  return rows.map((r, i) => ({
    version: 1,
    shadow: false,
    at: Date.parse(window.start) + i,
    inputs: { distance: r.distance, origin: r.origin },
    probability: r.score,
    outputs: { probability: r.score, label: r.score > 0.5 ? 1 : 0 },
    feedback: null,
  }));
}

const input = (extra: object = {}) => monitorInputSchema.parse({ model: 'flights', windowMinutes: 60, minRows: 100, ...extra });

function report(rows: WindowRow[], options: { input?: ReturnType<typeof input>; performance?: ReturnType<typeof livePerformance> } = {}) {
  const monitorInput = options.input ?? input();
  const stored = reference();
  const evaluation = evaluateWindow(stored, rows, monitorInput);
  return buildReport({
    runKey: 'monitor/flights/1',
    input: monitorInput,
    window,
    version: 1,
    referenceDatasetVersionId: stored.datasetVersionId,
    served: rows,
    evaluation,
    performance: options.performance ?? null,
    guard: { inputs: [{ name: 'origin', known: new Set(airports), policy: 'bucket' }] },
    freshness: [],
  });
}

/** What the database gives back for a built report. */
function storedRow(built: ReturnType<typeof report>): StoredReport {
  return { ...built, id: 42, actions: {}, createdAt: new Date(window.end) } as StoredReport;
}

describe('monitor report', () => {
  it('the same traffic as training is ok, with no finding and no alert', () => {
    const built = report(served(traffic(1000, 2)));
    expect(built.findings).toEqual([]);
    expect(built.status).toBe('ok');
    expect(built.rowCount).toBe(1000);
    expect(built.dataPeriod).toEqual({ from: '2031-01-01', to: '2031-01-02' });
    const details = built.features as ReportDetails;
    expect(details.features.map((f) => f.feature)).toEqual(['distance', 'origin']);
    expect(details.unknownCategories.origin).toEqual({ unknown: 0, present: 1000, share: 0 });
    expect(reportAlerts(storedRow(built), input(), 1)).toEqual([]);
  });

  it('shifted distances are drift: a finding, the status, the feature in the summary and a critical alert at the period end', () => {
    const rows = served(traffic(1000, 3, { shift: 600 }));
    const built = report(rows);
    // One of the two features drifts: half of them, the default dataset share.
    expect(built.findings).toEqual(['data_drift']);
    expect(built.status).toBe('drift');
    const summary = reportSummary(storedRow(built), 1, []);
    expect(summary).toMatchObject({ reportId: 42, model: 'flights', version: 1, status: 'drift', driftedFeatures: ['distance'] });
    expect(summary.message).toBe((built.features as ReportDetails).message);

    const replay = input({ dataPeriod: { from: '2001-05-01', to: '2001-06-01' } });
    const alerts = reportAlerts(storedRow(report(rows, { input: replay })), replay, 1);
    expect(alerts.map((a) => [a.kind, a.severity])).toEqual([['data_drift', 'critical']]);
    expect(alerts[0].occurredAt).toBe('2001-06-01T00:00:00.000Z');
  });

  it('too few rows is insufficient_data, unless live performance could be judged', () => {
    const few = served(traffic(50, 4, { shift: 600 }));
    expect(report(few)).toMatchObject({ status: 'insufficient_data', findings: [] });

    const random = mulberry32(5);
    // Labels that disagree with the scores: concept drift of the served version.
    const labelled: LoggedPrediction[] = Array.from({ length: 400 }, (_, i) => {
      const probability = random();
      return { version: 1, at: i, probability, predicted: probability > 0.5 ? 1 : 0, actual: probability > 0.5 ? 0 : 1 };
    });
    const monitorInput = input({ performance: { minLabelled: 100 } });
    const performance = livePerformance(labelled, {
      config: monitorInput.performance,
      window,
      references: new Map([[1, reference().summary.metrics]]),
    });
    const built = report(few, { input: monitorInput, performance });
    expect(built.findings).toContain('concept_drift');
    expect(built.status).toBe('drift');
    expect((built.features as ReportDetails).message).toMatch(
      /performance on 400 labels: rocAuc 0\.\d{4} \(test split 0\.9000\).*concept drift/,
    );
    expect(reportSummary(storedRow(built), 1, []).performance).toMatchObject({ version: 1, labelled: 400, concept: 'drift' });
  });

  it('categories the graph does not know are a finding named in the message', () => {
    const built = report(served(traffic(1000, 6, { airports: ['ATL', 'SEA'] })));
    expect(built.findings).toContain('unknown_categories');
    expect((built.features as ReportDetails).message).toMatch(/unknown categories: origin \d+\.\d % of 1000$/);
  });
});

describe('the window evaluated in a worker thread', () => {
  it('gives the evaluation the in-process one gives', async () => {
    const rows = served(traffic(1500, 3, { shift: 150 }));
    const inProcess = evaluateWindow(reference(), rows, input());
    expect(inProcess.status).toBe('drift');
    expect(await evaluateWindowInWorkerThread(reference(), rows, input())).toEqual(inProcess);
  });

  it('refuses a statistic the column cannot take with a DataValidationError, as in process', async () => {
    const refused = evaluateWindowInWorkerThread(
      reference(),
      served(traffic(500, 2)),
      input({ drift: { columns: { origin: { method: 'ks' } } } }),
    );
    await expect(refused).rejects.toBeInstanceOf(DataValidationError);
    await expect(refused).rejects.toMatchObject({
      rule: 'referenceSchema',
      message: expect.stringContaining('cannot use ks as a categorical column'),
    });
  });
});

describe('monitor action alerts', () => {
  const reportRow = { id: 7, windowEnd: new Date('2031-02-01T00:00:00Z') };

  it('a started retraining is an info alert keyed by its workflow; a failed rollback signal is critical and says why', () => {
    const alerts = actionAlerts(reportRow, 'flights', 3, {
      retrain: { workflowId: 'train/flights/drift-7', started: true, consecutive: 3, period: { from: '2001-03-01', to: '2001-06-01' } },
      rollback: { workflowId: 'canary/flights', candidate: 4, signalled: false, reason: 'rocAuc fell', error: 'not found' },
    });
    expect(alerts.map((a) => [a.kind, a.severity, a.incidentKey, a.version])).toEqual([
      ['retraining', 'info', 'retraining:flights:train/flights/drift-7', 3],
      ['rollback', 'critical', 'rollback:flights:canary/flights:v4', 4],
    ]);
    expect(alerts[0].message).toContain('on the data of 2001-03-01 to 2001-06-01');
    expect(alerts[1].title).toBe('flights v4: canary rollback could not be signalled');
    expect(alerts[1].message).toBe('Signalling canary/flights failed (not found); reason: rocAuc fell');
    expect(alerts.every((a) => a.occurredAt === '2031-02-01T00:00:00.000Z')).toBe(true);
    expect(actionAlerts(reportRow, 'flights', 3, { retrain: { workflowId: 'x', started: false, consecutive: 3, period: null } })).toEqual(
      [],
    );
  });

  it('a monitor that cannot run raises one critical alert per dedup window', () => {
    const at = (iso: string) => monitorFailureAlert({ model: 'flights', error: 'boom', at: iso, dedupWindowMs: 3_600_000 });
    expect(at('2031-01-01T00:10:00Z')).toMatchObject({ kind: 'monitor_error', severity: 'critical', message: 'boom', version: null });
    expect(at('2031-01-01T00:10:00Z').incidentKey).toBe(at('2031-01-01T00:50:00Z').incidentKey);
    expect(at('2031-01-01T00:10:00Z').incidentKey).not.toBe(at('2031-01-01T01:10:00Z').incidentKey);
  });
});
