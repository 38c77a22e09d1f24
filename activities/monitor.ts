import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { and, desc, eq, gte, lt, lte, sql } from 'drizzle-orm';
import type { MulticlassMetrics, RegressionMetrics } from '../src/shared/model-metrics';
import type { LivePerformance } from '../src/monitoring/live-performance-types';
import type { Row } from '../src/data/columns';
import { getDatasetVersion, streamDatasetRows } from '../src/data/dataset-store';
import type { Db } from '../src/db/database';
import { driftReferences, driftReports, feedback, predictionLog } from '../src/db/schema';
import { type BatchScores, scoreOnnxInWorkerThread } from '../src/ml/batch-score';
import { assignSplit } from '../src/ml/split';
import { driftAlerts } from '../src/monitoring/alerts';
import { categoryGuardOf, type CategoryGuard } from '../src/ml/onnx/category-guard';
import { evaluateDrift, type DriftEvaluation } from '../src/monitoring/drift';
import { unknownCategoryShares, unknownShareBreaches, type UnknownShare } from '../src/monitoring/unknown-share';
import { livePerformance, performanceAlerts, type LoggedPrediction, type PerformanceReference } from '../src/monitoring/live-performance';
import { multiclassPerformance, type LoggedClassification, type MulticlassReference } from '../src/monitoring/multiclass-performance';
import { regressionPerformance, type LoggedRegression, type RegressionReference } from '../src/monitoring/regression-performance';
import {
  columnSpecsForWindow,
  featureSpecsOf,
  legacyColumns,
  monitoredColumns,
  monitoredRows,
  type MonitoredColumn,
} from '../src/monitoring/monitored-columns';
import { DriftReferenceBuilder, numericDriftReference, type DriftReference, type DriftReferenceSet } from '../src/monitoring/reference';
import { incidentKey, type AlertInput } from '../src/notify/alert';
import { recordAlert, type StoredAlert } from '../src/notify/alert-store';
import { ArtifactMissingError } from '../src/registry/artifact-store';
import { freshnessAlerts, viewFreshness, type ViewFreshness } from '../src/features/freshness';
import { getModelVersion, resolveAlias, type ModelVersion } from '../src/registry/model-registry';
import { getRoute } from '../src/serving/routes';
import { DataValidationError, DataValidationErrorType, InvalidInputError } from '../src/shared/errors';
import { modelContractSchema, type ModelTask } from '../src/shared/model-contract';
import type { NotificationsConfig } from '../src/shared/notifications';
import {
  driftFindings,
  livePerformanceMetric,
  periodOfWindow,
  type PerformanceConfig,
  type PerformanceMetricName,
  type Finding,
  type MonitorActions,
  type MonitorAlertSummary,
  type MonitorInput,
  type Period,
} from '../src/shared/monitoring';
import type { DriftReportSummary } from '../src/shared/pipeline-result';
import type { ActivityDeps } from './deps';

/** The key of the model's output in drift references and in the evaluated rows. */
const PREDICTION_COLUMN = 'probability';

interface Contract {
  inputs: { name: string; type: string }[];
}

interface ReferenceSummary {
  /** Dataset rows the feature references were built from. */
  rows: number;
  /** Test-split rows scored for the prediction reference, and positive labels among them. */
  testRows: number;
  positives: number;
  target: string;
  /** The version's registered test-split metrics. */
  metrics: PerformanceReference;
}

interface StoredReference {
  datasetVersionId: string;
  /** How the compared columns read raw values (absent in references stored before datetime and boolean features). */
  columns: MonitoredColumn[];
  features: DriftReferenceSet;
  prediction: DriftReference | null;
  summary: ReferenceSummary;
}

export interface MonitorReportRequest {
  input: MonitorInput;
  window: { start: string; end: string };
  /** The version prepareDriftReference chose. */
  version: number;
  /** One report per key: `<workflowId>/<runId>` (and `/<iteration>` in the long-running variant). */
  runKey: string;
}

export interface MonitorReportOutcome {
  report: DriftReportSummary;
  /** Consecutive drifted reports of this version up to this one (since the last retraining), and their data period. */
  streak: { consecutive: number; period: Period | null };
  /** An active canary route and whether its candidate breached. */
  canary: { candidate: number; baseline: number; breach: boolean; reasons: string[] } | null;
}

