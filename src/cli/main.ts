import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { databaseOpener } from './database';
import { readEnvironment } from '../runtime/environment';
import { approvalsCommand } from './approvals-command';
import { batchCommand } from './batch-command';
import { dataCommand } from './data-command';
import { featuresCommand } from './features-command';
import { reportFailure } from './failure';
import { modelsCommand } from './models-command';
import { pipelineCommand } from './pipeline-command';
import { reportCommand } from './report-command';
import { rolloutsCommand } from './rollouts-command';
import { runsCommand } from './runs-command';
import { schedulesCommand } from './schedules-command';
import { connectClient } from './temporal-client';
import { uiCommand } from './ui-command';

const env = readEnvironment();

async function withClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const { client, close } = await connectClient(env);
  try {
    return await work(client);
  } finally {
    await close();
  }
}

const withDb = databaseOpener(env);

const program = new Command('keel')
  .description('durable ML pipelines on Temporal')
  .addCommand(schedulesCommand(withClient))
  .addCommand(dataCommand(env))
  .addCommand(pipelineCommand(withClient, env.configPath))
  .addCommand(modelsCommand(env))
  .addCommand(runsCommand(env))
  .addCommand(reportCommand(env))
  .addCommand(rolloutsCommand(withClient, withDb))
  .addCommand(approvalsCommand(env, withClient))
  .addCommand(batchCommand(withClient))
  .addCommand(featuresCommand(withDb, withClient, env.configPath))
  .addCommand(uiCommand(env));

program.parseAsync().catch((error: unknown) => {
  reportFailure(error, process.argv.includes('--json'));
  // Exit once both streams have flushed: a piped --json document must arrive whole.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(1)));
});
