import { ActivityFailure, ApplicationFailure, condition, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  type ApprovalChannel,
  type ApprovalEvaluation,
  type ApprovalRecord,
  type ApprovalSpec,
  type ApprovalState,
  approvalQuery,
  approvalRefusal,
  approvalRequestSchema,
  approvalSignal,
  approvalSignalSchema,
  approvalUpdate,
} from '../src/shared/approval';
import { ApprovalRefusedErrorType, nonRetryableErrorTypes } from '../src/shared/errors';
import { intervalMs } from '../src/shared/interval';
import { gateCompareMetric, type TrainingPipelineInput } from '../src/shared/pipeline-input';
import type { ModelMetrics } from '../src/shared/model-metrics';
import type { ApprovalOutcome } from '../src/shared/pipeline-result';
import { metricValue } from '../src/shared/task-metrics';
import { taskQueues } from '../src/shared/task-queues';
import { describeIssues, safeParseInput } from '../src/shared/validation';
import { deliverAlerts } from './deliver-alerts';
import { acceptsUnknownKeys } from './strict-inputs';

const light = proxyActivities<Activities>({
  taskQueue: taskQueues.control,
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes },
});

export interface ApprovalGate {
  /**
   * Records the pending approval, announces it, and waits for the decision on `version` (or the
   * deadline, which decides `onTimeout`). Resolves with the recorded decision.
   */
  awaitApproval(request: { model: string; version: number; evaluation: ApprovalEvaluation }): Promise<ApprovalOutcome>;
}

/**
 * Registers the approval update, signal and query, at the start of the pipeline so a message sent
 * early is answered ("nothing pending yet") rather than dropped. Handlers issue no commands until a
 * decision arrives, so a pipeline without `approval.required` replays as before.
 */
export function installApprovalHandlers(spec: ApprovalSpec, currentStage: () => string): ApprovalGate {
  const state: ApprovalState = { required: spec.required, pending: null, decision: null, ignoredSignals: [] };
  const refuse = (message: string) => ApplicationFailure.create({ message, type: ApprovalRefusedErrorType, nonRetryable: true });

  /** After the validator: the proof of an admin key (an activity: validators are synchronous), then the decision, unless another came first. */
  async function decide(
    request: { version: number; decision: ApprovalRecord['decision']; approver: string; reason: string; proof?: string },
    channel: ApprovalChannel,
  ) {
    let authenticated: boolean;
    try {
      ({ authenticated } = await light.verifyApprovalProof({ version: request.version, decision: request.decision, proof: request.proof }));
    } catch (error) {
      throw refuse(error instanceof ActivityFailure && error.cause ? error.cause.message : (error as Error).message);
    }
    const late = approvalRefusal(state, request.version, currentStage());
    if (late) throw refuse(late);
    const { version, decision, approver, reason } = request;
    state.decision = { version, decision, approver, reason, channel, at: new Date().toISOString(), authenticated };
    log.info('approval decided', { ...state.decision });
    return state.decision;
  }

  setHandler(approvalQuery, () => state);
  setHandler(
    approvalUpdate,
    (raw) => {
      const request = approvalRequestSchema.parse(raw);
      return decide(request, request.channel);
    },
    {
      validator: (raw) => {
        const parsed = approvalRequestSchema.safeParse(raw);
        if (!parsed.success) throw refuse(`invalid approval: ${describeIssues(parsed.error.issues, raw).join('; ')}`);
        const refusal = approvalRefusal(state, parsed.data.version, currentStage());
        if (refusal) throw refuse(refusal);
      },
    },
  );
  // A signal cannot be refused: one that cannot apply is recorded (query, result, log) and ignored.
  setHandler(approvalSignal, async (raw) => {
    const { proof: _proof, ...said } = (typeof raw === 'object' && raw !== null ? raw : { value: raw }) as Record<string, unknown>;
    const ignore = (why: string) => {
      state.ignoredSignals.push({ at: new Date().toISOString(), why, request: said });
      log.warn('approval signal ignored', { why, request: said });
    };
    const parsed = safeParseInput(approvalSignalSchema, raw, acceptsUnknownKeys);
    if (!parsed.success) return ignore(`invalid approval: ${describeIssues(parsed.error.issues, raw).join('; ')}`);
    const refusal = approvalRefusal(state, parsed.data.version, currentStage());
    if (refusal) return ignore(refusal);
    try {
      await decide(parsed.data, 'signal');
    } catch (error) {
      ignore((error as Error).message);
    }
  });

  return {
    async awaitApproval({ model, version, evaluation }) {
      const requestedAt = new Date();
      const deadline = new Date(requestedAt.getTime() + intervalMs(spec.timeout));
      const { alert } = await light.requestApproval({
        model,
        version,
        evaluation,
        requestedAt: requestedAt.toISOString(),
        deadline: deadline.toISOString(),
        onTimeout: spec.onTimeout,
        notifications: spec.notifications,
      });
      state.pending = {
        model,
        version,
        requestedAt: requestedAt.toISOString(),
        deadline: deadline.toISOString(),
        onTimeout: spec.onTimeout,
      };
      // Webhooks are tried (with their retries) while the pipeline waits: a slow one delays nothing.
      const delivered = alert && spec.notifications ? deliverAlerts(spec.notifications, [alert]) : Promise.resolve([]);
      await condition(() => state.decision !== null, Math.max(1, deadline.getTime() - Date.now()));
      if (!state.decision) {
        state.decision = {
          version,
          decision: spec.onTimeout,
          approver: 'timeout',
          reason: `no decision within ${spec.timeout}`,
          channel: 'timeout',
          at: new Date().toISOString(),
          authenticated: false,
        };
        log.info('approval timed out', { ...state.decision });
      }
      const decision = state.decision;
      await light.recordApprovalDecision(decision);
      await delivered;
      return { decision, ignoredSignals: state.ignoredSignals };
    },
  };
}

/** What an approver looks at: both versions' metrics on the test split, the gate's reasons, and the compared metric's two values. */
export function approvalEvaluation(
  input: Pick<TrainingPipelineInput, 'task' | 'gate'>,
  evaluation: { metrics: ModelMetrics; production?: { version: number; metrics: ModelMetrics } },
  gate: { passed: boolean; reasons: string[] },
): ApprovalEvaluation {
  const metric = gateCompareMetric(input);
  return {
    metrics: evaluation.metrics,
    ...(evaluation.production ? { production: evaluation.production } : {}),
    gate,
    compare: {
      metric,
      candidate: metricValue(evaluation.metrics, metric),
      production: evaluation.production ? metricValue(evaluation.production.metrics, metric) : null,
    },
  };
}
