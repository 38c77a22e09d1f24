import {
  ApplicationFailure,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import type { TrainModelInput, TrainModelResult } from '../activities/train';
import { canonicalCategoriesOf, type CanonicalCategories } from '../src/shared/category-spellings';
import { InvalidInputErrorType, nonRetryableErrorTypes, RolloutInProgressErrorType } from '../src/shared/errors';
import { decideGate } from '../src/shared/gate';
import { pipelineStageQuery } from '../src/shared/messages';
import type { ModelContract } from '../src/shared/model-contract';
import {
  type CommandTrainerSpec,
  gbdtTrainerSchema,
  linearRegressionTrainerSchema,
  logisticTrainerSchema,
  type TrainerSpec,
  trainingPipelineInputSchema,
  tunableParams,
  tuningMetric,
  type TrainingPipelineInput,
} from '../src/shared/pipeline-input';
import { metricValue } from '../src/shared/task-metrics';
import type { ApprovalOutcome, TrainingPipelineResult } from '../src/shared/pipeline-result';
import { taskQueues, workflowIds } from '../src/shared/task-queues';
import { bestTrial, runTpeStudy } from '../src/shared/tpe-study';
import type { ParamSet } from '../src/shared/search-space';
import { gridConfigs, mapWithConcurrency, randomConfigs, successiveHalvingRungs, type TuningSpec } from '../src/shared/tuning';
import { describeIssues, parseWorkflowInput } from '../src/shared/validation';
import { approvalEvaluation, installApprovalHandlers } from './approval';
import type { canaryRollout } from './canary-rollout';
import { PipelineRunRecorder } from './pipeline-run-recorder';
import { acceptsUnknownKeys } from './strict-inputs';

const retry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 5,
  nonRetryableErrorTypes,
};

/** Data and training stages run on the training queue, so they can scale on their own workers. */
const heavy = proxyActivities<Activities>({
  taskQueue: taskQueues.train,
  startToCloseTimeout: '20m',
  // Heavy activities heartbeat every few seconds; a dead worker is noticed within 30 s and the
  // retry resumes from the last checkpoint named in the heartbeat.
  heartbeatTimeout: '30s',
  retry,
});

/** Training activities notice a dead worker after the trainer's heartbeat timeout. */
function trainingActivity(trainer: TrainModelInput['trainer']) {
  const seconds = trainer.kind === 'gbdt' ? trainer.heartbeatTimeoutSeconds : 30;
  return proxyActivities<Activities>({ taskQueue: taskQueues.train, startToCloseTimeout: '2h', heartbeatTimeout: `${seconds}s`, retry });
}

const light = proxyActivities<Activities>({
  taskQueue: taskQueues.control,
  startToCloseTimeout: '1m',
  retry,
});

/**
 * ingest → validate → split → train (or tune) → export → evaluate → gate → register →
 * (with `approval.required`: wait for a person's decision, see ./approval.ts) → deploy.
 * Each stage is an activity; the workflow carries ids and hashes, never rows or model bytes. The
 * run is recorded in `pipeline_runs` (its stages, its outcome, a failure's cause chain); a failure
 * is recorded, then rethrown, so the run still fails.
 */
export async function trainingPipeline(rawInput: unknown): Promise<TrainingPipelineResult> {
  let stage = 'validating input';
  setHandler(pipelineStageQuery, () => stage);
  const record = new PipelineRunRecorder(modelNameOf(rawInput));
  const enter = async (name: string) => {
    stage = name;
    await record.stage(name);
  };
  try {
    const result = await runPipeline(
      rawInput,
      record,
      enter,
      (progress) => (stage = progress),
      () => stage,
    );
    // Rejected by the gate or by the approver: the run ended as designed, without a deploy.
    await record.finished(result.status === 'registered' ? 'succeeded' : 'rejected');
    // Once the outcome is recorded, so the stored report shows the run ended and how.
    await storeRunReport(result.trainingRunId);
    return result;
  } catch (error) {
    await record.failed(error);
    throw error;
  }
}

