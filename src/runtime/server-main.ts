import { startModelServer } from '../serving/http-server';
import { readEnvironment } from './environment';
import { createLogger } from './logger';
import { loadProjectConfig } from './project-config';
import { openStorage } from './services';

/** `npm run server`: the model server alone; it follows `production` aliases in the database. */
async function main() {
  const env = readEnvironment();
  const logger = createLogger(env.LOG_LEVEL);
  const config = await loadProjectConfig(env.configPath);
  const { database, artifacts } = await openStorage(env);
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
