import { and, desc, eq, inArray, lte } from 'drizzle-orm';
import type { Db } from '../db/database';
import { alerts, driftReferences, driftReports } from '../db/schema';
import type { DriftEvaluation } from '../monitoring/drift';
import type { LivePerformance } from '../monitoring/live-performance';
import { binLabels } from '../monitoring/psi';
import { driftReferenceSchema } from '../monitoring/reference';
import type { MonitorActions } from '../shared/monitoring';
import type { DistributionBin } from '../ui/charts/distribution';
import type { DriftPoint } from '../ui/charts/drift';
import type { PerformancePoint } from '../ui/charts/live-performance';

/** One feature's statistic in this report. */
export type FeatureScore = Omit<DriftPoint, 'at' | 'reportId'>;

/** Reports drawn in the "over time" chart: this one and the model's earlier ones. */
export const DRIFT_HISTORY_REPORTS = 50;
/** Categories drawn per categorical feature; the rest is drawn as "(other)". */
const SHOWN_CATEGORIES = 12;

/** What a drift report page or file shows, read from the database (no Temporal). */
export interface DriftReportView {
  id: number;
  model: string;
  version: number;
  status: string;
  message: string;
  window: { start: string; end: string };
  rowCount: number;
  referenceDatasetVersionId: string;
  findings: string[];
  dataPeriod: { from: string; to: string } | null;
  createdAt: string;
  features: FeatureScore[];
  /** The model's output compared with its test-split scores, when the reference has one. */
  prediction: FeatureScore | null;
  /** The statistic per feature in this report and up to DRIFT_HISTORY_REPORTS − 1 earlier ones of the model. */
  history: DriftPoint[];
  /** The live metric per version in this report and the earlier ones (where judged). */
  performanceHistory: PerformancePoint[];
  /** Reference shares per PSI bin of every monitored feature, from the version's drift reference. */
  distributions: DistributionBin[];
  performance: LivePerformance | null;
  alerts: { id: number; kind: string; severity: string; message: string; deliveryStatus: string; createdAt: string }[];
  actions: MonitorActions;
}

interface StoredFeatures {
  message?: string;
  features?: { feature: string; status?: string; method?: string; score: number | null; threshold?: number; drifted: boolean; psi?: number | null }[];
  evaluation?: DriftEvaluation;
}

export class ReportNotFoundError extends Error {
  override readonly name = 'ReportNotFoundError';
}

export async function loadDriftReportView(db: Db, reportId: number): Promise<DriftReportView> {
  if (!Number.isInteger(reportId) || reportId < 1) throw new ReportNotFoundError(`a drift report id is a positive integer, got ${reportId}`);
  const [row] = await db.select().from(driftReports).where(eq(driftReports.id, reportId));
  if (!row) throw new ReportNotFoundError(`no drift report ${reportId} (keel runs list and the monitor's output name them)`);
  const stored = row.features as StoredFeatures;
  const actions = (row.actions ?? {}) as MonitorActions;

  const [earlier, reference, raised] = await Promise.all([
    db
      .select({ id: driftReports.id, windowEnd: driftReports.windowEnd, features: driftReports.features, performance: driftReports.performance })
      .from(driftReports)
      .where(and(eq(driftReports.modelName, row.modelName), lte(driftReports.windowEnd, row.windowEnd)))
      .orderBy(desc(driftReports.windowEnd), desc(driftReports.id))
      .limit(DRIFT_HISTORY_REPORTS),
    db
      .select({ references: driftReferences.references })
      .from(driftReferences)
      .where(and(eq(driftReferences.modelName, row.modelName), eq(driftReferences.version, row.version))),
    alertsOf(db, actions),
  ]);

  const features = featureScores(stored);
  return {
    id: row.id,
    model: row.modelName,
    version: row.version,
    status: row.status,
    message: stored.message ?? '',
    window: { start: row.windowStart.toISOString(), end: row.windowEnd.toISOString() },
    rowCount: row.rowCount,
    referenceDatasetVersionId: row.referenceDatasetVersionId,
    findings: row.findings,
    dataPeriod: row.dataPeriod ?? null,
    createdAt: row.createdAt.toISOString(),
    features,
    prediction: predictionScore(stored.evaluation),
    history: [...earlier]
      .reverse()
      .flatMap((r) => featureScores(r.features as StoredFeatures).map((f) => ({ ...f, at: r.windowEnd.toISOString(), reportId: r.id }))),
    performanceHistory: [...earlier].reverse().flatMap((r) => performancePoints(r.windowEnd.toISOString(), r.performance as LivePerformance | null)),
    distributions: referenceDistributions(reference[0]?.references, features.map((f) => f.feature)),
    performance: (row.performance as LivePerformance | null) ?? null,
    alerts: raised,
    actions,
  };
}

function featureScores(stored: StoredFeatures): FeatureScore[] {
  return (stored.features ?? []).map((f) => ({
    feature: f.feature,
    method: f.method ?? 'psi',
    score: f.score ?? (typeof f.psi === 'number' ? f.psi : null),
    threshold: f.threshold ?? Number.NaN,
    drifted: f.drifted,
  }));
}

function performancePoints(at: string, performance: LivePerformance | null): PerformancePoint[] {
  return (performance?.versions ?? []).flatMap((v) =>
    v.metric.value === null
      ? []
      : [{ at, version: v.version, value: v.metric.value, standardError: v.metric.standardError, reference: v.metric.reference, limit: v.concept.floor ?? v.concept.ceiling ?? null }],
  );
}

function predictionScore(evaluation: DriftEvaluation | undefined): FeatureScore | null {
  const p = evaluation?.prediction;
  return p ? { feature: 'prediction', method: p.method, score: p.score, threshold: p.threshold, drifted: p.drifted } : null;
}

/** The reference's PSI bins as shares; references that do not parse (another schema) are left out. */
function referenceDistributions(references: unknown, features: string[]): DistributionBin[] {
  if (!references || typeof references !== 'object') return [];
  return features.flatMap((feature) => {
    const parsed = driftReferenceSchema.safeParse((references as Record<string, unknown>)[feature]);
    if (!parsed.success) return [];
    const { bins } = parsed.data;
    let labels = binLabels(bins);
    let shares = [...bins.proportions, bins.missing];
    if (bins.kind === 'categorical' && bins.categories.length > SHOWN_CATEGORIES) {
      // The most frequent categories come first; the rest joins "(other)".
      const folded = shares.slice(SHOWN_CATEGORIES, -1).reduce((sum, share) => sum + share, 0);
      labels = [...labels.slice(0, SHOWN_CATEGORIES), '(other)', '(missing)'];
      shares = [...shares.slice(0, SHOWN_CATEGORIES), folded, bins.missing];
    }
    return labels.flatMap((bin, order) =>
      // A missing bin that never held a value would only add an empty bar.
      bin === '(missing)' && shares[order] === 0 ? [] : [{ feature, bin, order, share: shares[order]!, set: 'reference' as const }],
    );
  });
}

async function alertsOf(db: Db, actions: MonitorActions): Promise<DriftReportView['alerts']> {
  const ids = (actions.alerts ?? []).map((a) => a.id);
  if (ids.length === 0) return [];
  const rows = await db.select().from(alerts).where(inArray(alerts.id, ids));
  return rows.map((a) => ({
    id: a.id,
    kind: a.kind,
    severity: a.severity,
    message: a.message,
    deliveryStatus: a.deliveryStatus,
    createdAt: a.createdAt.toISOString(),
  }));
}