/**
 * The run's self-contained HTML report, rendered when the run has an outcome (registered or
 * rejected) and stored as an artifact linked from its training run. A report is for people: when
 * it cannot be stored the run still succeeds, with a warning. Runs started before this step
 * existed replay without it (patched).
 */
async function storeRunReport(trainingRunId: string): Promise<void> {
  if (!patched('store-run-report')) return;
  try {
    await light.storeRunReport({ trainingRunId });
  } catch (error) {
    log.warn('the run report could not be stored', { trainingRunId, error: (error as Error).message });
  }
}

/** The model a run is for, even when the rest of its input is invalid: the record still lists it. */
function modelNameOf(rawInput: unknown): string {
  const model = (rawInput as { model?: unknown } | null)?.model;
  return typeof model === 'string' && model !== '' ? model : '(invalid input)';
}

/**
 * With `featureViews`, the ingested rows are joined point-in-time with those views' features into
 * a training set (a dataset version of its own) that every later stage uses; the views whose
 * features the model takes go into its contract, for the server to fill. Runs that predate the
 * feature store replay without the step (patched).
 */
async function joinFeatureViews(
  input: TrainingPipelineInput,
  ingestedVersionId: string,
  record: PipelineRunRecorder,
  enter: (stage: string) => Promise<void>,
): Promise<{ datasetVersionId: string; featureViews?: ModelContract['featureViews'] }> {
  if (!input.featureViews?.length || !patched('feature-store-training-set')) return { datasetVersionId: ingestedVersionId };
  await enter('feature join');
  const built = await heavy.buildTrainingSet({
    datasetVersionId: ingestedVersionId,
    views: input.featureViews,
    features: input.features.map((f) => f.name),
  });
  log.info('joined feature views', {
    datasetVersionId: built.datasetVersionId,
    views: built.views.map((v) => `${v.name}@${v.version.slice(0, 12)}`),
  });
  record.produced({ datasetVersionId: built.datasetVersionId });
  return { datasetVersionId: built.datasetVersionId, featureViews: built.contractViews };
}

