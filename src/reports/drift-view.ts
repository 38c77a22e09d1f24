import { and, desc, eq, inArray, lte } from 'drizzle-orm';
import type { Db } from '../db/database';
import { alerts, driftReferences, driftReports } from '../db/schema';
import type { DriftEvaluation } from '../monitoring/drift';
import type { LivePerformance } from '../monitoring/live-performance-types';
import { binLabels } from '../monitoring/psi';
import { driftReferenceSchema } from '../monitoring/reference';
import type { MonitorActions } from '../shared/monitoring';
import type { DistributionBin } from '../ui/charts/distribution';
import type { DriftPoint } from '../ui/charts/drift';
import type { PerformancePoint } from '../ui/charts/live-performance';
import { driftPoints, performancePoints, reportSummaryColumns, type AlertRow, type ReportSummary } from '../ui/loaders/monitoring';
import type { DriftReportView as DriftSectionView } from '../ui/sections/drift-report';

/** Reports drawn in the "over time" charts: this one and the model's earlier ones. */
const DRIFT_HISTORY_REPORTS = 50;
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
  evaluation?: DriftEvaluation;
}

export class ReportNotFoundError extends Error {
  override readonly name = 'ReportNotFoundError';
}

export async function loadDriftReportView(db: Db, reportId: number): Promise<DriftReportView> {
  const [row] = await db.select().from(driftReports).where(eq(driftReports.id, reportId));
  if (!row)
    throw new ReportNotFoundError(`no drift report ${reportId} (the monitoring page of keel ui and the monitor's result name them)`);
  const stored = row.features as StoredFeatures;
  const actions = (row.actions ?? {}) as MonitorActions;
  const [earlier, reference, raised] = await Promise.all([
    // Without the full drift evaluations, which the over-time charts do not need.
    db
      .select(reportSummaryColumns)
      .from(driftReports)
      .where(and(eq(driftReports.modelName, row.modelName), lte(driftReports.windowEnd, row.windowEnd)))
      .orderBy(desc(driftReports.windowEnd), desc(driftReports.id))
      .limit(DRIFT_HISTORY_REPORTS),
    db
      .select({ references: driftReferences.references })
      .from(driftReferences)
      .where(and(eq(driftReferences.modelName, row.modelName), eq(driftReferences.version, row.version))),
    actions.alerts?.length
      ? db
          .select()
          .from(alerts)
          .where(
            inArray(
              alerts.id,
              actions.alerts.map((a) => a.id),
            ),
          )
      : Promise.resolve([]),
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
    distributions:
      storedDistributions(stored.evaluation) ??
      referenceDistributions(
        reference[0]?.references,
        features.map((f) => f.feature),
      ),
    alerts: raised,
  };
}

function summary(
  row: Omit<ReportSummary, 'features' | 'performance' | 'actions' | 'message'> & {
    message: string | null;
    features: ReportSummary['features'] | null;
    performance: unknown;
    actions: unknown;
  },
): ReportSummary {
  return {
    ...row,
    message: row.message ?? '',
    features: row.features ?? [],
    performance: row.performance as LivePerformance | null,
    actions: row.actions ?? {},
  };
}

/**
 * Reference and window shares per PSI bin, as the monitor compared them (reports stored with
 * their bins); undefined for reports stored before, which fall back to the reference alone.
 */
function storedDistributions(evaluation: DriftEvaluation | undefined): DistributionBin[] | undefined {
  const columns = [...(evaluation?.columns ?? []), ...(evaluation?.prediction ? [evaluation.prediction] : [])].filter(
    (c) => c.bins?.length,
  );
  if (columns.length === 0) return undefined;
  return columns.flatMap((column) =>
    foldCategories(
      column.bins!.map((b) => b.label),
      column.bins!.map((b) => [b.reference, b.current] as const),
    ).flatMap(({ label, shares: [reference, current] }, order) =>
      label === '(missing)' && reference === 0 && current === 0
        ? []
        : [
            { feature: column.column, bin: label, order, share: reference, set: 'reference' as const },
            { feature: column.column, bin: label, order, share: current, set: 'current' as const },
          ],
    ),
  );
}

/**
 * Keeps the first SHOWN_CATEGORIES bins of a categorical column (the most frequent in the
 * reference) and adds the others to "(other)"; "(missing)" stays last. Numeric bins pass through.
 */
function foldCategories<T extends readonly number[]>(labels: string[], shares: T[]): { label: string; shares: T }[] {
  const bins = labels.map((label, i) => ({ label, shares: shares[i] }));
  const other = labels.indexOf('(other)');
  if (other === -1 || other <= SHOWN_CATEGORIES) return bins;
  const add = (a: T, b: T) => a.map((x, i) => x + b[i]) as unknown as T;
  const folded = bins
    .slice(SHOWN_CATEGORIES, other + 1)
    .reduce((sum, b) => add(sum, b.shares), bins[other].shares.map(() => 0) as unknown as T);
  return [...bins.slice(0, SHOWN_CATEGORIES), { label: '(other)', shares: folded }, ...bins.slice(other + 1)];
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
    const shares = [...bins.proportions, bins.missing].map((share) => [share] as const);
    return foldCategories(binLabels(bins), shares).flatMap(({ label, shares: [share] }, order) =>
      // A missing bin that never held a value would only add an empty bar.
      label === '(missing)' && share === 0 ? [] : [{ feature, bin: label, order, share, set: 'reference' as const }],
    );
  });
}
