import { incidentKey, type AlertInput } from '../notify/alert';
import { pValueMethods } from '../shared/monitoring';
import type { ColumnDrift, DriftEvaluation } from './drift';

/**
 * The alerts a drift evaluation raises, as a pure function of it (the monitor activity stores
 * them with recordAlert and delivers them):
 *
 * | kind             | when                                               | severity |
 * |------------------|----------------------------------------------------|----------|
 * | data_drift       | dataset-level drift (share of drifting features)   | critical |
 * | feature_drift    | some features drift, below the dataset share       | warning  |
 * | prediction_drift | the prediction column drifts                       | warning  |
 * | schema           | features absent from the window (or only missing)  | critical (warning if only missing) |
 *
 * Not enough data raises nothing. Incident keys deduplicate per kind, model version and dedup
 * window (see incidentKey), computed from the window's end, so retries and replays agree.
 */

export interface DriftAlertContext {
  model: string;
  version: number | null;
  /** End of the monitored window: the alert's time and its dedup bucket. */
  windowEnd: Date | string;
  windowStart?: Date | string;
  /** The stored drift report, for the details. */
  reportId?: number;
  dedupWindowMs?: number;
  links?: { label: string; url: string }[];
}

export function driftAlerts(evaluation: DriftEvaluation, context: DriftAlertContext): AlertInput[] {
  const at = typeof context.windowEnd === 'string' ? context.windowEnd : context.windowEnd.toISOString();
  const name = `${context.model}${context.version === null ? '' : ` v${context.version}`}`;
  const common = (kind: string) => ({
    incidentKey: incidentKey({ kind, model: context.model, version: context.version, at, dedupWindowMs: context.dedupWindowMs }),
    model: context.model,
    version: context.version,
    kind,
    occurredAt: at,
    links: context.links ?? [],
  });
  const window = {
    ...(context.windowStart
      ? { windowStart: typeof context.windowStart === 'string' ? context.windowStart : context.windowStart.toISOString() }
      : {}),
    windowEnd: at,
    rowCount: evaluation.rowCount,
    ...(context.reportId !== undefined ? { reportId: context.reportId } : {}),
  };
  const alerts: AlertInput[] = [];
  const { dataset, problems } = evaluation;

  if (problems.absent.length || problems.empty.length) {
    const parts = [];
    if (problems.absent.length)
      parts.push(`${problems.absent.length} feature(s) absent from the logged inputs: ${problems.absent.join(', ')}`);
    if (problems.empty.length) parts.push(`${problems.empty.length} feature(s) with only missing values: ${problems.empty.join(', ')}`);
    alerts.push({
      ...common('schema'),
      severity: problems.absent.length ? 'critical' : 'warning',
      title: `${name}: ${problems.absent.length ? 'features missing from the served inputs' : 'features without values'}`,
      message: `${parts.join('; ')}. The model receives no information for them; check the clients and the serving contract.`,
      lines: [...problems.absent.map((f) => `${f}: absent`), ...problems.empty.map((f) => `${f}: only missing values`)],
      details: { ...window, absent: problems.absent, empty: problems.empty },
    });
  }
  if (evaluation.status === 'insufficient_data') return alerts;

  const drifted = evaluation.columns.filter((c) => c.drifted);
  if (drifted.length) {
    const datasetLevel = dataset.drifted;
    alerts.push({
      ...common(datasetLevel ? 'data_drift' : 'feature_drift'),
      severity: datasetLevel ? 'critical' : 'warning',
      title: `${name}: ${datasetLevel ? 'data drift' : 'feature drift'} in ${drifted.length} of ${dataset.comparedColumns} features`,
      message:
        `${evaluation.message}. Window of ${evaluation.rowCount} logged predictions` +
        (datasetLevel
          ? `; the share of drifting features reached ${dataset.threshold}.`
          : `; below the dataset share ${dataset.threshold}.`),
      lines: drifted.map(columnLine),
      details: {
        ...window,
        share: dataset.share,
        threshold: dataset.threshold,
        driftedColumns: dataset.driftedColumns,
        columns: evaluation.columns.map(columnDetails),
      },
    });
  }
  if (evaluation.prediction?.drifted) {
    const p = evaluation.prediction;
    alerts.push({
      ...common('prediction_drift'),
      severity: 'warning',
      title: `${name}: prediction drift`,
      message: `The distribution of the model's predictions moved away from its reference (${p.method} ${fmt(p.score)}, threshold ${p.threshold}). Window of ${evaluation.rowCount} logged predictions.`,
      lines: [columnLine(p)],
      details: { ...window, prediction: columnDetails(p) },
    });
  }
  return alerts;
}

function columnLine(c: ColumnDrift): string {
  if (c.score === null) return `${c.column}: missing values ${fmt(c.reference.missingShare)} → ${fmt(c.current.missingShare)}`;
  const comparison = pValueMethods.includes(c.method) ? `p = ${fmt(c.score)} < ${c.threshold}` : `${fmt(c.score)} ≥ ${c.threshold}`;
  const extra = [
    c.exact ? '' : 'approximate',
    c.missingDrift ? `missing ${fmt(c.reference.missingShare)} → ${fmt(c.current.missingShare)}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `${c.column}: ${c.method} ${comparison}${extra ? ` (${extra})` : ''}`;
}

function columnDetails(c: ColumnDrift) {
  return {
    column: c.column,
    status: c.status,
    method: c.method,
    score: c.score,
    threshold: c.threshold,
    drifted: c.drifted,
    exact: c.exact,
    psi: c.statistics.psi ?? null,
    missingShare: { reference: c.reference.missingShare, current: c.current.missingShare },
  };
}

function fmt(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return String(x);
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(2) : String(Number(x.toPrecision(3)));
}