async function runPipeline(
  rawInput: unknown,
  record: PipelineRunRecorder,
  enter: (stage: string) => Promise<void>,
  onProgress: (progress: string) => void,
  currentStage: () => string,
): Promise<TrainingPipelineResult> {
  const input = parseWorkflowInput(trainingPipelineInputSchema, rawInput, 'trainingPipeline', acceptsUnknownKeys);
  const approvals = installApprovalHandlers(input.approval, currentStage);

  await enter('ingest');
  const ingested = await heavy.ingestDataset({ dataset: input.dataset, target: { column: input.target, missing: input.missingTarget } });
  log.info('ingested', { ...ingested });
  record.produced({ datasetVersionId: ingested.datasetVersionId });
  const { datasetVersionId, featureViews } = await joinFeatureViews(input, ingested.datasetVersionId, record, enter);

  await enter('validate');
  await heavy.validateDataset({ datasetVersionId, rules: input.rules });

  await enter('split');
  await light.splitDataset({ datasetVersionId, split: input.split });

  const base = {
    model: input.model,
    datasetVersionId,
    features: input.features,
    target: input.target,
    task: input.task,
    split: input.split,
    ...servingCanonicalisation(input),
  };
  const candidate =
    input.trainer.kind === 'command'
      ? await trainExternal({ ...base, trainer: input.trainer }, enter)
      : await trainInKeel(input, { ...base, trainer: input.trainer }, enter, onProgress);
  record.produced({ trainingRunId: candidate.trainingRunId });

  await enter('evaluate');
  const evaluation = await heavy.evaluateModel({
    model: input.model,
    datasetVersionId,
    split: input.split,
    target: input.target,
    modelArtifactSha256: candidate.modelArtifactSha256,
    onnxSha256: candidate.onnxSha256,
    contract: candidate.contract,
  });
  const contract: ModelContract = featureViews ? { ...candidate.contract, featureViews } : candidate.contract;

  await enter('gate');
  const gate = decideGate(input.gate, input.task, evaluation.metrics, evaluation.production);
  await light.recordEvaluation({ trainingRunId: candidate.trainingRunId, evaluation, gate });
  const outcome = {
    model: input.model,
    datasetVersionId,
    trainingRunId: candidate.trainingRunId,
    trials: candidate.trials,
    metrics: evaluation.metrics,
    production: evaluation.production,
    gate,
  };
  if (!gate.passed) {
    onProgress('rejected');
    return { ...outcome, status: 'rejected', reason: gate.reasons.join('; ') };
  }

  await enter('register');
  const { version } = await light.registerModel({
    model: input.model,
    datasetVersionId,
    trainingRunId: candidate.trainingRunId,
    modelArtifactSha256: candidate.modelArtifactSha256,
    onnxSha256: candidate.onnxSha256,
    bytes: candidate.bytes,
    contract,
    params: {
      trainer: candidate.trainer,
      features: input.features,
      target: input.target,
      task: input.task,
      split: input.split,
      ...servingCanonicalisation(input),
    },
    metrics: evaluation.metrics,
  });
  record.produced({ modelVersion: version });

  const registered = { ...outcome, version, artifactSha256: candidate.onnxSha256 };
  let reason = `passed the gate: ${gate.reasons.join('; ')}`;
  let approval: ApprovalOutcome | undefined;
  if (input.deploy && input.approval.required) {
    await enter('awaiting approval');
    approval = await approvals.awaitApproval({ model: input.model, version, evaluation: approvalEvaluation(input, evaluation, gate) });
    const { decision } = approval;
    const by = `${decision.approver} (${decision.channel})${decision.reason ? `: ${decision.reason}` : ''}`;
    if (decision.decision === 'reject') {
      onProgress('rejected by approver');
      return { ...registered, status: 'rejected-by-approver', deployed: false, reason: `rejected by ${by}`, approval };
    }
    reason += `; approved by ${by}`;
  }

  let deployed = false;
  let rollout: Awaited<ReturnType<typeof startCanaryRollout>> | undefined;
  if (input.deploy) {
    await enter('deploy');
    // A canary needs a production version to compare with: a model's first version goes direct.
    if (input.rollout.strategy === 'canary' && evaluation.production) {
      rollout = await startCanaryRollout(input.model, input.rollout, version, reason);
    } else {
      await light.deployModel({ model: input.model, version, reason });
      deployed = true;
    }
  }
  onProgress('done');
  return { ...registered, status: 'registered', deployed, ...(rollout ? { rollout } : {}), ...(approval ? { approval } : {}) };
}

/**
 * Starts `canary/<model>` as a child the pipeline abandons: the rollout outlives the pipeline run,
 * which returns its id. One rollout per model at a time: if one is running, this fails clearly
 * (the version stays registered, not deployed).
 */
async function startCanaryRollout(
  model: string,
  rollout: Extract<TrainingPipelineInput['rollout'], { strategy: 'canary' }>,
  version: number,
  reason: string,
) {
  const { strategy: _strategy, ...settings } = rollout;
  const workflowId = workflowIds.canary(model);
  try {
    const child = await startChild<typeof canaryRollout>('canaryRollout', {
      workflowId,
      taskQueue: taskQueues.control,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [{ model, candidate: version, ...settings, initiator: `workflow:${workflowInfo().workflowId}`, reason }],
    });
    return { strategy: 'canary' as const, workflowId, runId: child.firstExecutionRunId };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    throw ApplicationFailure.nonRetryable(
      `a canary rollout of "${model}" is already running (workflow ${workflowId}); version ${version} is registered but not deployed. ` +
        `Let that rollout end (or: keel rollouts rollback ${model}), then: keel rollouts start ${model} ${version}`,
      RolloutInProgressErrorType,
    );
  }
}

/**
 * The categorical features' spelling tables (trim, enum spellings), stored with the model so its
 * graph canonicalises requests as ingest canonicalised rows, and recorded with the version so
 * `keel models reproduce` exports the same bytes. Runs from before it replay without (patched).
 */
