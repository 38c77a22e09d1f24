import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Database } from '../db/database';
import { type RunningUi, startUi } from '../ui/server';
import type { Environment } from './environment';
import { preferredOrFreePort } from './ports';

/** The dashboard's port when KEEL_UI_PORT is unset and it is free: next to the model server's 8080. */
const DEFAULT_UI_PORT = 8081;

/**
 * Starts the dashboard (src/ui) on KEEL_UI_HOST:KEEL_UI_PORT over an open database, linking to
 * the Temporal UI at `temporalUi`; actions go through `temporal` when given.
 */
export async function startDashboard(options: {
  env: Environment;
  database: Database;
  temporalUi: string | undefined;
  temporal?: () => Promise<Client>;
  logger?: Logger;
}): Promise<RunningUi> {
  const { env } = options;
  const host = env.KEEL_UI_HOST;
  const port = env.KEEL_UI_PORT ?? (await preferredOrFreePort(DEFAULT_UI_PORT, host));
  return startUi({
    database: options.database,
    links: { ui: env.KEEL_TEMPORAL_UI ?? options.temporalUi, namespace: env.TEMPORAL_NAMESPACE },
    adminKeys: env.adminKeys,
    apiKeys: env.apiKeys,
    host,
    port,
    temporal: options.temporal,
    logger: options.logger,
  });
}
