import type { Logger } from 'pino';
import type { BatchScorer } from '../src/batch/batch-scorer';
import type { Database } from '../src/db/database';
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
  /** Called after `production` or a model's route moves, so an in-process model server reloads at once. */
  onDeployed?: (model: string) => Promise<void>;
  /** Where batch scoring may write files (KEEL_BATCH_OUTPUT_DIR); none: file outputs are refused. */
  batchOutputDir?: string;
  /** Long-lived scoring threads for batch chunks; none: each chunk scores in a thread of its own. */
  batchScorer?: BatchScorer;
}
