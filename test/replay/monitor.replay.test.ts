import { describe, expect, it } from 'vitest';
import { eventTypes, expectContinuedAsNew, loadHistory, replay } from './history-fixture';

/**
 * Determinism of the long-running monitor across continue-as-new: today's workflow code must
 * replay the histories of a real loop (`loop: { everySeconds: 1, iterationsPerRun: 2,
 * maxIterations: 3 }`): the run that made two checks and continued as new, and the run that made
 * the third and completed. A change to the commands the workflow issues would break monitors in
 * flight and fails here. After a deliberate, versioned change, refresh the fixtures with:
 *   KEEL_CAPTURE_HISTORY_DIR=test/replay/histories npx vitest run test/integration/monitor.test.ts -t 'long-running'
 */
describe('monitor replay', () => {
  it('the fixtures are a loop run that continued as new and the run after it', async () => {
    const [first, next] = await Promise.all([loadHistory('monitor-loop-run-1.json'), loadHistory('monitor-loop-run-2.json')]);
    expectContinuedAsNew('monitor', first, next);
    expect(eventTypes(first).filter((t) => t === 'TIMER_FIRED')).toHaveLength(2);
    expect(eventTypes(next).at(-1)).toBe('WORKFLOW_EXECUTION_COMPLETED');
  });

  it('replays the run that continued as new', async () => {
    await replay(await loadHistory('monitor-loop-run-1.json'));
  });

  it('replays the run that followed it', async () => {
    await replay(await loadHistory('monitor-loop-run-2.json'));
  });
});
