import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { artifactStoreSetting } from '../registry/artifact-setting';
import { defaultSourcePolicy, parseHttpSources, parsePostgresSources, parseSourceRoots, type SourcePolicy } from '../data/source-policy';
import { parseTrainerUser } from '../ml/trainer-commands';
import { type ApiKeys, readKeysFile } from '../serving/auth';
import { redactSecrets, secretsOf } from '../shared/redact';
import { parseOrThrow } from '../shared/validation';
import { type FaultPause, faultPausesPattern, parseFaultPauses } from './fault-pause-setting';

/** Settings that differ per machine come from the environment; the model's settings from the config file. */
export const environmentSchema = z.object({
  KEEL_DATA_DIR: z.string().min(1).default('.keel').describe("The PGlite database, the artifacts and the dev server's SQLite file."),
  KEEL_CONFIG: z.string().min(1).default('keel.config.json').describe('The project file.'),
  KEEL_HOST: z.string().min(1).default('127.0.0.1').describe('Interface the model server listens on (0.0.0.0 in a container).'),
  KEEL_PORT: z.coerce.number().int().min(0).max(65535).optional().describe("Model server port; default: the config file's `server.port`."),
  KEEL_SERVER_PROCESSES: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(1)
    .describe(
      'Model server processes sharing the port (`npm run server`): with more than one, the HTTP work of a busy server uses more than one core (see docs/serving.md). Default 1.',
    ),
  KEEL_SERVE_MODELS: z
    .string()
    .regex(/^[^,\s]+(,[^,\s]+)*$/, 'must be model names separated by commas, without spaces')
    .transform((list) => list.split(','))
    .optional()
    .describe(
      'The models this model server serves, comma-separated (`npm run server`); by default every model with a production alias. Replicas can split models between them this way.',
    ),
  KEEL_ROUTING_REFRESH_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3_600_000)
    .optional()
    .describe(
      "How often the model server reloads the routing state (aliases, routes) from the database, in ms; 0 only on explicit refreshes. Replicas follow each other's changes within this. Default 2000.",
    ),
  KEEL_PREDICTION_LOG_CAPACITY: z.coerce
    .number()
    .int()
    .min(1000)
    .max(100_000_000)
    .optional()
    .describe(
      'Predictions each model-server process holds in memory for the log while the database is slow; beyond it new ones stay in the spool for its replay (KEEL_PREDICTION_SPOOL=off: dropped and counted). About 300 bytes each with small inputs. Default 200,000.',
    ),
  KEEL_PREDICTION_SPOOL_DIR: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Where each model-server process spools its prediction log lines before answering, so an answered prediction survives the process (see docs/serving.md). Default <KEEL_DATA_DIR>/prediction-spool.',
    ),
  KEEL_PREDICTION_SPOOL: z
    .enum(['on', 'fsync', 'off'])
    .default('on')
    .describe(
      '`on` (default): every answer waits for its log lines to be written to the spool (survives a crash of the process); `fsync`: and synced to the disk (survives a crash of the machine); `off`: no spool, predictions wait for the database in memory only (lost with the process).',
    ),
  KEEL_INFERENCE_THREADS: z.coerce
    .number()
    .int()
    .min(0)
    .max(256)
    .optional()
    .describe(
      'Inference threads of each model server process; 0: inference on the event loop. Default 2 (1 per process with several processes).',
    ),
  KEEL_INFERENCE_INLINE_MS: z.coerce
    .number()
    .min(0)
    .max(1000)
    .optional()
    .describe(
      'A model-server batch expected to run within this many ms runs on the event loop instead of an inference thread (see src/serving/inference-pool.ts); 0: always a thread. Default 0.25.',
    ),
  KEEL_TAIL_TRACE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'A diagnostic for `npm run bench:serve`, off by default: each model-server process writes where its slow requests spent their time to `<this prefix>.<pid>.jsonl` (see src/serving/tail-trace.ts). Costs CPU; not for production.',
    ),
  KEEL_ARTIFACT_STORE: z
    .string()
    .optional()
    .describe(
      'Where artifacts (models, reports) are kept: unset: `<KEEL_DATA_DIR>/artifacts`; a directory path; or `s3://bucket[/prefix]` for S3 or an S3-compatible store. Every process of a deployment must see the same store.',
    ),
  KEEL_S3_ENDPOINT: z
    .url()
    .optional()
    .describe(
      'An S3-compatible endpoint such as `http://127.0.0.1:9000` (MinIO, Ceph, R2); unset: AWS. Credentials come from the AWS SDK chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, web identity or an IAM role.',
    ),
  KEEL_S3_REGION: z.string().min(1).optional().describe('The S3 region; default AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1.'),
  AWS_REGION: z.string().min(1).optional().describe('The AWS region (standard AWS variable), the S3 region when KEEL_S3_REGION is unset.'),
  AWS_DEFAULT_REGION: z.string().min(1).optional().describe('The AWS region when AWS_REGION is unset (standard AWS variable).'),
  KEEL_S3_PATH_STYLE: z
    .enum(['true', 'false'])
    .optional()
    .describe('`true`: `endpoint/bucket/key` URLs; `false`: `bucket.endpoint/key`. Default: true with KEEL_S3_ENDPOINT, false for AWS.'),
  KEEL_MAX_CATEGORY_LENGTH: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(1024)
    .describe(
      'Longest string (in UTF-16 code units) a categorical feature takes in a prediction request; a longer one is refused with a 400 naming the feature and the limit. Default 1024.',
    ),
  KEEL_MAX_CATEGORY_LENGTHS: z
    .string()
    .regex(/^[^=,\s]+=\d+(,[^=,\s]+=\d+)*$/, 'must be feature=length pairs, comma-separated, e.g. "origin=3,comment=4000"')
    .optional()
    .describe('Per-feature overrides of KEEL_MAX_CATEGORY_LENGTH, e.g. `origin=3,comment=4000`.'),
  KEEL_HEADERS_TIMEOUT_S: z.coerce
    .number()
    .min(0.1)
    .max(3600)
    .default(10)
    .describe(
      'A model-server request whose headers have not arrived within this many seconds is answered 408 and its connection closed (counted in `keel_http_request_timeouts_total`). Default 10.',
    ),
  KEEL_REQUEST_TIMEOUT_S: z.coerce
    .number()
    .min(0.1)
    .max(3600)
    .default(15)
    .describe(
      'A model-server request (headers and body) that has not arrived within this many seconds is answered 408 and its connection closed: a slow body (slowloris) holds no connection longer. Default 15.',
    ),
  KEEL_UI_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Interface the dashboard (`keel ui`, `npm start`) listens on; loopback by default.'),
  KEEL_UI_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .optional()
    .describe("The dashboard's port; unset: 8081 when free, else any free port; 0: any free port."),
  KEEL_TEMPORAL_UI: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(
      "Base URL of the Temporal web UI that the dashboard and `keel models show` link to. Unset: the dev server's UI that `npm start` runs (http://127.0.0.1:8233 for a separate process).",
    ),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional()
    .describe('PostgreSQL, `postgres://user:pass@host:port/db`; without it keel uses an embedded PGlite database in the data directory.'),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'must be host:port')
    .optional()
    .describe('An existing Temporal server (or Temporal Cloud); without it keel starts a dev server.'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default').describe('The Temporal namespace.'),
  TEMPORAL_TLS: z.enum(['true', 'false']).default('false').describe('TLS to the Temporal server (implied by an API key).'),
  TEMPORAL_API_KEY: z.string().min(1).optional().describe('Temporal Cloud API key (never logged).'),
  // Read by src/runtime/temporal-cli.ts, which also runs before the environment is read; listed here so it is documented.
  KEEL_TEMPORAL_CLI: z
    .string()
    .min(1)
    .optional()
    .describe('Path of the `temporal` binary that runs the dev server (else `temporal` on PATH, a cached build, `go install`).'),
  KEEL_ADMIN_KEYS: z
    .string()
    .optional()
    .describe(
      "Admin keys, comma-separated: the model server's admin routes need one (see docs/serving.md), and the worker accepts an approval only with a proof of one (docs/approval.md), and every dashboard action needs one (docs/ui.md).",
    ),
  KEEL_API_KEYS: z
    .string()
    .optional()
    .describe(
      'Prediction keys, comma-separated: with any set, prediction, feedback and model metadata need one, and admin routes need an admin key (docs/security.md).',
    ),
  KEEL_KEYS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'A JSON file of named keys with roles, `{"keys":[{"name":"alice","key":"…","role":"admin"}]}`: audited actions (route changes, rollbacks, approvals) record `key:<name>` (docs/security.md).',
    ),
  KEEL_SOURCE_ROOTS: z
    .string()
    .optional()
    .describe(
      "Directories a pipeline input may read files from, comma-separated (relative ones from the working directory), and `vega-datasets:` for that package's files; symlinks are followed before the check. Default: the directory of KEEL_CONFIG, and vega-datasets: (docs/security.md).",
    ),
  KEEL_HTTP_SOURCES: z
    .string()
    .optional()
    .describe(
      'Origins an `http` source may fetch from, comma-separated; `origin=VAR+VAR` also lets headers carry those environment variables to that origin only: `https://api.example.com=API_TOKEN`. Default: none (docs/security.md).',
    ),
  KEEL_POSTGRES_SOURCES: z
    .string()
    .optional()
    .describe(
      'Databases a `postgres` source may query, as `alias=VARIABLE` pairs, comma-separated: the input names the alias (`connection`), the URL stays in VARIABLE. Queries run read-only with a statement timeout; use a read-only role (docs/security.md). Default: none.',
    ),
  KEEL_POSTGRES_SOURCE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(86_400_000)
    .default(300_000)
    .describe("statement_timeout of a postgres source's query (each cursor fetch), in ms. Default 300000."),
  KEEL_TRAINER_USER: z
    .string()
    .optional()
    .describe(
      'Run `command` trainer programs as this user, `uid` or `uid:gid` (numbers); the worker must run as root to switch. Unset: as the worker, with a warning when that is root (docs/security.md).',
    ),
  KEEL_ACTOR: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Who `keel models` records as the creator of a version or the actor of an alias move, e.g. `user:alice`; default `user:<OS user>`.',
    ),
  KEEL_ADMIN_KEY: z
    .string()
    .min(1)
    .optional()
    .describe('The admin key this client (`keel approvals`) proves it holds; default: the first of KEEL_ADMIN_KEYS.'),
  KEEL_WORKER_HEALTH_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .optional()
    .describe(
      "Port of the worker's health endpoints (`npm run worker`): `GET /livez` answers while the event loop does, `GET /readyz` 200 only while every Temporal worker of the process is running. Unset: none.",
    ),
  KEEL_WORKER_HEALTH_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe("Interface of the worker's health endpoints (0.0.0.0 in a container, for the kubelet's probes)."),
  KEEL_TASK_QUEUES: z
    .string()
    .optional()
    .describe('Which task queues this worker polls (`npm run worker`): `control`, `train`, or both, comma-separated (default: all).'),
  KEEL_BATCH_OUTPUT_DIR: z
    .string()
    .min(1)
    .optional()
    .describe(
      'The directory batch scoring writes its files under (`keel batch score --to file:...`); a job names a directory inside it, never a path outside. Default <KEEL_DATA_DIR>/batch. Every training worker must see the same directory (a shared volume).',
    ),
  KEEL_WORKER_IDENTITY: z
    .string()
    .regex(/^[\w.:/-]{1,100}$/, 'must be 1-100 letters, digits or . : / - _')
    .optional()
    .describe(
      'How this worker process names itself to Temporal (`npm run worker`); the history of every activity it runs shows it, with the task queue appended (`<identity>@keel-train`). Default `<hostname>/<pid>`, unique in a fleet; in Kubernetes the pod name.',
    ),
  KEEL_WORKFLOW_BUNDLE: z
    .string()
    .min(1)
    .optional()
    .describe(
      "A workflow bundle built ahead (`bundleWorkflowCode`'s code written to a file) that the control-queue worker loads instead of bundling `workflows/` at start, which takes seconds of CPU; it must be built from the same code.",
    ),
  KEEL_FAULT_PAUSES: z
    .string()
    .regex(faultPausesPattern, 'must be activityType@workflowId pairs, comma-separated, e.g. "validateDataset@train/churn"')
    .optional()
    .describe(
      'Test-only (the fault suite), unset in production: the named activities of the named workflows hold their result on their first attempt until the worker is killed, writing a marker file to KEEL_FAULT_PAUSE_DIR, so a kill lands in a short stage (src/runtime/fault-pauses.ts).',
    ),
  KEEL_FAULT_PAUSE_DIR: z
    .string()
    .min(1)
    .optional()
    .describe('Test-only: where activities held by KEEL_FAULT_PAUSES write their marker files; required with it.'),
  LOG_LEVEL: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
    .default('info')
    .describe("The pino log level; `debug` also shows the Temporal SDK's own logs."),
});