export function monitorActivities({ database, artifacts, logger }: ActivityDeps) {
  const db = database.db;

  return {
    /**
     * Chooses the version to monitor — production, or, for a past window production did not
     * serve, the version that served most of it — and makes sure its drift references exist:
     * built once per version from its training data (features, exact up to a 2 000-value
     * reservoir sample) and its test-split scores (the prediction reference), then stored in
     * `drift_references`. Heavy the first time (reads the dataset version): runs on the training
     * queue and heartbeats.
     */
    async prepareDriftReference(request: {
      model: string;
      window: { start: string; end: string };
    }): Promise<{ version: number; built: boolean }> {
      const production = await resolveAlias(db, request.model, 'production');
      let version = production;
      const served = await db
        .select({ version: predictionLog.version, rows: sql<number>`count(*)::int` })
        .from(predictionLog)
        .where(
          and(
            eq(predictionLog.modelName, request.model),
            gte(predictionLog.createdAt, new Date(request.window.start)),
            lt(predictionLog.createdAt, new Date(request.window.end)),
            eq(predictionLog.shadow, false),
          ),
        )
        .groupBy(predictionLog.version);
      if (served.length && !served.some((s) => s.version === production?.version)) {
        const dominant = served.reduce((a, b) => (b.rows > a.rows ? b : a));
        version = await getModelVersion(db, request.model, dominant.version);
      }
      if (!version) throw new InvalidInputError(`model "${request.model}" has no production version to monitor`);
      const [existing] = await db
        .select({ version: driftReferences.version })
        .from(driftReferences)
        .where(and(eq(driftReferences.modelName, request.model), eq(driftReferences.version, version.version)));
      if (existing) return { version: version.version, built: false };

      const started = performance.now();
      const reference = await buildReference(version).catch(domainError);
      await db
        .insert(driftReferences)
        .values({
          modelName: request.model,
          version: version.version,
          datasetVersionId: reference.datasetVersionId,
          references: { columns: reference.columns, features: reference.features, prediction: reference.prediction },
          summary: reference.summary,
        })
        .onConflictDoNothing();
      logger.info(
        { model: request.model, version: version.version, rows: reference.summary.rows, ms: Math.round(performance.now() - started) },
        'drift reference built',
      );
      return { version: version.version, built: true };
    },

    /**
     * One monitoring report: reads the window of the prediction log with the ground truth that
     * arrived for it, compares the monitored version's inputs and predictions with its references
     * (evaluateDrift), judges live performance per version, stores the report (once per run key,
     * however often retried), stores its alerts (once per incident), and tells the workflow how
     * long drift has lasted and whether an active canary's candidate breached.
     */
    async computeMonitorReport(request: MonitorReportRequest): Promise<MonitorReportOutcome> {
      const { input, window, version, runKey } = request;
      const model = input.model;
      const versionRow = await getModelVersion(db, model, version);
      if (!versionRow) throw new InvalidInputError(`model "${model}" has no version ${version}`);
      const reference = await loadReference(model, version, (versionRow.contract as Contract).inputs);
      // The live metric must be one of the version's task: checked before anything is stored.
      const performanceTask = input.performance.enabled ? performanceTaskOf(versionRow, input.performance) : null;

      const [existing] = await db.select().from(driftReports).where(eq(driftReports.runKey, runKey));
      if (!existing) {
        const rows = await readWindow(model, window, input.maxRows, true);
        const served = rows.filter((r) => r.version === version && !r.shadow);
        const inputs = served.map((r) => (r.inputs ?? {}) as Record<string, unknown>);
        const monitored = monitoredRows(reference.columns, inputs);
        const evaluation = checked(() =>
          evaluateDrift({
            reference: { ...reference.features, ...(reference.prediction ? { [PREDICTION_COLUMN]: reference.prediction } : {}) },
            current: { rows: monitored.map((row, i) => ({ ...row, [PREDICTION_COLUMN]: served[i].probability })) },
            features: columnSpecsForWindow(reference.columns, inputs),
            prediction: reference.prediction ? PREDICTION_COLUMN : undefined,
            config: { ...input.drift, minRows: input.minRows },
          }),
        );
        const performance = performanceTask ? await judgePerformance(input, window, rows, performanceTask) : null;
        const guard = await categoryGuard(versionRow.artifactSha256);
        const unknownCategories = guard ? unknownCategoryShares(guard, inputs) : {};
        const unknownBreaches = unknownShareBreaches(unknownCategories, input.drift.unknownShare, input.minRows);
        const freshness = await viewFreshness(db, Date.parse(window.end), contractViews(versionRow.contract));
        const findings: Finding[] = [
          ...findingsOf(evaluation, performance, version),
          ...(unknownBreaches.length ? (['unknown_categories'] as const) : []),
        ];
        const status: DriftReportSummary['status'] = findings.some((f) => driftFindings.includes(f))
          ? 'drift'
          : evaluation.status === 'insufficient_data' && !performanceJudged(performance, version)
            ? 'insufficient_data'
            : 'ok';
        await db
          .insert(driftReports)
          .values({
            runKey,
            modelName: model,
            version,
            referenceDatasetVersionId: reference.datasetVersionId,
            windowStart: new Date(window.start),
            windowEnd: new Date(window.end),
            rowCount: evaluation.rowCount,
            status,
            features: {
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
              freshness,
            },
            performance,
            findings,
            dataPeriod: input.dataPeriod ?? periodOfWindow(window),
          })
          .onConflictDoNothing();
      }
      const [stored] = await db.select().from(driftReports).where(eq(driftReports.runKey, runKey));
      const details = stored.features as { message: string; evaluation: DriftEvaluation; freshness?: ViewFreshness[] };
      const evaluation = details.evaluation;
      const performance = stored.performance as LivePerformance | null;

      // Alerts: derived from the stored report, so a retry raises exactly the same ones. The incident's
      // time is the window's end — or, when the run says which period of data the window stands for
      // (a replay of history), the end of that period: replayed months are months apart as incidents.
      const incidentAt = input.dataPeriod ? new Date(`${input.dataPeriod.to}T00:00:00Z`).toISOString() : stored.windowEnd.toISOString();
      const context = { model, windowEnd: incidentAt, reportId: stored.id, dedupWindowMs: input.notifications.dedupWindowMs };
      const raised: AlertInput[] = [
        ...driftAlerts(evaluation, {
          ...context,
          version,
          windowStart: input.dataPeriod ? `${input.dataPeriod.from}T00:00:00.000Z` : stored.windowStart.toISOString(),
        }),
        ...(performance ? performanceAlerts(performance, { ...context, versions: [version] }) : []),
        ...freshnessAlerts(details.freshness ?? [], { model, at: incidentAt, dedupWindowMs: input.notifications.dedupWindowMs }),
      ];
      const alerts = await storeAlerts(raised, input.notifications);

      const summary: DriftReportSummary = {
        reportId: stored.id,
        model,
        version,
        status: stored.status as DriftReportSummary['status'],
        rowCount: stored.rowCount,
        driftedFeatures: evaluation.dataset.driftedColumns,
        message: details.message,
        window: { start: stored.windowStart.toISOString(), end: stored.windowEnd.toISOString() },
        dataPeriod: stored.dataPeriod ?? null,
        findings: stored.findings as Finding[],
        performance: performanceSummary(performance, version),
        alerts,
        actions: {},
      };
      return {
        report: summary,
        streak: await driftStreak(db, {
          model,
          version,
          upTo: stored.windowEnd,
          on: input.policy.retrain.on,
          limit: input.policy.retrain.afterConsecutive,
        }),
        canary: await canaryVerdict(model, performance),
      };
    },

    /**
     * Records what the workflow did about a report (rollback signal, retraining started) on the
     * report — the drift run restarts after a retraining — and stores an alert for each action.
     */
    async recordMonitorActions(request: {
      reportId: number;
      model: string;
      version: number;
      actions: MonitorActions;
      notifications: NotificationsConfig;
    }): Promise<MonitorAlertSummary[]> {
      const { reportId, model, version, actions } = request;
      await db
        .update(driftReports)
        .set({ actions: sql`${driftReports.actions} || ${JSON.stringify(actions)}::jsonb` })
        .where(eq(driftReports.id, reportId));
      const [report] = await db.select().from(driftReports).where(eq(driftReports.id, reportId));
      const at = report.windowEnd.toISOString();
      const raised: AlertInput[] = [];
      if (actions.retrain?.started) {
        const r = actions.retrain;
        raised.push({
          incidentKey: `retraining:${model}:${r.workflowId}`,
          model,
          version,
          kind: 'retraining',
          severity: 'info',
          occurredAt: at,
          title: `${model} v${version}: retraining started after ${r.consecutive} drifted reports`,
          message:
            `Drift lasted ${r.consecutive} consecutive reports; keel started trainingPipeline ${r.workflowId}` +
            (r.period ? ` on the data of ${r.period.from} to ${r.period.to}` : '') +
            '. A new version reaches production only through the gate (and the canary, when configured).',
          lines: [`workflow ${r.workflowId}`, ...(r.period ? [`data ${r.period.from} … ${r.period.to}`] : [])],
          details: { reportId, retrain: r },
        });
      }
      if (actions.rollback) {
        const r = actions.rollback;
        raised.push({
          incidentKey: `rollback:${model}:${r.workflowId}:v${r.candidate}`,
          model,
          version: r.candidate,
          kind: 'rollback',
          severity: 'critical',
          occurredAt: at,
          title: `${model} v${r.candidate}: ${r.signalled ? 'canary rolled back by the monitor' : 'canary rollback could not be signalled'}`,
          message: r.signalled
            ? `The monitor signalled rollback to ${r.workflowId}: ${r.reason}`
            : `Signalling ${r.workflowId} failed (${r.error}); reason: ${r.reason}`,
          lines: [r.reason],
          details: { reportId, rollback: r },
        });
      }
      return storeAlerts(raised, request.notifications);
    },

    /**
     * The monitor cannot run as configured (e.g. its reference does not match the monitored
     * columns): store a critical alert so someone hears of it, before the run fails.
     */
    async recordMonitorFailure(request: {
      model: string;
      error: string;
      at: string;
      notifications: NotificationsConfig;
    }): Promise<MonitorAlertSummary[]> {
      return storeAlerts(
        [
          {
            incidentKey: incidentKey({
              kind: 'monitor_error',
              model: request.model,
              version: null,
              at: request.at,
              dedupWindowMs: request.notifications.dedupWindowMs,
            }),
            model: request.model,
            version: null,
            kind: 'monitor_error',
            severity: 'critical',
            occurredAt: request.at,
            title: `${request.model}: the monitor cannot run`,
            message: request.error,
            lines: [],
            details: {},
          },
        ],
        request.notifications,
      );
    },
  };

  /** The served graph's categorical inputs; none when its artifact is gone (the report goes on without the signal). */
  async function categoryGuard(artifactSha256: string): Promise<CategoryGuard | undefined> {
    try {
      return categoryGuardOf(await artifacts.get(artifactSha256));
    } catch (error) {
      if (!(error instanceof ArtifactMissingError)) throw error;
      logger.warn({ artifactSha256, error: String(error) }, 'model artifact missing: no unknown-category signal in this report');
      return undefined;
    }
  }

  async function storeAlerts(raised: AlertInput[], notifications: NotificationsConfig): Promise<MonitorAlertSummary[]> {
    const out: MonitorAlertSummary[] = [];
    for (const alert of raised) {
      const { alert: stored, created } = await recordAlert(db, alert, notifications.webhooks);
      out.push(alertSummary(stored, created));
    }
    return out;
  }

  async function buildReference(version: ModelVersion): Promise<StoredReference> {
    const name = `${version.modelName} v${version.version}`;
    if (!version.datasetVersionId) {
      throw new DataValidationError(
        `${name} was imported without training data: there is no drift reference to compare with`,
        'referenceData',
        null,
      );
    }
    const dataset = await getDatasetVersion(db, version.datasetVersionId);
    if (!dataset)
      throw new DataValidationError(`${name}: its dataset version ${version.datasetVersionId} does not exist`, 'referenceData', null);
    const contract = version.contract as Contract;
    const columnTypes = new Map((dataset.columns as { name: string; type: string }[]).map((c) => [c.name, c.type]));
    // The columns compared and how each reads a raw value; stored with the reference, so every
    // window is read the same way.
    const columns = monitoredColumns(featureSpecsOf(version.params, contract.inputs), columnTypes);

    const params = version.params as { split?: { seed: number; train: number; validation: number; test: number }; target?: string };
    const split = params.split;
    const target = params.target;
    const builder = new DriftReferenceBuilder(columns, { seed: 7 });
    const test: Row[] = [];
    let positives = 0;
    let index = 0;
    for await (const chunk of streamDatasetRows(db, dataset.id)) {
      const monitored = monitoredRows(columns, chunk);
      for (let i = 0; i < chunk.length; i++) {
        const row = chunk[i];
        builder.add(monitored[i]);
        if (split && assignSplit(String(index), split.seed, split) === 'test') {
          test.push(row);
          if (target && Number(row[target]) === 1) positives++;
        }
        index++;
      }
      heartbeat({ rows: index });
    }
    const featureReferences = builder.finish();
    let prediction: DriftReference | null = null;
    if (test.length) {
      const onnx = await artifacts.get(version.artifactSha256);
      prediction = numericDriftReference(driftScores(await scoreOnnxInWorkerThread(onnx, test)));
    }
    const m = version.metrics as Partial<PerformanceReference>;
    return {
      datasetVersionId: dataset.id,
      columns,
      features: featureReferences,
      prediction,
      summary: {
        rows: index,
        testRows: test.length,
        positives,
        target: target ?? '',
        metrics: {
          rocAuc: m.rocAuc ?? Number.NaN,
          accuracy: m.accuracy ?? Number.NaN,
          f1: m.f1 ?? Number.NaN,
          n: m.n ?? test.length,
          positives: m.positives ?? positives,
        },
      },
    };
  }

  async function loadReference(model: string, version: number, inputs: Contract['inputs']): Promise<StoredReference> {
    const [row] = await db
      .select()
      .from(driftReferences)
      .where(and(eq(driftReferences.modelName, model), eq(driftReferences.version, version)));
    if (!row) throw new Error(`no drift reference for ${model} v${version} (prepareDriftReference builds it)`);
    const stored = row.references as { columns?: MonitoredColumn[]; features: DriftReferenceSet; prediction: DriftReference | null };
    return {
      datasetVersionId: row.datasetVersionId,
      // Stored before plans existed: the version's inputs, one raw column each (a reference that
      // lacks one fails the report with a ReferenceSchemaError naming it, as before).
      columns:
        stored.columns ??
        legacyColumns(
          stored.features,
          inputs.map((i) => i.name),
        ),
      features: stored.features,
      prediction: stored.prediction,
      summary: row.summary as ReferenceSummary,
    };
  }

  interface WindowRow {
    version: number;
    shadow: boolean;
    at: number;
    inputs: unknown;
    /** The prediction-drift score (see loggedDriftScore): P(1) for a binary model. */
    probability: number;
    /** What the model answered, as logged per task. */
    outputs: LoggedOutputs | null;
    /** Ground truth: a class (0/1, or a multiclass model's class index) or an observed value. */
    feedback: { label: number | null; value: number | null } | null;
  }

  /**
   * The window's answered predictions (inference errors excluded) with their ground truth, if
   * any. More than `maxRows`: an even, deterministic subset (by a hash of the prediction id).
   */
  async function readWindow(
    model: string,
    window: { start: string; end: string },
    maxRows: number,
    withInputs: boolean,
  ): Promise<WindowRow[]> {
    const where = and(
      eq(predictionLog.modelName, model),
      gte(predictionLog.createdAt, new Date(window.start)),
      lt(predictionLog.createdAt, new Date(window.end)),
      sql`${predictionLog.error} is null`,
    );
    const [{ rows: total }] = await db
      .select({ rows: sql<number>`count(*)::int` })
      .from(predictionLog)
      .where(where);
    const step = Math.ceil(total / maxRows);
    const rows = await db
      .select({
        version: predictionLog.version,
        shadow: predictionLog.shadow,
        createdAt: predictionLog.createdAt,
        inputs: withInputs ? predictionLog.inputs : sql<null>`null`,
        outputs: predictionLog.outputs,
        label: feedback.label,
        value: feedback.value,
        answered: feedback.predictionId,
      })
      .from(predictionLog)
      .leftJoin(feedback, eq(feedback.predictionId, sql`coalesce(${predictionLog.primaryId}, ${predictionLog.id})`))
      .where(step > 1 ? and(where, sql`abs(hashtext(${predictionLog.id})) % ${step} = 0`) : where);
    return rows.map((r) => {
      const outputs = r.outputs as LoggedOutputs | null;
      return {
        version: r.version,
        shadow: r.shadow,
        at: r.createdAt.getTime(),
        inputs: r.inputs,
        probability: outputs ? loggedDriftScore(outputs) : Number.NaN,
        outputs,
        feedback: r.answered === null ? null : { label: r.label, value: r.value },
      };
    });
  }

  /**
   * Live performance of the predictions whose labels had time to arrive, judged by the monitored
   * version's task (its contract): binary from the probability and 0/1 label, regression from the
   * prediction and the observed value, multiclass from the class name and the observed class.
   * Rows logged in another task's shape (a version of another task) are left out.
   */
  async function judgePerformance(
    input: MonitorInput,
    window: { start: string; end: string },
    windowRows: WindowRow[],
    task: { task: ModelTask; classes: string[]; metric: PerformanceMetricName },
  ): Promise<LivePerformance> {
    const delay = input.performance.labelDelayMinutes * 60_000;
    const labelWindow = delay
      ? { start: new Date(Date.parse(window.start) - delay).toISOString(), end: new Date(Date.parse(window.end) - delay).toISOString() }
      : window;
    const rows = delay ? await readWindow(input.model, labelWindow, input.maxRows, false) : windowRows;
    const config = { ...input.performance, metric: task.metric };
    if (task.task === 'regression') {
      const predictions: LoggedRegression[] = rows.flatMap((r) =>
        typeof r.outputs?.prediction === 'number'
          ? [{ version: r.version, at: r.at, prediction: r.outputs.prediction, actual: r.feedback?.value ?? null }]
          : [],
      );
      const references = new Map<number, RegressionReference>();
      for (const version of new Set(predictions.map((p) => p.version))) {
        const m = (await getModelVersion(db, input.model, version))?.metrics as Partial<RegressionMetrics> | undefined;
        if (m?.task === 'regression') references.set(version, { rmse: m.rmse ?? Number.NaN, mae: m.mae ?? Number.NaN, n: m.n ?? 0 });
      }
      return regressionPerformance(predictions, { config, metric: task.metric as 'rmse' | 'mae', window: labelWindow, references });
    }
    if (task.task === 'multiclass') {
      const classes = task.classes;
      // Feedback for a multiclass model carries the class as its index in the contract's classes.
      const classOf = (label: number | null | undefined) =>
        typeof label === 'number' && Number.isInteger(label) && label >= 0 && label < classes.length ? classes[label] : null;
      const predictions: LoggedClassification[] = rows.flatMap((r) =>
        Array.isArray(r.outputs?.probabilities) && typeof r.outputs.label === 'string'
          ? [{ version: r.version, at: r.at, predicted: r.outputs.label, actual: classOf(r.feedback?.label) }]
          : [],
      );
      const references = new Map<number, MulticlassReference>();
      for (const version of new Set(predictions.map((p) => p.version))) {
        const m = (await getModelVersion(db, input.model, version))?.metrics as Partial<MulticlassMetrics> | undefined;
        if (m?.task === 'multiclass') {
          references.set(version, {
            accuracy: m.accuracy ?? Number.NaN,
            f1Macro: m.f1Macro ?? Number.NaN,
            n: m.n ?? 0,
            support: Object.fromEntries((m.perClass ?? []).map((c) => [c.class, c.support])),
          });
        }
      }
      return multiclassPerformance(predictions, {
        config,
        metric: task.metric as 'f1Macro' | 'accuracy',
        classes,
        window: labelWindow,
        references,
      });
    }
    // Binary: the logged outputs carry a probability and a 0/1 label.
    const predictions: LoggedPrediction[] = rows
      .filter((r) => typeof r.outputs?.probability === 'number' && Number.isFinite(r.probability))
      .map((r) => ({
        version: r.version,
        at: r.at,
        probability: r.probability,
        predicted: typeof r.outputs?.label === 'number' ? r.outputs.label : 0,
        actual: r.feedback?.label ?? null,
      }));
    const references = new Map<number, PerformanceReference>();
    for (const version of new Set(predictions.map((p) => p.version))) {
      const [row] = await db
        .select({ summary: driftReferences.summary })
        .from(driftReferences)
        .where(and(eq(driftReferences.modelName, input.model), eq(driftReferences.version, version)));
      const fromReference = (row?.summary as ReferenceSummary | undefined)?.metrics;
      const registered = fromReference ?? ((await getModelVersion(db, input.model, version))?.metrics as PerformanceReference | undefined);
      if (registered && Number.isFinite(registered.n)) references.set(version, registered);
    }
    return livePerformance(predictions, {
      config,
      window: labelWindow,
      references,
      defaultMinValue: input.policy.retrain.pipeline?.gate.minRocAuc,
    });
  }

  /** An active canary route for the model, and whether its candidate's live performance breached. */
  async function canaryVerdict(model: string, performance: LivePerformance | null): Promise<MonitorReportOutcome['canary']> {
    const route = await getRoute(db, model);
    if (!route) return null;
    const candidate = performance?.versions.find((v) => v.version === route.candidateVersion);
    const reasons = candidate?.concept.status === 'drift' ? candidate.concept.reasons : [];
    return { candidate: route.candidateVersion, baseline: route.baselineVersion, breach: reasons.length > 0, reasons };
  }
}