function servingCanonicalisation(input: TrainingPipelineInput): { canonicalCategories?: CanonicalCategories } {
  const canonicalCategories = canonicalCategoriesOf(input.dataset, input.features);
  if (Object.keys(canonicalCategories).length === 0 || !patched('canonical-categories')) return {};
  return { canonicalCategories };
}

/** What training hands to evaluation, whoever trained: an ONNX artifact and where it came from. */
interface Candidate {
  trainingRunId: string;
  trials: number;
  trainer: TrainerSpec;
  onnxSha256: string;
  bytes: number;
  contract: ModelContract;
  /** keel's own trained model (JSON), which evaluation checks the ONNX against. */
  modelArtifactSha256?: string;
}

/** keel's trainers: train (or tune), then export the winner with its feature pipeline to ONNX. */
async function trainInKeel(
  input: TrainingPipelineInput,
  request: Omit<TrainModelInput, 'trial'>,
  enter: (stage: string) => Promise<void>,
  onProgress: (progress: string) => void,
): Promise<Candidate> {
  await enter(input.tuning ? 'tune' : 'train');
  const { best, trials } = input.tuning
    ? await tune(input, request, onProgress)
    : {
        best: { ...(await trainingActivity(request.trainer).trainModel({ ...request, trial: 'main' })), trainer: request.trainer },
        trials: 1,
      };
  await enter('export');
  const exported = await heavy.exportModel({ modelArtifactSha256: best.modelArtifactSha256 });
  return { trainingRunId: best.trainingRunId, trials, trainer: best.trainer, ...exported, modelArtifactSha256: best.modelArtifactSha256 };
}

/** A bring-your-own trainer writes the ONNX itself; keel verifies it in the activity. */
async function trainExternal(
  request: Omit<TrainModelInput, 'trial' | 'trainer'> & { trainer: CommandTrainerSpec },
  enter: (stage: string) => Promise<void>,
): Promise<Candidate> {
  await enter('train (external program)');
  const trained = await heavy.trainExternalModel({ ...request, task: request.task ?? 'binary', trial: 'main' });
  return { ...trained, trials: 1, trainer: request.trainer };
}

type TrialResult = TrainModelResult & { trainer: TrainModelInput['trainer'] };

/**
 * Hyperparameter search: trials are training activities on the training queue, at most
 * `concurrency` at a time, so they spread over however many training workers there are. Every
 * trial is recorded as a training run; the best on the validation split wins (ties: first).
 */
async function tune(
  input: TrainingPipelineInput,
  base: Omit<TrainModelInput, 'trial'>,
  onStage: (stage: string) => void,
): Promise<{ best: TrialResult; trials: number }> {
  const tuning = input.tuning!;
  const { budget } = tunableParams[base.trainer.kind];
  const metric = tuningMetric(input);
  // Lower is better; a trial without the metric (NaN) ranks last.
  const score = (r: TrialResult) => {
    const value = metricValue(r.validationMetrics, metric.name);
    return Number.isNaN(value) ? Number.POSITIVE_INFINITY : metric.higherIsBetter ? -value : value;
  };
  const byScore = (a: { result: TrialResult }, b: { result: TrialResult }) => score(a.result) - score(b.result) || 0;
  const train = (params: ParamSet, trial: string): Promise<TrialResult> => {
    const trainer = trialTrainer(base.trainer, params, trial);
    return trainingActivity(trainer)
      .trainModel({ ...base, trainer, trial })
      .then((result) => ({ ...result, trainer }));
  };

  if (tuning.strategy === 'tpe' && patched('tpe-tuning')) return tuneTpe(input, tuning, base, score, train, onStage);

  const configs =
    tuning.strategy === 'grid'
      ? gridConfigs(tuning.space as Record<string, number[]>)
      : randomConfigs(tuning.space, tuning.trials, tuning.seed);
  let trained = 0;

  if (tuning.strategy !== 'successive-halving') {
    onStage(`tune: ${configs.length} trials`);
    const results = await mapWithConcurrency(configs, tuning.concurrency, (params, i) => train(params, `trial-${i}`));
    const ranked = results.map((result) => ({ result })).sort(byScore);
    return { best: ranked[0].result, trials: results.length };
  }

  const maxBudget = budgetOf(base.trainer);
  let survivors = configs.map((params, id) => ({ params, id }));
  let ranked: { id: number; params: ParamSet; result: TrialResult }[] = [];
  for (const [rung, { keep, budget: rungBudget }] of successiveHalvingRungs(configs.length, maxBudget, tuning.eta).entries()) {
    survivors = survivors.slice(0, keep);
    onStage(`tune: rung ${rung + 1}, ${survivors.length} trials with ${budget} ${rungBudget}`);
    const results = await mapWithConcurrency(survivors, tuning.concurrency, (s) =>
      train({ ...s.params, [budget]: rungBudget }, `rung-${rung}-trial-${s.id}`),
    );
    trained += results.length;
    ranked = survivors.map((s, i) => ({ ...s, result: results[i] })).sort(byScore);
    survivors = ranked;
  }
  return { best: ranked[0].result, trials: trained };
}

