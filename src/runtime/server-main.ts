import { openDatabase } from '../db/database';
import { openArtifactStore } from '../registry/artifact-config';
import { startModelServer } from '../serving/http-server';
import { readEnvironment } from './environment';
import { createLogger } from './logger';
import { loadProjectConfig } from './project-config';

/**
 * `npm run server`: the model server alone; it follows the `production` aliases and the serving
 * routes in the database. It imports only storage and serving (not the workers and activities),
 * so it starts fast and a replica carries no training code. Serving settings from the
 * environment: KEEL_INFERENCE_THREADS (default 2), KEEL_API_KEYS, KEEL_ADMIN_KEYS (see
 * docs/serving.md).
 */
async function main() {
  const env = readEnvironment();
  const logger = createLogger(env.LOG_LEVEL);
  const config = await loadProjectConfig(env.configPath);
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.dataDir });
  const artifacts = openArtifactStore({ dataDir: env.dataDir });
  const server = await startModelServer({ database, artifacts, port: env.KEEL_PORT ?? config.server.port, host: env.KEEL_HOST, logger });
  logger.info({ url: server.url }, 'model server running; Ctrl-C stops it');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await database.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`keel server: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
