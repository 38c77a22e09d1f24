import { describe, expect, it } from 'vitest';
import { eventTypes, expectContinuedAsNew, loadHistory, replay } from './history-fixture';

/**
 * Determinism of canaryRollout across continue-as-new: today's workflow code must replay the
 * histories of two consecutive runs of a real rollout (tiny models, real traffic, 3 s bakes,
 * `continueAsNewAfterEvents: 30`): the first run (start, route, health checks, continue-as-new in
 * the middle of a bake) and the run that took over from its continuation (resumed bake, a `pause`
 * signal whose handler records an event, continue-as-new while paused). A change to the commands
 * the workflow issues would break rollouts in flight and fails here. After a deliberate, versioned
 * change, refresh the fixtures with:
 *   KEEL_CAPTURE_HISTORY_DIR=test/replay/histories npx vitest run test/integration/canary-rollout.test.ts -t 'continues as new'
 */
describe('canaryRollout replay', () => {
  it('the fixtures are a run that continued as new mid-bake and the run after it', async () => {
    const [first, next] = await Promise.all([loadHistory('canary-rollout-run-1.json'), loadHistory('canary-rollout-run-2.json')]);
    expectContinuedAsNew('canaryRollout', first, next);
    // The next run starts from a continuation (second argument) and received a signal.
    expect(first.events[0].workflowExecutionStartedEventAttributes?.input?.payloads).toHaveLength(1);
    expect(next.events[0].workflowExecutionStartedEventAttributes?.input?.payloads).toHaveLength(2);
    expect(eventTypes(next)).toContain('WORKFLOW_EXECUTION_SIGNALED');
    expect(eventTypes(first).filter((t) => t === 'TIMER_FIRED').length).toBeGreaterThan(0);
  });

  it('replays the run that continued as new', async () => {
    await replay(await loadHistory('canary-rollout-run-1.json'));
  });

  it('replays the run that resumed from the continuation', async () => {
    await replay(await loadHistory('canary-rollout-run-2.json'));
  });
});