/**
 * TPE: each trial suggested from the trials before it (src/shared/tpe.ts), optionally pruned at
 * smaller budgets by the median rule and warm-started from the model's earlier trials (recorded
 * by an activity, so a replay sees the same ones). The best complete trial wins (ties: first).
 */
async function tuneTpe(
  input: TrainingPipelineInput,
  tuning: TuningSpec,
  base: Omit<TrainModelInput, 'trial'>,
  score: (r: TrialResult) => number,
  train: (params: ParamSet, trial: string) => Promise<TrialResult>,
  onStage: (stage: string) => void,
): Promise<{ best: TrialResult; trials: number }> {
  const { budget } = tunableParams[base.trainer.kind];
  const warmStart = tuning.warmStart
    ? await light.earlierTuningTrials({ model: input.model, kind: base.trainer.kind, space: tuning.space, metric: tuningMetric(input) })
    : [];
  onStage(
    `tune: tpe, ${tuning.trials} trials${tuning.pruning === 'median' ? ', median pruning' : ''}${warmStart.length ? `, warm start from ${warmStart.length}` : ''}`,
  );
  const results = new Map<string, TrialResult>();
  const trials = await runTpeStudy(
    {
      space: tuning.space,
      trials: tuning.trials,
      concurrency: tuning.concurrency,
      seed: tuning.seed,
      startupTrials: tuning.startupTrials,
      candidates: tuning.candidates,
      pruning: tuning.pruning,
      rungs: tuning.pruningRungs,
      eta: tuning.eta,
      minTrials: tuning.pruningMinTrials,
      budget: budget ? { name: budget, max: budgetOf(base.trainer) } : undefined,
      warmStart,
    },
    async (params, trial) => {
      const result = await train(params, trial);
      results.set(trial, result);
      return score(result);
    },
  );
  const best = bestTrial(trials) ?? trials[0];
  return { best: results.get(`trial-${best.id}`)!, trials: results.size };
}

/** A trial's trainer: the base trainer with the sampled values, validated like any input. */
function trialTrainer(base: TrainModelInput['trainer'], params: ParamSet, trial: string): TrainModelInput['trainer'] {
  const candidate = base.kind === 'gbdt' ? { ...base, params: { ...base.params, ...params } } : { ...base, ...params };
  const schema = {
    gbdt: gbdtTrainerSchema,
    'logistic-regression': logisticTrainerSchema,
    'linear-regression': linearRegressionTrainerSchema,
  }[base.kind];
  const parsed = schema.safeParse(candidate);
  if (!parsed.success) {
    const details = describeIssues(parsed.error.issues, candidate);
    throw ApplicationFailure.nonRetryable(
      `tuning produced an invalid trainer for ${trial}: ${details.join('; ')}`,
      InvalidInputErrorType,
      ...details,
    );
  }
  return parsed.data;
}

/** The trainer's value of the successive-halving budget (iterations or trees). */
function budgetOf(trainer: TrainModelInput['trainer']): number {
  return trainer.kind === 'gbdt' ? trainer.params.numTrees : trainer.maxIterations;
}
