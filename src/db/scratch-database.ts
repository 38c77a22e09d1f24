import postgres from 'postgres';

/** A throwaway PostgreSQL database for one test run or one benchmark, dropped by `drop()`. */
export interface ScratchDatabase {
  readonly name: string;
  /** `baseUrl` with this database's name as its path. */
  readonly url: string;
  /** Drops the database; resolves with the reason when it could not (it is then left, named, to drop by hand). */
  drop(): Promise<string | undefined>;
}

const DROP_ATTEMPTS = 10;
const DROP_RETRY_MS = 1000;

/**
 * Creates `<prefix>_<pid>_<random>` on the server of `baseUrl` (a role that may CREATE DATABASE).
 *
 * Dropping is the part that goes wrong. `WITH (FORCE)` ends this role's leftover sessions, but a
 * non-superuser may not end an autovacuum worker, so FORCE fails whenever autovacuum happens to be
 * in the database (after a benchmark that wrote a million rows, nearly always). A plain DROP
 * instead asks autovacuum to stop and waits for it; a session that stays (someone's psql) is worth
 * a few retries before the database is left behind under its name.
 */
export async function createScratchDatabase(baseUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.end();
    throw error;
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      try {
        return await dropDatabase(admin, name);
      } finally {
        await admin.end();
      }
    },
  };
}

async function dropDatabase(admin: postgres.Sql, name: string): Promise<string | undefined> {
  let reason: string | undefined;
  for (let attempt = 1; attempt <= DROP_ATTEMPTS; attempt++) {
    try {
      // FORCE first: it ends this role's own leftover sessions, on which a plain DROP gives up after 5 s.
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name}${attempt === 1 ? ' WITH (FORCE)' : ''}`);
      return undefined;
    } catch (error) {
      reason = (error as Error).message;
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, DROP_RETRY_MS));
    }
  }
  return reason;
}
