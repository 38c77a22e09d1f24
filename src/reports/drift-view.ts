import { and, desc, eq, inArray, lte } from 'drizzle-orm';
import type { Db } from '../db/database';
import { alerts, driftReferences, driftReports } from '../db/schema';
import type { LivePerformance } from '../monitoring/live-performance';
import { binLabels } from '../monitoring/psi';
import { driftReferenceSchema } from '../monitoring/reference';
import type { MonitorActions } from '../shared/monitoring';
import type { DistributionBin } from '../ui/charts/distribution';
import type { DriftPoint } from '../ui/charts/drift';
import type { PerformancePoint } from '../ui/charts/live-performance';
import { driftPoints, performancePoints, type AlertRow, type ReportSummary } from '../ui/loaders/monitoring';
import type { DriftReportView as DriftSectionView } from '../ui/sections/drift-report';

/** Reports drawn in the "over time" charts: this one and the model's earlier ones. */
export const DRIFT_HISTORY_REPORTS = 50;
/** Categories drawn per categorical feature; the rest is drawn as "(other)". */
const SHOWN_CATEGORIES = 12;

/** What a drift report file shows, read from the database (no Temporal). */
export interface DriftReportView {
  /** What the dashboard's drift report section shows. */
  section: DriftSectionView;
  referenceDatasetVersionId: string;
  dataPeriod: { from: string; to: string } | null;
  /** The statistic per feature in this report and up to DRIFT_HISTORY_REPORTS − 1 earlier ones of the model. */
  history: DriftPoint[];
  /** The live metric per version over the same reports, where judged. */
  performance: { metric: string | null; points: PerformancePoint[] };
  /** This report's live performance per version. */
  livePerformance: LivePerformance | null;
  /** Reference shares per PSI bin of every monitored feature, from the version's drift reference. */
  distributions: DistributionBin[];
  alerts: AlertRow[];
}

interface StoredFeatures {
  message?: string;
  features?: ReportSummary['features'];
}

export class ReportNotFoundError extends Error {
  override readonly name = 'ReportNotFoundError';
}

export async function loadDriftReportView(db: Db, reportId: number): Promise<DriftReportView> {
  const [row] = await db.select().from(driftReports).where(eq(driftReports.id, reportId));
  if (!row) throw new ReportNotFoundError(`no drift report ${reportId} (the monitoring page of keel ui and the monitor's result name them)`);
  const stored = row.features as StoredFeatures;
  const actions = (row.actions ?? {}) as MonitorActions;
  const [earlier, reference, raised] = await Promise.all([
    db
      .select()
      .from(driftReports)
      .where(and(eq(driftReports.modelName, row.modelName), lte(driftReports.windowEnd, row.windowEnd)))
      .orderBy(desc(driftReports.windowEnd), desc(driftReports.id))
      .limit(DRIFT_HISTORY_REPORTS),
    db
      .select({ references: driftReferences.references })
      .from(driftReferences)
      .where(and(eq(driftReferences.modelName, row.modelName), eq(driftReferences.version, row.version))),
    actions.alerts?.length ? db.select().from(alerts).where(inArray(alerts.id, actions.alerts.map((a) => a.id))) : Promise.resolve([]),
  ]);
  const history = [...earlier].reverse().map(summary);
  const features = stored.features ?? [];
  return {
    section: {
      id: row.id,
      model: row.modelName,
      version: row.version,
      status: row.status,
      message: stored.message ?? '',
      window: { start: row.windowStart, end: row.windowEnd },
      rowCount: row.rowCount,
      findings: row.findings,
      features,
      actions,
    },
    referenceDatasetVersionId: row.referenceDatasetVersionId,
    dataPeriod: row.dataPeriod ?? null,
    history: driftPoints(history),
    performance: performancePoints(history),
    livePerformance: (row.performance as LivePerformance | null) ?? null,
    distributions: referenceDistributions(reference[0]?.references, features.map((f) => f.feature)),
    alerts: raised,
  };
}

function summary(row: typeof driftReports.$inferSelect): ReportSummary {
  const stored = row.features as StoredFeatures;
  return {
    id: row.id,
    modelName: row.modelName,
    version: row.version,
    windowStart: row.windowStart,
    windowEnd: row.windowEnd,
    rowCount: row.rowCount,
    status: row.status,
    findings: row.findings,
    message: stored.message ?? '',
    features: stored.features ?? [],
    performance: row.performance as LivePerformance | null,
    actions: row.actions as MonitorActions,
    createdAt: row.createdAt,
  };
}

/**
 * The reference's PSI bins as shares, per feature and for the prediction (stored as
 * `{ columns, features, prediction }`); references that do not parse (another schema) are left out.
 */
function referenceDistributions(stored: unknown, features: string[]): DistributionBin[] {
  const { features: references = {}, prediction } = (stored ?? {}) as { features?: Record<string, unknown>; prediction?: unknown };
  const byName: Record<string, unknown> = { ...references, ...(prediction ? { prediction } : {}) };
  return [...features, ...(prediction ? ['prediction'] : [])].flatMap((feature) => {
    const parsed = driftReferenceSchema.safeParse(byName[feature]);
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
