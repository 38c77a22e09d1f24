import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TrainingPipelineResult } from '../../src/shared/pipeline-result';
import { taskQueues, workflowIds } from '../../src/shared/task-queues';
import type { Observation } from '../../src/shared/tpe';
import { createTimeSkippingEnvironment, withWorkers } from './environment';
import { metrics, mockPipelineActivities, pipelineInput } from './pipeline-mocks';

/**
 * trainingPipeline's TPE tuning alone, with mocked activities: the trials it plans, the ones the
 * median rule prunes at the smaller budget (never trained at the full one), the warm start it
 * asks for, the winner it exports, and a replay of the recorded history with today's code.
 */

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

const FULL = 90;

/** A synthetic learning curve: ROC AUC peaks at l2 = 0.01 and grows with the iterations. */
function rocAucOf(l2: number, iterations: number): number {
  return 0.9 - 0.05 * Math.abs(Math.log10(l2) + 2) - 3 / iterations;
}

describe('trainingPipeline TPE tuning', () => {
  it('prunes by the median rule, warm-starts, exports the best trial, and replays', async () => {
    const { activities } = mockPipelineActivities();
    const calls: { trial: string; l2: number; maxIterations: number }[] = [];
    const warmAsked: unknown[] = [];
    const exported: string[] = [];
    const warm: Observation[] = [0.3, 0.1, 0.03].map((l2) => ({ params: { l2 }, loss: -rocAucOf(l2, FULL) }));
    const tuned = {
      ...activities,
      async trainModel(input: { trial: string; trainer: { l2: number; maxIterations: number } }) {
        const { l2, maxIterations } = input.trainer;
        calls.push({ trial: input.trial, l2, maxIterations });
        return {
          trainingRunId: `run/${input.trial}`,
          modelArtifactSha256: `model/${input.trial}`,
          iterations: maxIterations,
          trainSeconds: 1,
          validationMetrics: metrics(rocAucOf(l2, maxIterations)),
        };
      },
      async earlierTuningTrials(input: unknown) {
        warmAsked.push(input);
        return warm;
      },
      async exportModel(input: { modelArtifactSha256: string }) {
        exported.push(input.modelArtifactSha256);
        return { onnxSha256: 'b'.repeat(64), bytes: 1234, contract: { inputs: [], outputs: [] } };
      },
    };
    const input = {
      ...pipelineInput('tpe-tuned', undefined),
      trainer: { kind: 'logistic-regression' as const, l2: 0.0001, maxIterations: FULL, tolerance: 1e-6, maxCategories: 10 },
      tuning: {
        strategy: 'tpe' as const,
        space: { l2: { min: 1e-5, max: 1, scale: 'log' as const } },
        trials: 10,
        concurrency: 2,
        seed: 7,
        startupTrials: 4,
        pruning: 'median' as const,
        pruningMinTrials: 2,
        warmStart: true,
      },
    };
    const { result, history } = await withWorkers(
      env,
      tuned,
      async () => {
        const handle = await env.client.workflow.start('trainingPipeline', {
          taskQueue: taskQueues.control,
          workflowId: workflowIds.training('tpe-tuned', 'test'),
          args: [input],
        });
        const result = (await handle.result()) as TrainingPipelineResult;
        return { result, history: await handle.fetchHistory() };
      },
      ['control', 'train'],
    );

    expect(warmAsked).toEqual([
      {
        model: 'tpe-tuned',
        kind: 'logistic-regression',
        space: { l2: { ...input.tuning.space.l2, integer: false } },
        metric: { name: 'rocAuc', higherIsBetter: true },
      },
    ]);
    // Every trial first trains at the rung budget (90 / 3), each once.
    const rung = calls.filter((c) => c.trial.endsWith('-rung-0'));
    expect(rung).toHaveLength(10);
    expect(rung.every((c) => c.maxIterations === 30)).toBe(true);
    const full = calls.filter((c) => !c.trial.includes('-rung-'));
    expect(full.every((c) => c.maxIterations === FULL)).toBe(true);
    // Some trials were worse than the median at the rung: they never got the full budget.
    expect(full.length).toBeLessThan(10);
    expect(full.length).toBeGreaterThan(1);
    // The winner is the complete trial with the best ROC AUC, and it is what was exported.
    const best = full.reduce((a, b) => (rocAucOf(b.l2, FULL) > rocAucOf(a.l2, FULL) ? b : a));
    expect(exported).toEqual([`model/${best.trial}`]);
    expect(result.trainingRunId).toBe(`run/${best.trial}`);
    // Warm-started around l2 = 0.03..0.3, the study finds the optimum's neighbourhood.
    expect(Math.abs(Math.log10(best.l2) + 2)).toBeLessThan(0.5);

    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, 'tpe-tuned-replay');
  });
});
