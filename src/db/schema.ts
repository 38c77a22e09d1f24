import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  json,
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
 *
 * One file on purpose: drizzle-kit generates the migrations from this single schema.
 */

/**
 * An immutable, content-hashed set of canonical rows. Written last, after its rows, in the same
 * transaction that marks its ingest complete (see src/data/ingest.ts).
 */
export const datasetVersions = pgTable(
  'dataset_versions',
  {
    /**
     * The id of the ingest that wrote the rows (random, 128 bits, hex): rows are streamed to the
     * database under it before the content hash is known. Identity is (name, content_hash).
     */
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    /** sha256 of the column header and the canonical rows in row_index order (see docs/data.md). */
    contentHash: text('content_hash').notNull(),
    spec: jsonb('spec').notNull(),
    columns: jsonb('columns').notNull(),
    /** Records read: row_count + quarantined_count + duplicate_count. */
    rowsRead: integer('rows_read').notNull(),
    rowCount: integer('row_count').notNull(),
    quarantinedCount: integer('quarantined_count').notNull(),
    duplicateCount: integer('duplicate_count').notNull().default(0),
    /** Per-source accounting and dedup details of the ingest that made the version. */
    report: jsonb('report'),
    /** Per-column statistics, computed while ingesting; the reference for drift. */
    profile: jsonb('profile'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('dataset_versions_name_hash').on(t.name, t.contentHash),
    index('dataset_versions_name_created').on(t.name, t.createdAt),
  ],
);

/**
 * One attempt to ingest a dataset. Its id is the version id its rows are written under; the
 * version row exists only once the attempt is `complete`. A retry (same ingest_key) or a later
 * ingest finds attempts that crashed or failed and deletes their rows.
 */
export const datasetIngests = pgTable(
  'dataset_ingests',
  {
    id: text('id').primaryKey(),
    /** Stable across retries of one request, e.g. `<workflowId>/<runId>/<activityId>`. */
    ingestKey: text('ingest_key').notNull(),
    name: text('name').notNull(),
    /** running | complete | duplicate (identical content existed) | failed | abandoned | cleaned */
    status: text('status').notNull(),
    /** The version this attempt produced (complete) or found (duplicate). */
    datasetVersionId: text('dataset_version_id'),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('dataset_ingests_key').on(t.ingestKey), index('dataset_ingests_status').on(t.status, t.name)],
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

/** Rows that failed validation (kind `invalid`, with every reason) or lost deduplication (`duplicate`). */
export const quarantinedRows = pgTable(
  'quarantined_rows',
  {
    datasetVersionId: text('dataset_version_id').notNull(),
    source: text('source').notNull(),
    /** 0-based position of the record in its source. */
    recordNumber: integer('record_number').notNull(),
    raw: jsonb('raw').notNull(),
    reasons: jsonb('reasons').notNull(),
    kind: text('kind').notNull().default('invalid'),
  },
  (t) => [primaryKey({ columns: [t.datasetVersionId, t.source, t.recordNumber] })],
);

export const trainingRuns = pgTable('training_runs', {
  /** `<workflowId>/<runId>/<trial>`: one row per trial of a pipeline run (`main` without tuning). */
  id: text('id').primaryKey(),
  trial: text('trial').notNull().default('main'),
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
  /** Set when the attempt that trained resumed from a checkpoint an interrupted attempt stored. */
  resumedFromIteration: integer('resumed_from_iteration'),
  /** Metrics on the validation split: what tuning compares trials by. */
  validationMetrics: jsonb('validation_metrics'),
  /** Test-split metrics of this candidate and of the production version it was compared with. */
  evaluation: jsonb('evaluation'),
  /** The gate's decision: `{ passed, reasons }`. */
  gate: jsonb('gate'),
  /** sha256 of the run's self-contained HTML report in the artifact store, stored when the pipeline ends (`keel report run --stored`). */
  reportArtifactSha256: text('report_artifact_sha256'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * One run of the training pipeline, failed ones included: what the operator's views list. Its id is
 * `<workflowId>/<runId>`, so a retried record finds its row. The stage timeline and the failure
 * are JSON (src/registry/pipeline-runs.ts defines their shape); the tuning trials are the
 * `training_runs` of the same workflow run.
 */
export const pipelineRuns = pgTable(
  'pipeline_runs',
  {
    id: text('id').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
    modelName: text('model_name').notNull(),
    /** running | succeeded | rejected (by the gate) | failed | cancelled */
    status: text('status').notNull(),
    /** `[{ name, startedAt, endedAt?, outcome, attempts? }]`, in the order the stages ran. */
    stages: jsonb('stages')
      .notNull()
      .default(sql`'[]'::jsonb`),
    /** `{ message, type, nonRetryable, cause: [{ kind, message, type?, nonRetryable? }] }` when it failed. */
    failure: jsonb('failure'),
    datasetVersionId: text('dataset_version_id'),
    trainingRunId: text('training_run_id'),
    modelVersion: integer('model_version'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (t) => [
    index('pipeline_runs_model_started').on(t.modelName, t.startedAt),
    uniqueIndex('pipeline_runs_workflow_run').on(t.workflowId, t.runId),
  ],
);

/**
 * The newest stored checkpoint of a training activity, keyed by its training run id (the
 * activity's idempotency key). Heartbeats only report progress: a checkpoint recorded here is
 * found by the next attempt even when its heartbeat never reached Temporal (a server outage).
 */
export const trainingCheckpoints = pgTable('training_checkpoints', {
  trainingRunId: text('training_run_id').primaryKey(),
  iteration: integer('iteration').notNull(),
  /** sha256 of the checkpoint (JSON) in the artifact store. */
  artifactSha256: text('artifact_sha256').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** A model name, registered once; its versions are numbered 1, 2, ... */
export const registeredModels = pgTable('registered_models', {
  name: text('name').primaryKey(),
  description: text('description').notNull().default(''),
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
    /** '' for an imported model made from data keel does not know. */
    datasetVersionId: text('dataset_version_id').notNull(),
    datasetHash: text('dataset_hash').notNull(),
    /** '' when no keel training run produced it (an import). */
    trainingRunId: text('training_run_id').notNull(),
    gitCommit: text('git_commit'),
    gitDirty: boolean('git_dirty'),
    /** The producing workflow run; '' for an import (made outside Temporal). */
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
    /** Who registered it: `workflow:<id>` or `user:<name>`. */
    creator: text('creator').notNull().default('unknown'),
    description: text('description').notNull().default(''),
    /** Free-form string labels. */
    tags: jsonb('tags').$type<Record<string, string>>().notNull().default({}),
    /** The fitted feature pipeline inside the graph (imputation, scaling, vocabularies). */
    featurePipeline: jsonb('feature_pipeline'),
    /** `pipeline` (trained by trainingPipeline) or `import` (an external ONNX file). */
    source: text('source').notNull().default('pipeline'),
    /** `active`, `archived` (kept, not promotable) or `deleted` (artifact collectable). */
    status: text('status').notNull().default('active'),
    statusChangedAt: timestamp('status_changed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('model_versions_name_version').on(t.modelName, t.version),
    uniqueIndex('model_versions_idempotency').on(t.idempotencyKey),
    index('model_versions_artifact').on(t.artifactSha256),
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
    /** null when the alias was removed. */
    toVersion: integer('to_version'),
    /** `set`, `rollback` or `remove`. */
    action: text('action').notNull().default('set'),
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('alias_history_model_alias_at').on(t.modelName, t.alias, t.at)],
);

/** Lifecycle changes of versions (tags, description, archive, restore, delete, GC), appended. */
export const modelVersionEvents = pgTable(
  'model_version_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    modelName: text('model_name').notNull(),
    version: integer('version').notNull(),
    action: text('action').notNull(),
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    details: jsonb('details'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('model_version_events_model_version').on(t.modelName, t.version)],
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
    /** The version the alias pointed to before this deployment (null: none). */
    previousVersion: integer('previous_version'),
    /** null while the deployment runs; set when a later deployment or a rollback supersedes it. */
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('deployments_idempotency').on(t.idempotencyKey)],
);

export const predictionLog = pgTable(
  'prediction_log',
  {
    id: text('id').primaryKey(),
    modelName: text('model_name').notNull(),
    version: integer('version').notNull(),
    /**
     * json, not jsonb: a row is written per prediction and read back only by rollouts and
     * monitoring, so the text is kept as sent instead of being converted on every insert (jsonb
     * cost PostgreSQL about 1 µs more CPU per row, on the machine that serves).
     */
    inputs: json('inputs').notNull(),
    /** null when inference failed (see `error`). */
    outputs: json('outputs'),
    latencyMs: doublePrecision('latency_ms').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    /** A shadow prediction: the candidate scored mirrored traffic; logged, never returned. */
    shadow: boolean('shadow').notNull().default(false),
    /** For a shadow prediction, the id of the prediction returned for the same row (feedback joins on it). */
    primaryId: text('primary_id'),
    /** Why inference failed for valid input (the model's fault, not the client's); null on success. */
    error: text('error'),
  },
  (t) => [index('prediction_log_model_time').on(t.modelName, t.createdAt)],
);

/** Ground truth attached to a logged prediction (`POST /v1/feedback`); the latest answer wins. */
export const feedback = pgTable(
  'feedback',
  {
    predictionId: text('prediction_id').primaryKey(),
    /** Observed class (0/1) for a classifier. */
    label: integer('label'),
    /** Observed value for a regressor. */
    value: doublePrecision('value'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('feedback_label_xor_value', sql`(${t.label} is null) <> (${t.value} is null)`)],
);

/**
 * Serving routes: per model, the candidate version that shares traffic with the baseline (the
 * `production` alias). Read by every model-server replica, written by the canary rollout (see
 * src/serving/routes.ts). A route whose baseline is no longer the production version is stale and
 * ignored. No row: all traffic goes to production.
 */
export const routes = pgTable(
  'routes',
  {
    modelName: text('model_name').primaryKey(),
    baselineVersion: integer('baseline_version').notNull(),
    candidateVersion: integer('candidate_version').notNull(),
    /** Fraction of requests (0..1) the candidate answers, or mirrors when `shadow`. */
    candidateWeight: doublePrecision('candidate_weight').notNull(),
    shadow: boolean('shadow').notNull().default(false),
    /** Incremented by every change, so replicas and the rollout can tell which state is served. */
    revision: integer('revision').notNull().default(1),
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('routes_weight_range', sql`${t.candidateWeight} >= 0 and ${t.candidateWeight} <= 1`),
    check('routes_distinct_versions', sql`${t.baselineVersion} <> ${t.candidateVersion}`),
  ],
);

/**
 * Canary rollouts (workflow `canaryRollout`): one row per workflow run, created when it starts and
 * closed with its outcome. Every decision is a `rollout_events` row.
 */
export const rollouts = pgTable(
  'rollouts',
  {
    /** `<workflowId>/<runId>`: a retried activity finds its row. */
    id: text('id').primaryKey(),
    modelName: text('model_name').notNull(),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
    baselineVersion: integer('baseline_version').notNull(),
    candidateVersion: integer('candidate_version').notNull(),
    /** The rollout's settings (steps, bake time, thresholds) as validated. */
    settings: jsonb('settings').notNull(),
    /** `running`, `promoted` or `rolled_back`. */
    status: text('status').notNull().default('running'),
    /** Who started it (`workflow:<id>`, `user:<name>`) and, once ended, who decided and why. */
    initiator: text('initiator').notNull(),
    decidedBy: text('decided_by'),
    reason: text('reason'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (t) => [index('rollouts_model_started').on(t.modelName, t.startedAt)],
);

/**
 * What a rollout did and why, appended: `started`, `step` (a route written), `step_passed`,
 * `paused`, `resumed`, `promoted`, `rolled_back`. `seq` is assigned by the workflow, so a retried
 * activity cannot record an event twice.
 */
export const rolloutEvents = pgTable(
  'rollout_events',
  {
    rolloutId: text('rollout_id').notNull(),
    seq: integer('seq').notNull(),
    kind: text('kind').notNull(),
    /** The step's candidate share in percent, and whether it mirrors (shadow). */
    percent: doublePrecision('percent'),
    shadow: boolean('shadow'),
    actor: text('actor').notNull(),
    reason: text('reason').notNull().default(''),
    /** The health comparison behind the decision (see judgeHealth in src/serving/canary-health.ts). */
    health: jsonb('health'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.rolloutId, t.seq] })],
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
    /** `{ message, features: [{ feature, psi, method, score, ... }], evaluation }` (src/monitoring/drift.ts). */
    features: jsonb('features').notNull(),
    /** Live performance per version from ground truth (src/monitoring/live-performance.ts); null when not computed. */
    performance: jsonb('performance'),
    /** What the report found: `data_drift`, `prediction_drift`, `concept_drift`, `label_drift`, `schema`. */
    findings: jsonb('findings').$type<string[]>().notNull().default([]),
    /** The period of source data the window's traffic stands for (`{ from, to }`, days): what a retrain reads. */
    dataPeriod: jsonb('data_period').$type<{ from: string; to: string } | null>(),
    /** What the monitor did about it: alerts, rollback signal, retraining started. */
    actions: jsonb('actions').notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('drift_reports_run_key').on(t.runKey), index('drift_reports_model_window').on(t.modelName, t.windowEnd)],
);

/**
 * Drift references of a model version, built once from its training data (feature columns) and
 * its test-split scores (the prediction column), then reused by every monitor run of the version.
 */
export const driftReferences = pgTable(
  'drift_references',
  {
    modelName: text('model_name').notNull(),
    version: integer('version').notNull(),
    datasetVersionId: text('dataset_version_id').notNull(),
    /** Column name → DriftReference (src/monitoring/reference.ts), the prediction under `prediction`. */
    references: jsonb('references').notNull(),
    /** Rows the references were built from, and the test split's label share and metrics. */
    summary: jsonb('summary').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.modelName, t.version] })],
);

/**
 * Every alert keel raised (drift, performance, schema problems), deduplicated per incident: the
 * incident key is unique, so a retried activity or a later monitor run inside the same incident
 * finds the existing row instead of alerting twice (see src/notify). `deliveries` holds one entry
 * per webhook target with its attempts and outcome; `delivery_status` summarises them.
 */
export const alerts = pgTable(
  'alerts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** `<kind>:<model>:v<version>:<bucket>`: one alert per incident (see src/notify/alert.ts). */
    incidentKey: text('incident_key').notNull(),
    modelName: text('model_name').notNull(),
    /** The model version concerned; null when the alert is about the model as a whole. */
    version: integer('version'),
    /** `data_drift`, `prediction_drift`, `schema`, `performance`, ... */
    kind: text('kind').notNull(),
    /** `info`, `warning` or `critical`. */
    severity: text('severity').notNull(),
    message: text('message').notNull(),
    /** The whole alert as built (title, details, links): what the webhooks were sent. */
    payload: jsonb('payload').notNull(),
    /** `pending`, `delivered`, `partial`, `failed` or `none` (no webhook configured). */
    deliveryStatus: text('delivery_status').notNull().default('pending'),
    /** Per target: `{ target, status, attempts, httpStatus?, error?, at? }`. */
    deliveries: jsonb('deliveries').notNull().default([]),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('alerts_incident_key').on(t.incidentKey), index('alerts_model_created').on(t.modelName, t.createdAt)],
);

/**
 * Human approvals before deploy: one row per pipeline run that waited (`<workflowId>/<runId>`),
 * written when the wait starts (pending, with what the approver looks at) and completed with the
 * decision. `keel approvals list` and the dashboard read the pending ones; the CLI finds the
 * waiting workflow here.
 */
export const approvals = pgTable(
  'approvals',
  {
    id: text('id').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
    modelName: text('model_name').notNull(),
    version: integer('version').notNull(),
    /** The candidate against production on the test split, and the gate's reasons (ApprovalEvaluation). */
    evaluation: jsonb('evaluation').notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull(),
    deadline: timestamp('deadline', { withTimezone: true }).notNull(),
    /** `reject` or `approve`: what the deadline decides. */
    onTimeout: text('on_timeout').notNull(),
    /** `pending`, `approved` or `rejected`. */
    status: text('status').notNull().default('pending'),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    reason: text('reason'),
    /** `cli`, `dashboard`, `api`, `signal` or `timeout`. */
    channel: text('channel'),
    /** The decider proved it holds an admin key (false when none are configured). */
    authenticated: boolean('authenticated'),
  },
  (t) => [
    index('approvals_status_model').on(t.status, t.modelName),
    index('approvals_model_version').on(t.modelName, t.version),
    check('approvals_status', sql`${t.status} in ('pending', 'approved', 'rejected')`),
  ],
);

/**
 * The chunk ledger of `batchScore` jobs: a chunk is recorded once its output is written (in the
 * same transaction for a table output, after the rename for a file), so a retried or resumed job
 * finds it here and does not score it again.
 */
export const batchScoreChunks = pgTable(
  'batch_score_chunks',
  {
    /** The job: `<workflowId>/<runId>` of the batchScore run. */
    jobId: text('job_id').notNull(),
    chunk: integer('chunk').notNull(),
    modelName: text('model_name').notNull(),
    version: integer('version').notNull(),
    datasetVersionId: text('dataset_version_id').notNull(),
    startRow: integer('start_row').notNull(),
    endRow: integer('end_row').notNull(),
    /** `keel_batch.<table>` or the part file's path. */
    target: text('target').notNull(),
    /** The activity attempt that scored it. */
    attempt: integer('attempt').notNull(),
    scoredAt: timestamp('scored_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.chunk] })],
);

/**
 * Feature store (src/features, docs/features.md "Feature store"). A feature view version is the
 * sha256 of its canonical definition: registering a changed definition adds a version, never
 * rewrites one. The newest version of a name is the one training and materialisation use.
 */
export const featureViewVersions = pgTable(
  'feature_view_versions',
  {
    version: text('version').primaryKey(),
    name: text('name').notNull(),
    /** `{ view, joinKeys }`: the view as configured and its entities' join keys. */
    definition: jsonb('definition').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('feature_view_versions_name').on(t.name, t.createdAt)],
);

/** One materialisation of a view: id `<workflowId>/<runId>` (or a caller's key), written in the swap transaction. */
export const featureMaterializations = pgTable(
  'feature_materializations',
  {
    id: text('id').primaryKey(),
    viewName: text('view_name').notNull(),
    viewVersion: text('view_version').notNull(),
    datasetVersionId: text('dataset_version_id').notNull(),
    /** Values are as of this time (events up to asOf − lag). */
    asOf: timestamp('as_of', { withTimezone: true }).notNull(),
    /** Events after this time were read (incremental); null: all (a first run or a backfill). */
    since: timestamp('since', { withTimezone: true }),
    /** The newest event time among the rows written. */
    latestEventTime: timestamp('latest_event_time', { withTimezone: true }),
    entities: integer('entities').notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('feature_materializations_view').on(t.viewName, t.asOf)],
);

/** The online store: the latest values per (view, entity), replaced in one transaction per materialisation. */
export const onlineFeatures = pgTable(
  'online_features',
  {
    viewName: text('view_name').notNull(),
    /** The join key values joined by U+0001. */
    entityKey: text('entity_key').notNull(),
    viewVersion: text('view_version').notNull(),
    /** Feature name → number (null: no value). */
    values: jsonb('values').notNull(),
    /** The newest event of this entity the values saw (staleness and TTL are measured from it). */
    eventTime: timestamp('event_time', { withTimezone: true }),
    asOf: timestamp('as_of', { withTimezone: true }).notNull(),
    materializationId: text('materialization_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.viewName, t.entityKey] })],
);

/** Rows of a materialisation before its swap; a crashed attempt's rows are deleted by its retry. */
export const onlineFeaturesStaging = pgTable(
  'online_features_staging',
  {
    materializationId: text('materialization_id').notNull(),
    entityKey: text('entity_key').notNull(),
    values: jsonb('values').notNull(),
    eventTime: timestamp('event_time', { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.materializationId, t.entityKey] })],
);

/** A point-in-time training set: a dataset version built from another and the view versions it joined. */
export const trainingSets = pgTable('training_sets', {
  datasetVersionId: text('dataset_version_id').primaryKey(),
  sourceDatasetVersionId: text('source_dataset_version_id').notNull(),
  /** `[{ name, version, datasetVersionId, features }]`: each view version and the dataset version it was computed from. */
  views: jsonb('views').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
