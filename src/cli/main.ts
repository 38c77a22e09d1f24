import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { readEnvironment } from '../runtime/environment';
import { dataCommand } from './data-command';
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

const program = new Command('keel')
  .description('durable ML pipelines on Temporal')
  .addCommand(schedulesCommand(withClient))
  .addCommand(dataCommand(env))
  .addCommand(pipelineCommand(withClient, env.configPath))
  .addCommand(modelsCommand(env))
  .addCommand(runsCommand(env))
  .addCommand(reportCommand(env))
  .addCommand(rolloutsCommand(withClient))
  .addCommand(uiCommand(env));

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`keel: ${(error as Error).message}\n`);
  process.exit(1);
});
