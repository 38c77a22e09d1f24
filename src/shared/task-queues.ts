/** Task queues by capability, so training can scale on a worker fleet of its own. */
export const taskQueues = {
  /** Workflows and light activities: registry writes, deploys, reports. */
  control: 'keel-control',
  /** Heavy activities: ingest, training, evaluation. */
  train: 'keel-train',
} as const;

/** Deterministic, meaningful workflow ids. */
export const workflowIds = {
  training: (model: string, runKey: string) => `train/${model}/${runKey}`,
  monitor: (model: string) => `monitor/${model}`,
  /** One canary rollout per model at a time: a second start fails while one runs. */
  canary: (model: string) => `canary/${model}`,
  materialize: (view: string, runKey: string) => `features/${view}/${runKey}`,
} as const;

export const scheduleIds = {
  monitor: (model: string) => `keel/monitor/${model}`,
  retrain: (model: string) => `keel/retrain/${model}`,
  materialize: (view: string) => `keel/features/${view}`,
} as const;
