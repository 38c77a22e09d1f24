import { openDatabase } from '../db/database';
import { readEnvironment } from './environment';

/**
 * `npm run migrate`: applies keel's database migrations and exits — once per release, before the
 * workers and servers start (the Kubernetes migration Job), instead of every process racing to.
 */
async function main() {
  const env = readEnvironment();
  if (!env.DATABASE_URL)
    throw new Error('npm run migrate needs DATABASE_URL (PostgreSQL): the embedded PGlite database migrates itself when opened');
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.dataDir });
  await database.close();
  process.stdout.write('keel: database migrated\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`keel migrate: ${(error as Error).message}\n`);
  process.exit(1);
});
