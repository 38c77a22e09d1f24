import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type postgres from 'postgres';
import { loadProjectConfig } from '../../../src/runtime/project-config';
import type { TrainingPipelineResult } from '../../../src/shared/pipeline-result';
import { taskQueues } from '../../../src/shared/task-queues';

/**
 * Pipeline inputs small enough for a 2-core machine, and what the fault tests read back: the stage
 * a run is in, the attempts of its activities, and the rows it left in the database.
 */

// Early stopping off: the faults must land while the trees still grow, whatever the data.
export const GBDT = {
  kind: 'gbdt',
  params: { objective: 'binary', numTrees: 150, maxLeaves: 15, learningRate: 0.1, earlyStoppingRounds: 0 },
  threads: 1,
  checkpointEvery: 5,
  heartbeatTimeoutSeconds: 3,
} as const;
export const LINEAR = { kind: 'logistic-regression', l2: 0.0001, maxIterations: 200, tolerance: 1e-9, maxCategories: 100 } as const;

/** The project's flights pipeline on `rows` rows; each run names its own dataset so versions can be counted per run. */
export async function smallPipeline(model: string, trainer: object, rows = 4000) {
  const config = await loadProjectConfig('keel.config.json');
  return {
    ...config.pipeline,
    model,
    dataset: { ...config.pipeline.dataset, name: `${model}-data`, limit: rows },
    trainer,
    gate: { minRocAuc: 0.5, maxDropVsProduction: 1 },
    deploy: false,
  };
}

export function startPipeline(client: Client, model: string, input: object): Promise<WorkflowHandle> {
  return client.workflow.start('trainingPipeline', { taskQueue: taskQueues.control, workflowId: `train/${model}`, args: [input] });
}

export async function registered(handle: WorkflowHandle): Promise<Extract<TrainingPipelineResult, { status: 'registered' }>> {
  const result = (await handle.result()) as TrainingPipelineResult;
  if (result.status !== 'registered') throw new Error(`pipeline ${handle.workflowId} ended ${result.status}: ${JSON.stringify(result)}`);
  return result;
}

/** Polls `probe` until it returns a value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000, everyMs = 100): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(everyMs)) {
    const value = await probe();
    if (value !== undefined) return value;
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The `stage` query of a running pipeline, and whether an activity of `type` is pending (started) now. */
export async function inStage(handle: WorkflowHandle, stage: string, activityType: string): Promise<boolean> {
  const current = await handle.query<string>('stage').catch(() => undefined);
  if (current !== stage) return false;
  const { raw } = await handle.describe();
  return (raw.pendingActivities ?? []).some((a) => a.activityType?.name === activityType && a.lastStartedTime);
}

/** The attempt numbers with which each activity type of a run was started, from its history. */
export async function activityAttempts(handle: WorkflowHandle): Promise<Map<string, number[]>> {
  const events = (await handle.fetchHistory()).events ?? [];
  const typeOf = new Map<string, string>();
  const attempts = new Map<string, number[]>();
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(e.eventId), scheduled.activityType!.name!);
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const type = typeOf.get(String(started.scheduledEventId))!;
      attempts.set(type, [...(attempts.get(type) ?? []), started.attempt ?? 1]);
    }
  }
  return attempts;
}

/** Retries the fault caused: attempts beyond the first, over all activities of the run. */
export function retriesOf(attempts: Map<string, number[]>): number {
  return [...attempts.values()].flat().reduce((sum, attempt) => sum + attempt - 1, 0);
}

/** The completed result of the run's (single) activity of `type`. */
export async function activityResult<T>(handle: WorkflowHandle, type: string): Promise<T> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduledId = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type)?.eventId?.toString();
  const completed = events.find((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === scheduledId);
  const data = completed?.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data;
  if (!data) throw new Error(`no completed ${type} in ${handle.workflowId}`);
  return JSON.parse(Buffer.from(data).toString()) as T;
}

export interface RunLeftovers {
  datasetVersions: number;
  modelVersions: number;
  trainingRuns: number;
  checkpoints: number;
  /** Ingest attempts still `running` (a crashed attempt nobody cleaned up). */
  runningIngests: number;
  /** dataset_rows and quarantined_rows under an id that is no dataset version. */
  orphanRows: number;
}

/** What a run of `model` (workflow `train/<model>`) left in the database. */
export async function leftovers(sql: postgres.Sql, model: string): Promise<RunLeftovers> {
  const workflowId = `train/${model}`;
  const dataset = `${model}-data`;
  const [row] = await sql<{ [K in keyof RunLeftovers]: string }[]>`
    SELECT
      (SELECT count(*) FROM dataset_versions WHERE name = ${dataset}) AS "datasetVersions",
      (SELECT count(*) FROM model_versions WHERE model_name = ${model}) AS "modelVersions",
      (SELECT count(*) FROM training_runs WHERE workflow_id = ${workflowId}) AS "trainingRuns",
      (SELECT count(*) FROM training_checkpoints WHERE training_run_id LIKE ${`${workflowId}/%`}) AS "checkpoints",
      (SELECT count(*) FROM dataset_ingests WHERE name = ${dataset} AND status = 'running') AS "runningIngests",
      (SELECT count(*) FROM (
         SELECT dataset_version_id FROM dataset_rows r WHERE r.dataset_version_id IN (SELECT id FROM dataset_ingests WHERE name = ${dataset})
         UNION ALL
         SELECT dataset_version_id FROM quarantined_rows q WHERE q.dataset_version_id IN (SELECT id FROM dataset_ingests WHERE name = ${dataset})
       ) o WHERE NOT EXISTS (SELECT 1 FROM dataset_versions v WHERE v.id = o.dataset_version_id)) AS "orphanRows"`;
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)])) as unknown as RunLeftovers;
}

/** What a clean run leaves: one of each, nothing half-written. */
export const CLEAN: RunLeftovers = {
  datasetVersions: 1,
  modelVersions: 1,
  trainingRuns: 1,
  checkpoints: 0,
  runningIngests: 0,
  orphanRows: 0,
};
