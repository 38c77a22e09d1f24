import {
  bigserial,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * keel's metadata. Every table that an activity writes has a natural key, so a retried activity
 * finds its earlier write instead of making a second one.
 */

/** An immutable, content-addressed set of canonical rows. Written last, after its rows. */
export const datasetVersions = pgTable(
  'dataset_versions',
  {
    /** sha256 of the dataset name and its canonical rows in source order. */
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    /** sha256 of the canonical rows alone (source order matters; see docs/architecture.md). */
    contentHash: text('content_hash').notNull(),
    spec: jsonb('spec').notNull(),
    columns: jsonb('columns').notNull(),
    rowsRead: integer('rows_read').notNull(),
    rowCount: integer('row_count').notNull(),
    quarantinedCount: integer('quarantined_count').notNull(),
    /** Per-column statistics, filled by the validate stage; the reference for drift. */
    profile: jsonb('profile'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('dataset_versions_name_hash').on(t.name, t.contentHash)],
);

export const datasetRows = pgTable(
  'dataset_rows',
  {
    datasetVersionId: text('dataset_version_id').notNull(),
    rowIndex: integer('row_index').notNull(),
    data: jsonb('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.datasetVersionId, t.rowIndex] })],
);

/** Rows that failed validation, kept with every reason. */
export const quarantinedRows = pgTable(
  'quarantined_rows',
  {
    datasetVersionId: text('dataset_version_id').notNull(),
    source: text('source').notNull(),
    /** 0-based position of the record in its source. */
    recordNumber: integer('record_number').notNull(),
    raw: jsonb('raw').notNull(),
    reasons: jsonb('reasons').notNull(),
  },
  (t) => [primaryKey({ columns: [t.datasetVersionId, t.source, t.recordNumber] })],
);

export const trainingRuns = pgTable('training_runs', {
  /** `<workflowId>/<runId>`: one training run per pipeline run. */
  id: text('id').primaryKey(),
  modelName: text('model_name').notNull(),
  workflowId: text('workflow_id').notNull(),
  runId: text('run_id').notNull(),
  datasetVersionId: text('dataset_version_id').notNull(),
  trainer: jsonb('trainer').notNull(),
  /** sha256 of the trained model (JSON) in the artifact store. */
  modelArtifactSha256: text('model_artifact_sha256').notNull(),
  /** Per-iteration training loss: the learning curve. */
  learningCurve: jsonb('learning_curve').notNull(),
  trainSeconds: doublePrecision('train_seconds').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const modelVersions = pgTable(
  'model_versions',
  {
    id: serial('id').primaryKey(),
    modelName: text('model_name').notNull(),
    version: integer('version').notNull(),
    /** Derived from the producing workflow run and step: a retried register finds its row. */
    idempotencyKey: text('idempotency_key').notNull(),
    artifactSha256: text('artifact_sha256').notNull(),
    artifactBytes: integer('artifact_bytes').notNull(),
    /** Input and output tensors of the ONNX model: what a prediction request must contain. */
    contract: jsonb('contract').notNull(),
    params: jsonb('params').notNull(),
    metrics: jsonb('metrics').notNull(),
    datasetVersionId: text('dataset_version_id').notNull(),
    datasetHash: text('dataset_hash').notNull(),
    trainingRunId: text('training_run_id').notNull(),
    gitCommit: text('git_commit'),
    gitDirty: boolean('git_dirty'),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('model_versions_name_version').on(t.modelName, t.version),
    uniqueIndex('model_versions_idempotency').on(t.idempotencyKey),
  ],
);

/** Named pointers (`production`, ...) to model versions. */
export const modelAliases = pgTable(
  'model_aliases',
  {
    modelName: text('model_name').notNull(),
    alias: text('alias').notNull(),
    version: integer('version').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.modelName, t.alias] })],
);

/** Every alias move, appended; never updated. */
export const aliasHistory = pgTable(
  'alias_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    modelName: text('model_name').notNull(),
    alias: text('alias').notNull(),
    fromVersion: integer('from_version'),
    toVersion: integer('to_version').notNull(),
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('alias_history_model_alias_at').on(t.modelName, t.alias, t.at)],
);

export const deployments = pgTable(
  'deployments',
  {
    id: serial('id').primaryKey(),
    modelName: text('model_name').notNull(),
    version: integer('version').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    workflowId: text('workflow_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('deployments_idempotency').on(t.idempotencyKey)],
);

export const predictionLog = pgTable(
  'prediction_log',
  {
    id: text('id').primaryKey(),
    modelName: text('model_name').notNull(),
    version: integer('version').notNull(),
    inputs: jsonb('inputs').notNull(),
    outputs: jsonb('outputs').notNull(),
    latencyMs: doublePrecision('latency_ms').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('prediction_log_model_time').on(t.modelName, t.createdAt)],
);

export const driftReports = pgTable(
  'drift_reports',
  {
    id: serial('id').primaryKey(),
    /** `<workflowId>/<runId>` of the monitor run: one report per run, however often retried. */
    runKey: text('run_key').notNull(),
    modelName: text('model_name').notNull(),
    version: integer('version').notNull(),
    referenceDatasetVersionId: text('reference_dataset_version_id').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
    windowEnd: timestamp('window_end', { withTimezone: true }).notNull(),
    rowCount: integer('row_count').notNull(),
    /** `ok`, `drift` or `insufficient_data`. */
    status: text('status').notNull(),
    features: jsonb('features').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('drift_reports_run_key').on(t.runKey)],
);