export type Environment = ReturnType<typeof readEnvironment>;

export function readEnvironment(env: NodeJS.ProcessEnv = process.env) {
  const present = emptyAsMissing(env);
  // An invalid value may be a password or a key: the message shows it masked.
  const parsed = parseOrThrow(
    environmentSchema,
    present,
    'environment',
    (message) => new Error(redactSecrets(message, secretsOf(present))),
  );
  const configPath = resolve(parsed.KEEL_CONFIG);
  const invalid = (name: string, problem: string) => new Error(`invalid environment: ${name}: ${problem}`);
  const http = parseHttpSources(parsed.KEEL_HTTP_SOURCES ?? '');
  if (typeof http === 'string') throw invalid('KEEL_HTTP_SOURCES', http);
  const postgres = parsePostgresSources(parsed.KEEL_POSTGRES_SOURCES ?? '');
  if (typeof postgres === 'string') throw invalid('KEEL_POSTGRES_SOURCES', postgres);
  const trainerUser = parsed.KEEL_TRAINER_USER === undefined ? undefined : parseTrainerUser(parsed.KEEL_TRAINER_USER);
  if (typeof trainerUser === 'string') throw invalid('KEEL_TRAINER_USER', trainerUser);
  const sources: SourcePolicy = {
    roots:
      parsed.KEEL_SOURCE_ROOTS === undefined
        ? defaultSourcePolicy(dirname(configPath)).roots
        : parseSourceRoots(parsed.KEEL_SOURCE_ROOTS, process.cwd()),
    http,
    postgres,
    statementTimeoutMs: parsed.KEEL_POSTGRES_SOURCE_TIMEOUT_MS,
  };
  if (parsed.KEEL_FAULT_PAUSES && !parsed.KEEL_FAULT_PAUSE_DIR) throw invalid('KEEL_FAULT_PAUSE_DIR', 'required with KEEL_FAULT_PAUSES');
  const faultPauses: { pauses: FaultPause[]; dir: string } | undefined = parsed.KEEL_FAULT_PAUSES
    ? { pauses: parseFaultPauses(parsed.KEEL_FAULT_PAUSES), dir: resolve(parsed.KEEL_FAULT_PAUSE_DIR!) }
    : undefined;
  const named = parsed.KEEL_KEYS_FILE ? readKeysFile(resolve(parsed.KEEL_KEYS_FILE)) : [];
  return {
    ...parsed,
    dataDir: resolve(parsed.KEEL_DATA_DIR),
    /** The prediction log's spool (none when KEEL_PREDICTION_SPOOL=off). */
    predictionSpool:
      parsed.KEEL_PREDICTION_SPOOL === 'off'
        ? undefined
        : {
            dir: resolve(parsed.KEEL_PREDICTION_SPOOL_DIR ?? join(parsed.KEEL_DATA_DIR, 'prediction-spool')),
            fsync: parsed.KEEL_PREDICTION_SPOOL === 'fsync',
          },
    configPath,
    artifactStore: artifactStoreSetting({
      dataDir: resolve(parsed.KEEL_DATA_DIR),
      store: parsed.KEEL_ARTIFACT_STORE,
      endpoint: parsed.KEEL_S3_ENDPOINT,
      region: parsed.KEEL_S3_REGION ?? parsed.AWS_REGION ?? parsed.AWS_DEFAULT_REGION,
      pathStyle: parsed.KEEL_S3_PATH_STYLE,
    }),
    batchOutputDir: resolve(parsed.KEEL_BATCH_OUTPUT_DIR ?? join(parsed.KEEL_DATA_DIR, 'batch')),
    /** What pipeline inputs may read (src/data/source-policy.ts). */
    sources,
    trainerUser,
    /** Test-only activity holds (src/runtime/fault-pauses.ts); undefined in production. */
    faultPauses,
    temporalTls: parsed.TEMPORAL_TLS === 'true',
    /** The model server's request limits (src/serving/request-limits.ts). */
    requestLimits: {
      maxCategoryLength: parsed.KEEL_MAX_CATEGORY_LENGTH,
      categoryLengths: Object.fromEntries(
        (parsed.KEEL_MAX_CATEGORY_LENGTHS?.split(',') ?? []).map((pair) => [pair.split('=')[0], Number(pair.split('=')[1])]),
      ),
      headersTimeoutMs: parsed.KEEL_HEADERS_TIMEOUT_S * 1000,
      requestTimeoutMs: parsed.KEEL_REQUEST_TIMEOUT_S * 1000,
    },
    /** Every admin key, named ones included: approvals prove they hold one of these. */
    adminKeys: [...list(parsed.KEEL_ADMIN_KEYS), ...named.filter((k) => k.role === 'admin').map((k) => k.key)],
    apiKeys: { predict: list(parsed.KEEL_API_KEYS), admin: list(parsed.KEEL_ADMIN_KEYS), named } satisfies ApiKeys,
  };
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
}

/** `FOO=` in a shell means "not set", not "set to nothing". */
function emptyAsMissing(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
}
