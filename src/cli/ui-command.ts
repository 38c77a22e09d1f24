import type { Client } from '@temporalio/client';
import { Command } from 'commander';
import { openRegistry } from '../registry/open';
import { startDashboard } from '../runtime/dashboard';
import type { Environment } from '../runtime/environment';
import { createLogger } from '../runtime/logger';
import { connectClient } from './temporal-client';

/**
 * `keel ui`: the dashboard on its own, over PostgreSQL (DATABASE_URL) or the embedded database
 * (when `npm start` is not holding it: `npm start` serves the dashboard itself). Actions connect
 * to Temporal on first use, so the pages work without it.
 */
export function uiCommand(env: Environment): Command {
  return new Command('ui')
    .description('serve the dashboard (runs, data, models, rollouts, monitoring) on KEEL_UI_HOST:KEEL_UI_PORT')
    .action(async () => {
      const logger = createLogger(env.LOG_LEVEL);
      const registry = await openRegistry({ databaseUrl: env.DATABASE_URL, dataDir: env.dataDir, artifactStore: env.artifactStore }).catch(
        (error: unknown) => {
          // The usual holder of the embedded database is `npm start`, which serves the dashboard itself.
          throw new Error(
            `${(error as Error).message}${env.DATABASE_URL ? '' : ' (`npm start` serves the dashboard too: see the Dashboard line it printed)'}`,
          );
        },
      );
      let client: Promise<{ client: Client; close(): Promise<void> }> | undefined;
      const temporal = async () => {
        client ??= connectClient(env).catch((error: unknown) => {
          client = undefined;
          throw error;
        });
        return (await client).client;
      };
      const ui = await startDashboard({
        env,
        database: registry.database,
        temporalUi: env.TEMPORAL_ADDRESS ? undefined : 'http://127.0.0.1:8233',
        temporal,
        logger,
      });
      process.stdout.write(`Dashboard     ${ui.url}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await ui.close();
      if (client) await (await client.catch(() => undefined))?.close();
      await registry.close();
    });
}
