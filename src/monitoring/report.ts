import type { driftReports } from '../db/schema';
import type { ViewFreshness } from '../features/freshness';
import type { CategoryGuard } from '../ml/onnx/category-guard';
import { driftFindings, periodOfWindow, type Finding, type MonitorAlertSummary, type MonitorInput } from '../shared/monitoring';
import type { DriftReportSummary } from '../shared/pipeline-result';
import { evaluateDrift, type ColumnDrift, type DriftEvaluation } from './drift';
import type { LivePerformance } from './live-performance-types';
import { columnSpecsForWindow, monitoredRows } from './monitored-columns';
import type { TimeWindow, WindowRow } from './prediction-window';
import type { StoredReference } from './reference-store';
import { unknownCategoryShares, unknownShareBreaches, type UnknownShare } from './unknown-share';

/** The key of the model's output in drift references and in the evaluated rows. */
const PREDICTION_COLUMN = 'probability';

export type StoredReport = typeof driftReports.$inferSelect;
type NewReport = typeof driftReports.$inferInsert;

/** What a stored report keeps in its `features` column. */
export interface ReportDetails {
  message: string;
  unknownCategories: Record<string, UnknownShare>;
  features: (Pick<ColumnDrift, 'status' | 'method' | 'score' | 'threshold' | 'drifted'> & { feature: string; psi: number | null })[];
  evaluation: DriftEvaluation;
  /** Absent in reports stored before feature views. */
  freshness?: ViewFreshness[];
}

/** Compares the window's inputs and predictions (the monitored version's live rows) with its references. */
export function evaluateWindow(
  reference: StoredReference,
  served: readonly Pick<WindowRow, 'inputs' | 'probability'>[],
  input: MonitorInput,
): DriftEvaluation {
  const inputs = served.map((r) => (r.inputs ?? {}) as Record<string, unknown>);
  const monitored = monitoredRows(reference.columns, inputs);
  return evaluateDrift({
    reference: { ...reference.features, ...(reference.prediction ? { [PREDICTION_COLUMN]: reference.prediction } : {}) },
    current: { rows: monitored.map((row, i) => ({ ...row, [PREDICTION_COLUMN]: served[i].probability })) },
    features: columnSpecsForWindow(reference.columns, inputs),
    prediction: reference.prediction ? PREDICTION_COLUMN : undefined,
    config: { ...input.drift, minRows: input.minRows },
  });
}

/**
 * The row a monitor run stores: its findings, status and message from the drift evaluation, the
 * version's live performance, the share of categories the served graph does not know (`guard`
 * absent: no such signal) and the freshness of the feature views it reads.
 */
export function buildReport(options: {
  runKey: string;
  input: MonitorInput;
  window: TimeWindow;
  version: number;
  referenceDatasetVersionId: string;
  served: WindowRow[];
  evaluation: DriftEvaluation;
  performance: LivePerformance | null;
  guard: CategoryGuard | undefined;
  freshness: ViewFreshness[];
}): NewReport {
  const { input, window, version, evaluation, performance } = options;
  const inputs = options.served.map((r) => (r.inputs ?? {}) as Record<string, unknown>);
  const unknownCategories = options.guard ? unknownCategoryShares(options.guard, inputs) : {};
  const unknownBreaches = unknownShareBreaches(unknownCategories, input.drift.unknownShare, input.minRows);
  const findings: Finding[] = [
    ...findingsOf(evaluation, performance, version),
    ...(unknownBreaches.length ? (['unknown_categories'] as const) : []),
  ];
  const details: ReportDetails = {
    message: reportMessage(evaluation, performance, version) + unknownMessage(unknownCategories, unknownBreaches),
    unknownCategories,
    features: evaluation.columns.map((c) => ({
      feature: c.column,
      status: c.status,
      method: c.method,
      score: c.score,
      threshold: c.threshold,
      drifted: c.drifted,
      psi: c.statistics.psi ?? null,
    })),
    evaluation,
    freshness: options.freshness,
  };
  return {
    runKey: options.runKey,
    modelName: input.model,
    version,
    referenceDatasetVersionId: options.referenceDatasetVersionId,
    windowStart: new Date(window.start),
    windowEnd: new Date(window.end),
    rowCount: evaluation.rowCount,
    status: reportStatus(findings, evaluation, performance, version),
    features: details,
    performance,
    findings,
    dataPeriod: input.dataPeriod ?? periodOfWindow(window),
  };
}

