import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalProof } from '../../src/registry/approval-proof';
import { type ApprovalState, approvalQuery, approvalSignal, approvalUpdate } from '../../src/shared/approval';
import type { TrainingPipelineResult } from '../../src/shared/pipeline-result';
import { taskQueues, workflowIds } from '../../src/shared/task-queues';
import { createTimeSkippingEnvironment, withWorkers } from './environment';
import { CANDIDATE, mockPipelineActivities, pipelineInput } from './pipeline-mocks';

/**
 * trainingPipeline's human approval, alone: the update and its validator, the signal, the
 * timeout with each `onTimeout`, and the admin-key proof, with mocked activities on a
 * time-skipping server (a 24-hour wait passes in moments once the test awaits the result).
 */

let env: TestWorkflowEnvironment;
let n = 0;

beforeAll(async () => {
  env = await createTimeSkippingEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

function start(approval: Parameters<typeof pipelineInput>[1]) {
  const model = `approval-${++n}`;
  return env.client.workflow.start('trainingPipeline', {
    taskQueue: taskQueues.control,
    workflowId: workflowIds.training(model, 'test'),
    args: [pipelineInput(model, approval)],
  });
}

/** Polls the approval query (real time; the test server's clock stands still meanwhile). */
async function until(handle: WorkflowHandle, what: string, test: (state: ApprovalState) => boolean): Promise<ApprovalState> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const state = await handle.query(approvalQuery);
    if (test(state)) return state;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(state)}`);
    await sleep(100);
  }
}

const pending = (handle: WorkflowHandle) => until(handle, 'the pending approval', (s) => s.pending !== null);

/** The refusal's message (validator or handler), or the error itself. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!error) throw new Error('expected the update to be refused');
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  return (error as WorkflowUpdateFailedError).cause?.message ?? String(error);
}

const both = ['control', 'train'] as const;

describe('trainingPipeline approval', () => {
  it('approve: the update is recorded and the version deploys; a wrong version is refused by the validator', async () => {
    const { activities, record } = mockPipelineActivities();
    const { result, wrong, early, state } = await withWorkers(
      env,
      activities,
      async () => {
        const handle = await start({ required: true, timeout: '24h' });
        const state = await pending(handle);
        const wrong = await refusal(
          handle.executeUpdate(approvalUpdate, { args: [{ version: CANDIDATE + 1, decision: 'approve', approver: 'alice' }] }),
        );
        const early = await refusal(
          handle.executeUpdate(approvalUpdate, { args: [{ version: CANDIDATE, decision: 'approve', approver: '  ' }] }),
        );
        const decided = await handle.executeUpdate(approvalUpdate, {
          args: [{ version: CANDIDATE, decision: 'approve', approver: 'alice', reason: 'looks good', channel: 'cli' }],
        });
        expect(decided).toMatchObject({ decision: 'approve', approver: 'alice', channel: 'cli', authenticated: false });
        return { result: (await handle.result()) as TrainingPipelineResult, wrong, early, state };
      },
      [...both],
    );
    expect(state.pending).toMatchObject({ version: CANDIDATE, onTimeout: 'reject' });
    expect(Date.parse(state.pending!.deadline) - Date.parse(state.pending!.requestedAt)).toBe(24 * 3600_000);
    expect(wrong).toMatch(/version 3 is not the one awaiting approval: .* version 2/);
    expect(early).toMatch(/approver: must name who decides/);
    // Refused by the validator: no proof was checked for either.
    expect(record.proofChecks).toBe(1);
    expect(result).toMatchObject({
      status: 'registered',
      version: CANDIDATE,
      deployed: true,
      approval: { decision: { approver: 'alice', reason: 'looks good' } },
    });
    expect(record.deploys).toEqual([
      { model: expect.any(String), version: CANDIDATE, reason: expect.stringContaining('approved by alice (cli): looks good') },
    ]);
    expect(record.decisions).toMatchObject([{ decision: 'approve', approver: 'alice', channel: 'cli' }]);
  });

  it('reject: the version stays registered, not deployed, and the result says who and why', async () => {
    const { activities, record } = mockPipelineActivities();
    const result = await withWorkers(
      env,
      activities,
      async () => {
        const handle = await start({ required: true });
        await pending(handle);
        await handle.executeUpdate(approvalUpdate, {
          args: [{ version: CANDIDATE, decision: 'reject', approver: 'bob', reason: 'drift in origin', channel: 'dashboard' }],
        });
        return (await handle.result()) as TrainingPipelineResult;
      },
      [...both],
    );
    expect(result).toMatchObject({
      status: 'rejected-by-approver',
      version: CANDIDATE,
      deployed: false,
      reason: 'rejected by bob (dashboard): drift in origin',
      approval: { decision: { decision: 'reject', approver: 'bob', channel: 'dashboard' } },
    });
    expect(record.deploys).toEqual([]);
    expect(record.decisions).toMatchObject([{ decision: 'reject', approver: 'bob' }]);
  });

  it('refuses a decision before one is pending and a second decision after the first', async () => {
    let registered!: () => void;
    let deployed!: () => void;
    const hold = { register: new Promise<void>((r) => (registered = r)), deploy: new Promise<void>((r) => (deployed = r)) };
    const { activities, record } = mockPipelineActivities({ hold });
    const { early, second, result } = await withWorkers(
      env,
      activities,
      async () => {
        const handle = await start({ required: true });
        await until(handle, 'the pipeline to start', () => true);
        const early = await refusal(
          handle.executeUpdate(approvalUpdate, { args: [{ version: CANDIDATE, decision: 'approve', approver: 'alice' }] }),
        );
        registered();
        await pending(handle);
        await handle.executeUpdate(approvalUpdate, { args: [{ version: CANDIDATE, decision: 'approve', approver: 'alice' }] });
        const second = await refusal(
          handle.executeUpdate(approvalUpdate, { args: [{ version: CANDIDATE, decision: 'reject', approver: 'mallory' }] }),
        );
        deployed();
        return { early, second, result: (await handle.result()) as TrainingPipelineResult };
      },
      [...both],
    );
    expect(early).toMatch(/no approval is pending yet: the pipeline is at stage "/);
    expect(second).toMatch(/already decided: approved v2 by alice \(api\)/);
    expect(result.status).toBe('registered');
    expect(record.decisions).toHaveLength(1);
  });

  it.each([
    ['reject', 'rejected-by-approver', 0],
    ['approve', 'registered', 1],
  ] as const)('a wait that times out decides onTimeout=%s and records it', async (onTimeout, status, deploys) => {
    const { activities, record } = mockPipelineActivities();
    const result = await withWorkers(
      env,
      activities,
      async () => {
        const handle = await start({ required: true, timeout: '2h', onTimeout });
        // Awaiting the result lets the test server skip the two hours.
        return (await handle.result()) as TrainingPipelineResult;
      },
      [...both],
    );
    expect(result.status).toBe(status);
    expect(record.deploys).toHaveLength(deploys);
    const decision = {
      decision: onTimeout,
      approver: 'timeout',
      channel: 'timeout',
      reason: 'no decision within 2h',
      authenticated: false,
    };
    expect(record.decisions).toMatchObject([decision]);
    expect(Date.parse(record.decisions[0].at) - Date.parse(record.requests[0].deadline)).toBeGreaterThanOrEqual(0);
  });

  it('signal: a wrong version is recorded as ignored, the right one decides (channel signal)', async () => {
    const { activities, record } = mockPipelineActivities();
    const result = await withWorkers(
      env,
      activities,
      async () => {
        const handle = await start({ required: true });
        await pending(handle);
        await handle.signal(approvalSignal, { version: 7, decision: 'approve', approver: 'carol' });
        await until(handle, 'the ignored signal', (s) => s.ignoredSignals.length === 1);
        await handle.signal(approvalSignal, { version: CANDIDATE, decision: 'approve', approver: 'carol', reason: 'from the Temporal UI' });
        return (await handle.result()) as TrainingPipelineResult;
      },
      [...both],
    );
    expect(result).toMatchObject({
      status: 'registered',
      deployed: true,
      approval: { decision: { approver: 'carol', channel: 'signal', reason: 'from the Temporal UI' } },
    });
    if (result.status !== 'registered') return;
    expect(result.approval?.ignoredSignals).toMatchObject([
      { why: expect.stringMatching(/version 7 is not the one awaiting approval/), request: { version: 7, approver: 'carol' } },
    ]);
    expect(record.deploys).toHaveLength(1);
  });

  it('with admin keys: refuses a decision without a valid proof, accepts one with it (authenticated)', async () => {
    const key = 'admin-key-for-tests';
    const { activities, record } = mockPipelineActivities({ adminKeys: [key] });
    const { missing, forged, decided } = await withWorkers(
      env,
      activities,
      async () => {
        const handle = await start({ required: true });
        await pending(handle);
        const request = { version: CANDIDATE, decision: 'approve', approver: 'dave' } as const;
        const missing = await refusal(handle.executeUpdate(approvalUpdate, { args: [request] }));
        // A proof for the other decision (or another workflow) does not fit.
        const forged = await refusal(
          handle.executeUpdate(approvalUpdate, {
            args: [{ ...request, proof: approvalProof(key, { workflowId: handle.workflowId, version: CANDIDATE, decision: 'reject' }) }],
          }),
        );
        const decided = await handle.executeUpdate(approvalUpdate, {
          args: [{ ...request, proof: approvalProof(key, { workflowId: handle.workflowId, version: CANDIDATE, decision: 'approve' }) }],
        });
        await handle.result();
        return { missing, forged, decided };
      },
      [...both],
    );
    expect(missing).toMatch(/admin keys are configured/);
    expect(forged).toMatch(/the proof does not match any admin key/);
    expect(decided).toMatchObject({ approver: 'dave', authenticated: true });
    expect(record.deploys).toHaveLength(1);
  });

  it('without approval.required the pipeline deploys at once, asking nobody', async () => {
    const { activities, record } = mockPipelineActivities();
    const result = await withWorkers(
      env,
      activities,
      async () => {
        const handle = await start({});
        return (await handle.result()) as TrainingPipelineResult;
      },
      [...both],
    );
    expect(result).toMatchObject({ status: 'registered', deployed: true });
    expect(result).not.toHaveProperty('approval');
    expect(record.requests).toEqual([]);
  });
});
