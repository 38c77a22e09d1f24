import type { Logger } from 'pino';
import type { BatchScorer } from '../src/batch/batch-scorer';
import type { SourcePolicy } from '../src/data/source-policy';
import type { Database } from '../src/db/database';
import type { TrainerCommands, TrainerUser } from '../src/ml/trainer-commands';
import type { ArtifactStore } from '../src/registry/artifact-store';
import type { CodeVersion } from '../src/runtime/code-version';

/** What activities need from the outside world, injected so tests can give real local ones. */
export interface ActivityDeps {
  database: Database;
  artifacts: ArtifactStore;
  codeVersion: CodeVersion;
  logger: Logger;
  /** Admin keys (KEEL_ADMIN_KEYS): an approval must prove it holds one; none: approvals are open. */
  adminKeys?: readonly string[];
  /**
   * What pipeline inputs may read (KEEL_SOURCE_ROOTS, KEEL_HTTP_SOURCES, KEEL_POSTGRES_SOURCES);
   * default: the working directory and vega-datasets, no HTTP, no PostgreSQL.
   */
  sources?: SourcePolicy;
  /** The `command` trainers an input may name (`trainers` of keel.config.json); default none. */
  trainers?: TrainerCommands;
  /** Who trainer programs run as (KEEL_TRAINER_USER); default: the worker's user. */
  trainerUser?: TrainerUser;
  /** Called after `production` or a model's route moves, so an in-process model server reloads at once. */
  onDeployed?: (model: string) => Promise<void>;
  /** Where batch scoring may write files (KEEL_BATCH_OUTPUT_DIR); none: file outputs are refused. */
  batchOutputDir?: string;
  /** Long-lived scoring threads for batch chunks; none: each chunk scores in a thread of its own. */
  batchScorer?: BatchScorer;
}
