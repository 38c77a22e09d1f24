import { canaryContinuationSchema, canaryRolloutInputSchema, type CanaryRolloutResult } from '../src/shared/canary';
import { parseWorkflowInput } from '../src/shared/validation';
import { CanaryRolloutRun } from './canary-rollout-run';

/**
 * One model's canary rollout (workflow id `canary/<model>`): for each step, route the step's share
 * of traffic to the candidate, bake (a workflow timer that signals interrupt), compare candidate
 * and baseline health over the step's window, then go on, promote after the last step, or roll
 * back on a breach — by itself. Operators steer it with the `rollback`, `pause` and `resume`
 * signals and the `promote` update, and watch it with the `status` query. Every decision is
 * recorded in `rollout_events`; promotion moves `production` (alias history).
 *
 * A long rollout continues as new (`continueAsNewAfterEvents`, or when the server suggests it) at
 * a step boundary or between two health checks, passing its whole state as `continuation`: the
 * next run resumes exactly there, and answers `status` the same. The state and its transitions
 * are in `CanaryRolloutRun`.
 */
export async function canaryRollout(rawInput: unknown, rawContinuation?: unknown): Promise<CanaryRolloutResult> {
  const input = parseWorkflowInput(canaryRolloutInputSchema, rawInput, 'canaryRollout');
  const continuation =
    rawContinuation === undefined ? undefined : parseWorkflowInput(canaryContinuationSchema, rawContinuation, 'canaryRollout continuation');
  // A continued run takes the state over as it was. This happens before the handlers are set, so
  // messages buffered for this run see the state they are meant for.
  const run = new CanaryRolloutRun(rawInput, input, continuation);
  run.listen();
  await run.start();
  return run.run();
}
