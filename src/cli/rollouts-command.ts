import { userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import {
  type Client,
  WorkflowFailedError,
  type WorkflowHandle,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import {
  type CanaryRolloutRequest,
  type CanaryRolloutResult,
  type CanaryStatus,
  type HealthReport,
  canaryPauseSignal,
  canaryPromoteUpdate,
  canaryResumeSignal,
  canaryRollbackSignal,
  canaryRolloutInputSchema,
  canaryStatusQuery,
} from '../shared/canary';
import type { WithDb } from './database';
import { defaultRolloutCandidate } from '../registry/rollout-candidate';
import { taskQueues, workflowIds } from '../shared/task-queues';
import { parseOrThrow } from '../shared/validation';
import { printResult } from './output';

type WithClient = <T>(work: (client: Client) => Promise<T>) => Promise<T>;

const actor = () => `user:${userInfo().username}`;

/**
 * `keel rollouts start|status|pause|resume|rollback|promote <model>`: drives the model's canary
 * rollout (workflow `canary/<model>`) through its signals, update and query. The same can be done
 * with `temporal workflow signal|update|query` (docs/serving.md, "Canary rollout").
 */
export function rolloutsCommand(withClient: WithClient, withDb: WithDb): Command {
  const command = new Command('rollouts').description('start, watch and steer canary rollouts (workflow canary/<model>)');

  command
    .command('start <model> [candidate]')
    .description(
      'start a canary rollout of a registered version against the production version; without [candidate], the newest active version newer than production',
    )
    .option('--steps <percents>', 'candidate traffic per step, e.g. 10,25,50,100')
    .option('--bake-seconds <n>', 'bake time of each step')
    .option('--check-every <seconds>', 'health check interval while a step bakes')
    .option('--min-requests <n>', 'candidate predictions a step needs to be judged')
    .option('--shadow-first', 'start with a shadow step (mirrored traffic, never returned)')
    .option('--on-insufficient-data <action>', 'rollback (default), proceed or pause')
    .option('--reason <text>', 'why (recorded with the rollout)')
    .option('--wait', 'wait until it promotes or rolls back')
    .option('--json', 'machine-readable output')
    .action(
      (
        model: string,
        candidate: string | undefined,
        opts: {
          steps?: string;
          bakeSeconds?: string;
          checkEvery?: string;
          minRequests?: string;
          shadowFirst?: boolean;
          onInsufficientData?: string;
          reason?: string;
          wait?: boolean;
          json?: boolean;
        },
      ) =>
        withClient(async (client) => {
          // Chosen before anything starts, and said, so the person sees which version will take traffic.
          const chosen = candidate === undefined ? await withDb((db) => defaultRolloutCandidate(db, model)) : undefined;
          if (chosen && !opts.json) process.stdout.write(`candidate: version ${chosen.version} (newest not in production)\n`);
          const request: CanaryRolloutRequest = {
            model,
            candidate: chosen ? chosen.version : number(candidate ?? '', '<candidate>'),
            initiator: actor(),
            ...(opts.reason ? { reason: opts.reason } : {}),
            ...(opts.steps ? { steps: opts.steps.split(',').map((step) => number(step, '--steps')) } : {}),
            ...(opts.bakeSeconds ? { bakeSeconds: number(opts.bakeSeconds, '--bake-seconds') } : {}),
            ...(opts.checkEvery ? { checkEverySeconds: number(opts.checkEvery, '--check-every') } : {}),
            ...(opts.minRequests ? { health: { minRequests: number(opts.minRequests, '--min-requests') } } : {}),
            ...(opts.shadowFirst ? { shadowFirst: {} } : {}),
            ...(opts.onInsufficientData ? { insufficientData: { action: opts.onInsufficientData as 'rollback' } } : {}),
          };
          // The workflow's own schema: a bad flag is reported here, naming it, before anything starts.
          const input = parseOrThrow(canaryRolloutInputSchema, request, 'rollout', (message) => new Error(message));
          const workflowId = workflowIds.canary(model);
          const handle = await client.workflow
            .start('canaryRollout', { taskQueue: taskQueues.control, workflowId, args: [input] })
            .catch((error: unknown) => {
              if ((error as Error).name === 'WorkflowExecutionAlreadyStartedError') {
                throw new Error(
                  `a canary rollout of "${model}" is already running (workflow ${workflowId}); see: keel rollouts status ${model}`,
                );
              }
              throw error;
            });
          // The rollout checks the model and its versions in its first activity: wait for that, so
          // an unknown model or version is reported here rather than in a failed workflow.
          const accepted = await startChecked(handle, `${model}@${input.candidate}`);
          if (!opts.wait) {
            const note = accepted ? '' : ' — not yet picked up by a worker (is one running on queue keel-control?)';
            const chosenNote = chosen ? { candidate: chosen.version, candidateChosen: 'newest not in production' } : {};
            printResult(
              opts.json,
              { workflowId, runId: handle.firstExecutionRunId, accepted, ...chosenNote },
              () => `started ${workflowId} (run ${handle.firstExecutionRunId}): ${model}@${input.candidate}${note}`,
            );
            return;
          }
          await handle.result().catch((error: unknown) => {
            throw error instanceof WorkflowFailedError
              ? new Error(`the rollout of ${model}@${input.candidate} failed`, { cause: error })
              : error;
          });
          const status = await handle.query(canaryStatusQuery);
          printResult(opts.json, status, () => describeStatus(status));
          if (status.state !== 'promoted') process.exitCode = 2;
        }),
    );

  command
    .command('status <model>')
    .description('state, step, weights, the last health comparison and the history of steps')
    .option('--json', 'machine-readable output')
    .action((model: string, opts: { json?: boolean }) =>
      withClient(async (client) => {
        const status = await rollout(client, model, (handle) => handle.query(canaryStatusQuery));
        printResult(opts.json, status, () => describeStatus(status));
      }),
    );

  for (const [name, description] of [
    ['pause', 'hold the current weight: the bake clock stops, nothing is decided automatically'],
    ['resume', 'continue a paused rollout'],
    ['rollback', 'roll back now: all traffic to the baseline, the rollout ends'],
  ] as const) {
    command
      .command(`${name} <model>`)
      .description(description)
      .option('--reason <text>', 'why (recorded with the decision)')
      .option('--json', 'machine-readable output')
      .action((model: string, opts: { reason?: string; json?: boolean }) =>
        withClient(async (client) => {
          const note = { actor: actor(), ...(opts.reason ? { reason: opts.reason } : {}) };
          await rollout(client, model, async (handle) => {
            if (name === 'pause') await handle.signal(canaryPauseSignal, note);
            else if (name === 'resume') await handle.signal(canaryResumeSignal, note);
            else await handle.signal(canaryRollbackSignal, note);
          });
          printResult(opts.json, { model, signal: name, ok: true }, () => `${workflowIds.canary(model)}: ${name} sent`);
        }),
      );
  }

  command
    .command('promote <model>')
    .description('promote the candidate now, skipping the remaining steps (waits for the result)')
    .option('--reason <text>', 'why (recorded in the alias history)')
    .option('--json', 'machine-readable output')
    .action((model: string, opts: { reason?: string; json?: boolean }) =>
      withClient(async (client) => {
        const note = { actor: actor(), ...(opts.reason ? { reason: opts.reason } : {}) };
        const status = await rollout(client, model, (handle) =>
          handle.executeUpdate(canaryPromoteUpdate, { args: [note] }).catch((error: unknown) => {
            if (error instanceof WorkflowUpdateFailedError) throw new Error('promote refused', { cause: error });
            throw error;
          }),
        );
        printResult(opts.json, status, () => describeStatus(status));
        if (status.state !== 'promoted') process.exitCode = 2;
      }),
    );
  return command;
}

/** Runs `work` on the model's rollout, turning "no such workflow" into a sentence. */
async function rollout<T>(
  client: Client,
  model: string,
  work: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<T>,
): Promise<T> {
  const workflowId = workflowIds.canary(model);
  const handle = client.workflow.getHandle(workflowId);
  try {
    return await work(handle);
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
    // Signals and updates reach running rollouts only: say how the last one ended, if there was one
    // (from its recorded result: no worker needed).
    const description = await handle.describe().catch(() => undefined);
    if (!description) throw new Error(`no canary rollout of "${model}" (workflow ${workflowId}) was found`);
    const result = (await handle.result().catch(() => undefined)) as CanaryRolloutResult | undefined;
    const how = result
      ? `${result.outcome === 'promoted' ? 'promoted' : 'rolled back'} v${result.candidate} (${result.decision.reason})`
      : description.status.name.toLowerCase();
    throw new Error(`the last rollout of "${model}" (workflow ${workflowId}) has already ended: ${how}`);
  }
}

/**
 * Waits (up to `timeoutMs`) until the rollout's first activity — the check of the model, the
 * candidate and the production version — has completed: true. Throws the refusal when the rollout
 * failed there; false when no worker took it up in time. Reads the history: no worker needed.
 */
async function startChecked(handle: WorkflowHandle, what: string, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = (await handle.fetchHistory()).events ?? [];
    if (events.some((e) => e.activityTaskCompletedEventAttributes)) return true;
    const closed = events.some(
      (e) =>
        e.workflowExecutionFailedEventAttributes ||
        e.workflowExecutionTerminatedEventAttributes ||
        e.workflowExecutionCanceledEventAttributes ||
        e.workflowExecutionTimedOutEventAttributes ||
        e.workflowExecutionCompletedEventAttributes ||
        e.workflowExecutionContinuedAsNewEventAttributes,
    );
    if (closed) {
      try {
        await handle.result();
      } catch (error) {
        // The workflow's own message names the model and version: `cannot start the canary rollout of …`.
        if (error instanceof WorkflowFailedError) throw new Error(`the rollout of ${what} failed`, { cause: error });
        throw error;
      }
      return true;
    }
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}

/** A number from the command line; a bad one names the argument it came from. */
function number(text: string, argument: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new Error(`${argument}: not a number: "${text}"`);
  return value;
}

export function describeStatus(status: CanaryStatus): string {
  const plan = status.plan.map((p) => `${p.percent}%${p.shadow ? ' shadow' : ''}`).join(' → ');
  const lines = [
    `${workflowIds.canary(status.model)}: ${status.model}@${status.candidate} replacing v${status.baseline ?? '?'} — ${status.state}${status.paused ? ' (PAUSED)' : ''}`,
    `  plan      ${plan}, bake ${status.plan[0]?.bakeSeconds ?? '?'} s per step`,
    `  now       ${status.weight ? `step ${status.step + 1}/${status.plan.length}: ${status.weight.percent}% of traffic${status.weight.shadow ? ' mirrored (shadow)' : ''} to v${status.candidate}` : 'no route (all traffic to production)'}`,
  ];
  if (status.lastHealth) lines.push(`  health    ${describeHealth(status.lastHealth)}`);
  for (const step of status.history) {
    lines.push(
      `  step ${step.step + 1}    ${step.percent}%${step.shadow ? ' shadow' : ''}: ${step.outcome ?? 'baking'} (${step.startedAt}${step.endedAt ? ` → ${step.endedAt}` : ''})`,
    );
  }
  if (status.decision) lines.push(`  decision  ${status.decision.action} by ${status.decision.actor}: ${status.decision.reason}`);
  return lines.join('\n');
}

function describeHealth(health: HealthReport): string {
  const checks = health.checks.map((c) => `\n            ${c.name} ${c.status}: ${c.detail}`).join('');
  return `${health.verdict} over ${health.window.from} → ${health.window.to}${checks}`;
}
