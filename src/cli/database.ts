import type { Db } from '../db/database';
import { openRegistry } from '../registry/open';
import type { Environment } from '../runtime/environment';

export type WithDb = <T>(work: (db: Db) => Promise<T>) => Promise<T>;

/**
 * Runs `work` on the configured database (PostgreSQL, or the embedded PGlite with its migrations
 * applied) and closes it after, whatever happens: one opening per command.
 */
export function databaseOpener(env: Environment): WithDb {
  return async (work) => {
    const registry = await openRegistry({ databaseUrl: env.DATABASE_URL, dataDir: env.dataDir, artifactStore: env.artifactStore });
    try {
      return await work(registry.database.db);
    } finally {
      await registry.close();
    }
  };
}