/** What the workflow learns of a stored report. */
export function reportSummary(stored: StoredReport, version: number, alerts: MonitorAlertSummary[]): DriftReportSummary {
  const details = stored.features as ReportDetails;
  const performance = stored.performance as LivePerformance | null;
  return {
    reportId: stored.id,
    model: stored.modelName,
    version,
    status: stored.status as DriftReportSummary['status'],
    rowCount: stored.rowCount,
    driftedFeatures: details.evaluation.dataset.driftedColumns,
    message: details.message,
    window: { start: stored.windowStart.toISOString(), end: stored.windowEnd.toISOString() },
    dataPeriod: stored.dataPeriod ?? null,
    findings: stored.findings as Finding[],
    performance: performanceSummary(performance, version),
    alerts,
    actions: {},
  };
}

function findingsOf(evaluation: DriftEvaluation, performance: LivePerformance | null, version: number): Finding[] {
  const findings: Finding[] = [];
  if (evaluation.status !== 'insufficient_data') {
    if (evaluation.dataset.drifted) findings.push('data_drift');
    else if (evaluation.dataset.driftedColumns.length) findings.push('feature_drift');
    if (evaluation.prediction?.drifted) findings.push('prediction_drift');
  }
  const v = performance?.versions.find((p) => p.version === version);
  if (v?.concept.status === 'drift') findings.push('concept_drift');
  if (v?.labelShift.status === 'drift') findings.push('label_drift');
  if (evaluation.problems.absent.length || evaluation.problems.empty.length) findings.push('schema');
  return findings;
}

/** Drift when a drift finding stands; too little data only when neither the inputs nor the labels could be judged. */
function reportStatus(
  findings: Finding[],
  evaluation: DriftEvaluation,
  performance: LivePerformance | null,
  version: number,
): DriftReportSummary['status'] {
  if (findings.some((f) => driftFindings.includes(f))) return 'drift';
  return evaluation.status === 'insufficient_data' && !performanceJudged(performance, version) ? 'insufficient_data' : 'ok';
}

function unknownMessage(shares: Record<string, UnknownShare>, breaches: string[]): string {
  if (!breaches.length) return '';
  return `; unknown categories: ${breaches.map((f) => `${f} ${(shares[f].share * 100).toFixed(1)} % of ${shares[f].present}`).join(', ')}`;
}

function performanceJudged(performance: LivePerformance | null, version: number): boolean {
  const v = performance?.versions.find((p) => p.version === version);
  return v !== undefined && v.concept.status !== 'insufficient_labels';
}

function reportMessage(evaluation: DriftEvaluation, performance: LivePerformance | null, version: number): string {
  const parts = [evaluation.message];
  const v = performance?.versions.find((p) => p.version === version);
  if (v) {
    if (v.concept.status === 'insufficient_labels')
      parts.push(`performance: ${v.labelled} labelled predictions, ${performance!.minLabelled} needed`);
    else if (v.metric.value !== null) {
      const share = v.labelShift.className !== undefined ? `share of class ${v.labelShift.className}` : 'positive share';
      const label =
        v.labelShift.rate !== null
          ? `, ${share} ${(v.labelShift.rate * 100).toFixed(2)}% (training ${((v.labelShift.referenceRate ?? Number.NaN) * 100).toFixed(2)}%)`
          : '';
      parts.push(
        `performance on ${v.labelled} labels: ${v.metric.name} ${v.metric.value.toFixed(4)} (test split ${v.metric.reference?.toFixed(4) ?? 'n/a'})${label}` +
          (v.concept.status === 'drift' ? ' — concept drift' : '') +
          (v.labelShift.status === 'drift' ? ' — label drift' : ''),
      );
    }
  }
  return parts.join('; ');
}

function performanceSummary(performance: LivePerformance | null, version: number): DriftReportSummary['performance'] {
  const v = performance?.versions.find((p) => p.version === version);
  if (!v) return null;
  return {
    version: v.version,
    labelled: v.labelled,
    metric: v.metric.name,
    value: v.metric.value,
    reference: v.metric.reference,
    concept: v.concept.status,
    positiveRate: v.labelShift.rate,
    referencePositiveRate: v.labelShift.referenceRate,
    labelShift: v.labelShift.status,
  };
}

/** The feature views a version's contract reads from the online store (none: no freshness to report). */
export function contractViews(contract: unknown): string[] {
  return ((contract as { featureViews?: { view: string }[] }).featureViews ?? []).map((v) => v.view);
}