/**
 * Domain errors fail the activity without retries. Temporal names a thrown error's type after its
 * class, so a subclass (ReferenceSchemaError) would not match `DataValidationError` in the retry
 * policy: convert it explicitly.
 */
function domainError(error: unknown): never {
  if (error instanceof DataValidationError) {
    throw ApplicationFailure.nonRetryable(error.message, DataValidationErrorType, { rule: error.rule, observed: error.observed });
  }
  throw error;
}

function checked<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    return domainError(error);
  }
}

/** The monitored version's task and classes, and the live metric judged for it (InvalidInputError when the config names another task's). */
function performanceTaskOf(
  version: ModelVersion,
  config: PerformanceConfig,
): { task: ModelTask; classes: string[]; metric: PerformanceMetricName } {
  const parsed = modelContractSchema.safeParse(version.contract);
  const task = parsed.success ? parsed.data.task : 'binary';
  const classes = parsed.success ? (parsed.data.classes ?? []) : [];
  return { task, classes, metric: livePerformanceMetric(config, task) };
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

function alertSummary(alert: StoredAlert, created: boolean): MonitorAlertSummary {
  return {
    id: alert.id,
    kind: alert.kind,
    severity: alert.severity,
    created,
    pending: alert.deliveries.filter((d) => d.status === 'pending').map((d) => d.target),
  };
}

/**
 * Consecutive reports of the version, newest first up to `upTo`, with one of the `on` findings.
 * Reports without enough data neither count nor break the run; a report on which a retraining was
 * started ends it (that drift has been acted on).
 */
export async function driftStreak(
  db: Db,
  options: { model: string; version: number; upTo: Date; on: readonly Finding[]; limit: number },
): Promise<{ consecutive: number; period: Period | null }> {
  const recent = await db
    .select({
      status: driftReports.status,
      findings: driftReports.findings,
      actions: driftReports.actions,
      dataPeriod: driftReports.dataPeriod,
    })
    .from(driftReports)
    .where(
      and(eq(driftReports.modelName, options.model), eq(driftReports.version, options.version), lte(driftReports.windowEnd, options.upTo)),
    )
    .orderBy(desc(driftReports.windowEnd), desc(driftReports.id))
    .limit(1000);
  let consecutive = 0;
  const periods: Period[] = [];
  for (const report of recent) {
    if ((report.actions as MonitorActions).retrain?.started) break;
    if (report.status === 'insufficient_data') continue;
    if (!(report.findings as Finding[]).some((f) => options.on.includes(f))) break;
    consecutive++;
    if (report.dataPeriod && periods.length < options.limit) periods.push(report.dataPeriod);
  }
  const period = periods.length
    ? {
        from: periods.map((p) => p.from).sort()[0],
        to: periods
          .map((p) => p.to)
          .sort()
          .at(-1)!,
      }
    : null;
  return { consecutive, period };
}

/** A logged prediction's outputs, by task (src/serving/prediction-log.ts writes them). */
type LoggedOutputs = { probability?: number; label?: number | string; prediction?: number; probabilities?: number[] };

/**
 * The one number per prediction whose distribution the prediction-drift check follows: the
 * probability of a binary model, the prediction of a regression, the top class probability (the
 * model's confidence) of a multiclass model. Computed the same way for the reference (test split
 * scores) and for logged predictions.
 */
function loggedDriftScore(outputs: LoggedOutputs): number {
  if (typeof outputs.probability === 'number') return outputs.probability;
  if (typeof outputs.prediction === 'number') return outputs.prediction;
  if (Array.isArray(outputs.probabilities) && outputs.probabilities.length) return Math.max(...outputs.probabilities);
  return Number.NaN;
}

function driftScores({ width, values }: BatchScores): Float64Array {
  if (width === 1) return values;
  const top = new Float64Array(values.length / width);
  for (let row = 0; row < top.length; row++) top[row] = Math.max(...values.subarray(row * width, row * width + width));
  return top;
}

/** The feature views a version's contract reads from the online store (none: no freshness to report). */
function contractViews(contract: unknown): string[] {
  return ((contract as { featureViews?: { view: string }[] }).featureViews ?? []).map((v) => v.view);
}
