import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listApprovals, listPendingApprovals } from '../../src/registry/approvals';
import { resolveAlias } from '../../src/registry/model-registry';
import { ApprovalRefusedError, decideApproval } from '../../src/runtime/approval-client';
import { loadProjectConfig } from '../../src/runtime/project-config';
import type { TrainingPipelineResult } from '../../src/shared/pipeline-result';
import { taskQueues, workflowIds } from '../../src/shared/task-queues';
import { createHarness, type Harness } from './harness';

const run = promisify(execFile);

/**
 * Human approval on real components: a pipeline with `approval.required` trains on real flights
 * (a few thousand, to stay fast), registers the version and waits; `keel approvals list` shows it
 * with its evaluation; an approval for the wrong version is refused by the workflow's validator;
 * the right one, through the function the CLI and the dashboard use, moves it to deploy. A webhook
 * (a local HTTP receiver) announces the pending approval.
 */
describe('approval before deploy', () => {
  let harness: Harness;
  let receiver: Server;
  const received: unknown[] = [];
  const model = `approval-it-${Date.now().toString(36)}`;

  beforeAll(async () => {
    harness = await createHarness();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
    await harness?.close();
  });

  it('waits, is listed, refuses the wrong version and deploys once approved', async () => {
    const { client, database } = harness;
    const base = (await loadProjectConfig('keel.config.json')).pipeline;
    const pipeline = {
      ...base,
      model,
      dataset: { ...base.dataset, name: `${model}-flights`, limit: 5_000 },
      approval: {
        required: true,
        timeout: '1h',
        notifications: { webhooks: [{ name: 'ops', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` }] },
      },
    };

    await harness.withWorkers(async () => {
      const handle = await client.workflow.start('trainingPipeline', {
        taskQueue: taskQueues.control,
        workflowId: workflowIds.training(model, 'it'),
        args: [pipeline],
      });
      await expect
        .poll(async () => (await listPendingApprovals(database.db, { model })).length, { timeout: 240_000, interval: 500 })
        .toBe(1);
      const [pending] = await listPendingApprovals(database.db, { model });
      expect(pending).toMatchObject({ workflowId: handle.workflowId, version: 1, status: 'pending', onTimeout: 'reject' });
      expect(pending.deadline.getTime() - pending.requestedAt.getTime()).toBe(3600_000);
      await expect.poll(() => received.length, { timeout: 30_000 }).toBe(1);
      expect(received[0]).toMatchObject({
        type: 'keel.alert',
        alert: {
          kind: 'approval_pending',
          model,
          version: 1,
          title: `${model} v1 awaits approval before deploy`,
          lines: expect.arrayContaining([`approve: keel approvals approve ${model} 1 --reason "…"`]),
        },
      });
      // Waiting: nothing deployed yet.
      expect(await resolveAlias(database.db, model, 'production')).toBeUndefined();

      const url = inject('databaseUrl');
      if (url) {
        // The command a user runs (it reads PostgreSQL; an embedded PGlite cannot be shared with this process).
        const listed = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'approvals', 'list', '--model', model], {
          env: { ...process.env, DATABASE_URL: url },
        });
        expect(listed.stdout).toMatch(new RegExp(`${model} version 1 {2}pending until .* \\(then reject\\)`));
        expect(listed.stdout).toMatch(/rocAuc 0\.\d{4} \(no production version to compare with\)/);
        expect(listed.stdout).toContain(`keel approvals approve ${model} 1`);
        const refused = await run(
          process.execPath,
          ['--import', 'tsx', 'src/cli/main.ts', 'approvals', 'approve', model, '2', '--reason', 'wrong one'],
          {
            env: { ...process.env, DATABASE_URL: url, TEMPORAL_ADDRESS: inject('temporalAddress') },
          },
        ).then(
          () => undefined,
          (error: { code: number; stderr: string }) => error,
        );
        expect(refused?.code).toBe(1);
        expect(refused?.stderr).toMatch(
          /^keel: approve refused: version 2 is not the one awaiting approval: this pipeline waits for .* version 1$/m,
        );
      }

      const request = { model, decision: 'approve', approver: 'alice', reason: 'checked the evaluation', channel: 'cli' } as const;
      const wrong = await decideApproval(client, database.db, { ...request, version: 2 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(wrong).toBeInstanceOf(ApprovalRefusedError);
      expect((wrong as Error).message).toMatch(/approve refused: version 2 is not the one awaiting approval: .* version 1/);

      const approved = await decideApproval(client, database.db, { ...request, version: 1 });
      expect(approved).toMatchObject({
        workflowId: handle.workflowId,
        decision: { decision: 'approve', approver: 'alice', channel: 'cli', authenticated: false },
      });

      const result = (await handle.result()) as TrainingPipelineResult;
      expect(result).toMatchObject({ status: 'registered', version: 1, deployed: true, approval: { decision: { approver: 'alice' } } });
    });

    expect((await resolveAlias(database.db, model, 'production'))?.version).toBe(1);
    const [row] = await listApprovals(database.db, { model });
    expect(row).toMatchObject({
      status: 'approved',
      decidedBy: 'alice',
      channel: 'cli',
      reason: 'checked the evaluation',
      authenticated: false,
    });
    expect(await listPendingApprovals(database.db, { model })).toEqual([]);
  });
});
