import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { viewFreshness } from '../src/features/freshness';
import { categoryGuardOf, type CategoryGuard } from '../src/ml/onnx/category-guard';
import { actionAlerts, monitorFailureAlert, reportAlerts } from '../src/monitoring/monitor-alerts';
import { canaryVerdict, judgePerformance, performanceTaskOf, type CanaryVerdict } from '../src/monitoring/performance-judgement';
import { monitoredVersion, readWindow } from '../src/monitoring/prediction-window';
import { buildReference, hasReference, loadReference, storeReference, type ContractInputs } from '../src/monitoring/reference-store';
import { evaluateWindowInWorkerThread } from '../src/monitoring/evaluate-window-in-worker-thread';
import { buildReport, contractViews, reportSummary } from '../src/monitoring/report';
import { driftStreak, findReport, recordReportActions, storeAlerts, storeReport } from '../src/monitoring/report-store';
import type { LivePerformance } from '../src/monitoring/live-performance-types';
import { ArtifactMissingError } from '../src/registry/artifact-store';
import { getModelVersion } from '../src/registry/model-registry';
import { DataValidationError, DataValidationErrorType, InvalidInputError } from '../src/shared/errors';
import type { MonitorActions, MonitorAlertSummary, MonitorInput, Period } from '../src/shared/monitoring';
import type { NotificationsConfig } from '../src/shared/notifications';
import type { DriftReportSummary } from '../src/shared/pipeline-result';
import type { ActivityDeps } from './deps';

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
  canary: CanaryVerdict;
}

export function monitorActivities({ database, artifacts, logger }: ActivityDeps) {
  const db = database.db;

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

  return {
    /**
     * Chooses the version to monitor — production, or, for a past window production did not
     * serve, the version that served most of it — and makes sure its drift references exist:
     * built once per version from its training data and test-split scores, then stored in
     * `drift_references`. Heavy the first time (reads the dataset version): runs on the training
     * queue and heartbeats.
     */
    async prepareDriftReference(request: {
      model: string;
      window: { start: string; end: string };
    }): Promise<{ version: number; built: boolean }> {
      const version = await monitoredVersion(db, request.model, request.window);
      if (!version) throw new InvalidInputError(`model "${request.model}" has no production version to monitor`);
      if (await hasReference(db, request.model, version.version)) return { version: version.version, built: false };

      const started = performance.now();
      const reference = await buildReference(db, artifacts, version, (rows) => heartbeat({ rows })).catch(domainError);
      await storeReference(db, request.model, version.version, reference);
      logger.info(
        { model: request.model, version: version.version, rows: reference.summary.rows, ms: Math.round(performance.now() - started) },
        'drift reference built',
      );
      return { version: version.version, built: true };
    },

    /**
     * One monitoring report: reads the window of the prediction log with the ground truth that
     * arrived for it, compares the monitored version's inputs and predictions with its references,
     * judges live performance per version, stores the report (once per run key, however often
     * retried), stores its alerts (once per incident), and tells the workflow how long drift has
     * lasted and whether an active canary's candidate breached.
     */
    async computeMonitorReport(request: MonitorReportRequest): Promise<MonitorReportOutcome> {
      const { input, window, version, runKey } = request;
      const model = input.model;
      const versionRow = await getModelVersion(db, model, version);
      if (!versionRow) throw new InvalidInputError(`model "${model}" has no version ${version}`);
      const reference = await loadReference(db, model, version, (versionRow.contract as ContractInputs).inputs);
      // The live metric must be one of the version's task: checked before anything is stored.
      const performanceTask = input.performance.enabled ? performanceTaskOf(versionRow, input.performance) : null;

      let stored = await findReport(db, runKey);
      if (!stored) {
        const rows = await readWindow(db, model, window, input.maxRows, true);
        const served = rows.filter((r) => r.version === version && !r.shadow);
        const evaluation = await evaluateWindowInWorkerThread(reference, served, input).catch(domainError);
        const performance = performanceTask ? await judgePerformance(db, input, window, rows, performanceTask) : null;
        const guard = await categoryGuard(versionRow.artifactSha256);
        const freshness = await viewFreshness(db, Date.parse(window.end), contractViews(versionRow.contract));
        const report = buildReport({
          runKey,
          input,
          window,
          version,
          referenceDatasetVersionId: reference.datasetVersionId,
          served,
          evaluation,
          performance,
          guard,
          freshness,
        });
        stored = await storeReport(db, report);
      }
      const alerts = await storeAlerts(db, reportAlerts(stored, input, version), input.notifications);
      return {
        report: reportSummary(stored, version, alerts),
        streak: await driftStreak(db, {
          model,
          version,
          upTo: stored.windowEnd,
          on: input.policy.retrain.on,
          limit: input.policy.retrain.afterConsecutive,
        }),
        canary: await canaryVerdict(db, model, stored.performance as LivePerformance | null),
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
      const report = await recordReportActions(db, request.reportId, request.actions);
      return storeAlerts(db, actionAlerts(report, request.model, request.version, request.actions), request.notifications);
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
      const alert = monitorFailureAlert({ ...request, dedupWindowMs: request.notifications.dedupWindowMs });
      return storeAlerts(db, [alert], request.notifications);
    },
  };
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
