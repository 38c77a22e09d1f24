import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { trainingPipeline } from '../../workflows/training-pipeline';
import { loadProjectConfig } from '../runtime/project-config';
import { taskQueues, workflowIds } from '../shared/task-queues';
import { printResult } from './output';
import { loadPipelineInputFile } from './pipeline-input-file';

type WithClient = <T>(work: (client: Client) => Promise<T>) => Promise<T>;

/** `keel pipeline run`: starts trainingPipeline with the config file's input. */
export function pipelineCommand(withClient: WithClient, defaultConfig: string): Command {
  const command = new Command('pipeline').description('run the training pipeline');
  command
    .command('run')
    .description('start trainingPipeline with the pipeline section of the config file, or with an input file')
    .option('--config <path>', 'config file', defaultConfig)
    .option('--input <path>', 'a trainingPipeline input file instead (its "dataset" may name a data config file)')
    .option('--run-key <key>', 'workflow id suffix (default: a timestamp)')
    .option('--no-wait', 'return once started')
    .option('--json', 'machine-readable output')
    .action((opts: { config: string; input?: string; runKey?: string; wait: boolean; json?: boolean }) =>
      withClient(async (client) => {
        const pipeline = opts.input ? await loadPipelineInputFile(opts.input) : (await loadProjectConfig(opts.config)).pipeline;
        const workflowId = workflowIds.training(pipeline.model, opts.runKey ?? new Date().toISOString().replace(/[:.]/g, '-'));
        const handle = await client.workflow.start<typeof trainingPipeline>('trainingPipeline', {
          taskQueue: taskQueues.control,
          workflowId,
          args: [pipeline],
        });
        // Said before waiting, so a run that fails can still be found: keel runs show <workflow id>.
        if (opts.wait && !opts.json) process.stderr.write(`started ${workflowId}; waiting for it (keel runs show ${workflowId})\n`);
        const result = opts.wait ? await handle.result() : undefined;
        printResult(opts.json, { workflowId, runId: handle.firstExecutionRunId, result }, () =>
          [`started ${workflowId}`, result ? JSON.stringify(result, null, 2) : ''].filter(Boolean).join('\n'),
        );
      }),
    );
  return command;
}
