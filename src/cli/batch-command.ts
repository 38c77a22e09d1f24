import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { ensureScheduleOptions } from '../runtime/schedules';
import {
  type BatchScoreInput,
  type BatchScoreResult,
  batchFileFormats,
  batchScoreInputSchema,
  batchWorkflowId,
} from '../shared/batch-score';
import { InvalidInputError } from '../shared/errors';
import { taskQueues } from '../shared/task-queues';
import { parseOrThrow } from '../shared/validation';
import { printResult } from './output';

type WithClient = <T>(work: (client: Client) => Promise<T>) => Promise<T>;

interface ScoreOptions {
  to: string;
  chunkRows?: string;
  concurrency?: string;
  json?: boolean;
}

/** `table:<name>`, or `<format>:<directory>` with format parquet, csv or jsonl. */
export function parseBatchTarget(to: string): BatchScoreInput['output'] {
  const colon = to.indexOf(':');
  const kind = colon === -1 ? '' : to.slice(0, colon);
  const rest = to.slice(colon + 1);
  if (kind === 'table') return { kind: 'table', table: rest };
  if ((batchFileFormats as readonly string[]).includes(kind))
    return { kind: 'files', format: kind as (typeof batchFileFormats)[number], directory: rest };
  throw new InvalidInputError(
    `--to "${to}": expected table:<name>, or parquet:<directory>, csv:<directory>, jsonl:<directory> (under KEEL_BATCH_OUTPUT_DIR)`,
  );
}

/** The workflow input from the command line, validated by the schema the workflow uses. */
export function batchInputFromArgs(model: string, dataset: string, opts: ScoreOptions): BatchScoreInput {
  const at = dataset.indexOf('@');
  const input = at === -1 ? { dataset } : { dataset: dataset.slice(0, at), version: dataset.slice(at + 1) };
  const raw = {
    model,
    input,
    output: parseBatchTarget(opts.to),
    ...(opts.chunkRows ? { chunkRows: Number(opts.chunkRows) } : {}),
    ...(opts.concurrency ? { concurrency: Number(opts.concurrency) } : {}),
  };
  parseOrThrow(batchScoreInputSchema, raw, 'batch score', (message) => new InvalidInputError(message));
  return raw;
}

const scoreArguments = (command: Command) =>
  command
    .argument('<model>', 'the model version: <model>@<alias> or <model>@<version>, e.g. flight-delays@production')
    .argument('<dataset>', 'the dataset: <name> (newest version) or <name>@<version id or hash prefix>')
    .requiredOption(
      '--to <target>',
      'table:<name> (in the keel_batch schema) or parquet|csv|jsonl:<directory> (under KEEL_BATCH_OUTPUT_DIR)',
    )
    .option('--chunk-rows <n>', 'rows per chunk (default 100000)')
    .option('--concurrency <n>', 'chunks at once over the training workers (default 4)')
    .option('--json', 'machine-readable output');

/** `keel batch score|schedule`: score a dataset with a registered model version, now or on a schedule. */
export function batchCommand(withClient: WithClient): Command {
  const command = new Command('batch').description('score a dataset with a registered model version, now or on a schedule');

  scoreArguments(command.command('score'))
    .description('start batchScore and wait for it')
    .option('--job <key>', 'workflow id suffix (default: a timestamp); the same key again finds the running job')
    .action((model: string, dataset: string, opts: ScoreOptions & { job?: string }) =>
      withClient(async (client) => {
        const input = batchInputFromArgs(model, dataset, opts);
        const workflowId = batchWorkflowId(model.slice(0, model.indexOf('@')), opts.job ?? new Date().toISOString().replace(/[:.]/g, '-'));
        const handle = await client.workflow.start('batchScore', { taskQueue: taskQueues.control, workflowId, args: [input] });
        if (!opts.json) process.stderr.write(`started ${workflowId}; waiting for it\n`);
        const result = (await handle.result()) as BatchScoreResult;
        printResult(
          opts.json,
          { workflowId, result },
          () =>
            `${result.model} v${result.version} scored ${result.rows} rows of ${result.datasetVersionId.slice(0, 12)} in ${result.chunks} chunks` +
            `${result.chunksSkipped ? ` (${result.chunksSkipped} found done)` : ''} → ${opts.to}`,
        );
      }),
    );

  scoreArguments(command.command('schedule <scheduleId>'))
    .description('create or update a Temporal Schedule that runs batchScore by cron (overlap: skip)')
    .requiredOption('--cron <expression>', 'when, e.g. "0 2 * * *" (every day at 02:00 UTC)')
    .action((scheduleId: string, model: string, dataset: string, opts: ScoreOptions & { cron: string }) =>
      withClient(async (client) => {
        const input = batchInputFromArgs(model, dataset, opts);
        await ensureScheduleOptions(client, [
          {
            scheduleId,
            spec: { cronExpressions: [opts.cron] },
            action: {
              type: 'startWorkflow',
              workflowType: 'batchScore',
              workflowId: batchWorkflowId(model.slice(0, model.indexOf('@')), scheduleId.replace(/[^\w.-]+/g, '-')),
              taskQueue: taskQueues.control,
              args: [input],
            },
            policies: { overlap: 'SKIP', catchupWindow: '1h' },
            memo: { purpose: `batch scoring of ${dataset} with ${model}` },
          },
        ]);
        printResult(
          opts.json,
          { scheduleId, cron: opts.cron, input },
          () => `${scheduleId}: batchScore of ${dataset} with ${model}, cron "${opts.cron}" (keel schedules list)`,
        );
      }),
    );
  return command;
}
