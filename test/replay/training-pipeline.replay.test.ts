import { readFile } from 'node:fs/promises';
import { Worker } from '@temporalio/worker';
import { describe, inject, it } from 'vitest';

/**
 * Determinism: today's workflow code must replay a history recorded from a real pipeline run.
 * A change that would break running workflows fails here. After a deliberate, versioned change,
 * refresh the fixture with:
 *   KEEL_CAPTURE_HISTORY=test/replay/histories/training-pipeline.json npx vitest run test/integration/training-pipeline.test.ts
 */
describe('trainingPipeline replay', () => {
  it('replays the captured history without nondeterminism', async () => {
    const history = JSON.parse(await readFile('test/replay/histories/training-pipeline.json', 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history);
  });
});
