import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { approvalProof, checkApprovalProof } from '../../src/registry/approval-proof';
import { describeEvaluation } from '../../src/registry/approvals';
import { approvalRefusal, type ApprovalState } from '../../src/shared/approval';
import { trainingPipelineInputSchema } from '../../src/shared/pipeline-input';
import { pipelineInput } from '../workflow/pipeline-mocks';

const subject = { workflowId: 'train/m/run-1', version: 3, decision: 'approve' as const };

describe('approval proof', () => {
  it('is HMAC-SHA256 of approve:<workflow>:<version>:<decision> under the admin key', () => {
    const expected = createHmac('sha256', 'k1').update('approve:train/m/run-1:3:approve').digest('hex');
    expect(approvalProof('k1', subject)).toBe(expected);
  });

  it('is open without keys, valid with any configured key, and refused for another workflow, version or decision', () => {
    const proof = approvalProof('k2', subject);
    expect(checkApprovalProof([], { ...subject })).toEqual({ status: 'open' });
    expect(checkApprovalProof(['k1', 'k2'], { ...subject, proof })).toEqual({ status: 'valid' });
    expect(checkApprovalProof(['k1', 'k2'], subject)).toMatchObject({ status: 'refused', why: expect.stringContaining('needs a proof') });
    for (const other of [{ workflowId: 'train/m/run-2' }, { version: 4 }, { decision: 'reject' as const }]) {
      const check = checkApprovalProof(['k1', 'k2'], { ...subject, ...other, proof });
      expect(check).toMatchObject({ status: 'refused', why: expect.stringContaining('does not match') });
    }
    // The refusal never contains a key.
    expect(JSON.stringify(checkApprovalProof(['k1', 'k2'], { ...subject, version: 4, proof }))).not.toMatch(/k1|k2/);
  });
});

describe('approval rules', () => {
  const state = (over: Partial<ApprovalState>): ApprovalState => ({
    required: true,
    pending: null,
    decision: null,
    ignoredSignals: [],
    ...over,
  });
  const pending = {
    model: 'm',
    version: 3,
    requestedAt: '2026-01-01T00:00:00Z',
    deadline: '2026-01-02T00:00:00Z',
    onTimeout: 'reject' as const,
  };

  it('names why a decision cannot apply', () => {
    expect(approvalRefusal(state({ required: false }), 3, 'deploy')).toMatch(/does not require approval/);
    expect(approvalRefusal(state({}), 3, 'train')).toBe('no approval is pending yet: the pipeline is at stage "train"');
    expect(approvalRefusal(state({ pending }), 2, 'awaiting approval')).toBe(
      'version 2 is not the one awaiting approval: this pipeline waits for m version 3',
    );
    const decision = {
      version: 3,
      decision: 'reject' as const,
      approver: 'bob',
      reason: '',
      channel: 'cli' as const,
      at: '2026-01-01T01:00:00.000Z',
      authenticated: false,
    };
    expect(approvalRefusal(state({ pending, decision }), 3, 'done')).toBe(
      'already decided: rejected v3 by bob (cli) at 2026-01-01T01:00:00.000Z',
    );
    expect(approvalRefusal(state({ pending }), 3, 'awaiting approval')).toBeNull();
  });

  it('describes the evaluation against production', () => {
    const metrics = { task: 'binary' as const } as never;
    const compare = { metric: 'rocAuc', candidate: 0.8123, production: 0.8001 };
    expect(describeEvaluation({ metrics, production: { version: 2, metrics }, gate: { passed: true, reasons: [] }, compare })).toBe(
      'rocAuc 0.8123 vs production v2 0.8001 (+0.0122)',
    );
    expect(describeEvaluation({ metrics, gate: { passed: true, reasons: [] }, compare: { ...compare, production: null } })).toBe(
      'rocAuc 0.8123 (no production version to compare with)',
    );
  });
});

describe('pipeline.approval input', () => {
  it('defaults to not required, 24h, reject', () => {
    const { approval: _approval, ...input } = pipelineInput('m', undefined);
    expect(trainingPipelineInputSchema.parse(input).approval).toEqual({ required: false, timeout: '24h', onTimeout: 'reject' });
  });

  it('refuses a bad timeout, an unknown key and approval without deploy, naming the field', () => {
    const parse = (approval: unknown, deploy = true) =>
      trainingPipelineInputSchema.safeParse({ ...pipelineInput('m', undefined), deploy, approval });
    expect(parse({ required: true, timeout: '1 day' }).error?.issues[0]).toMatchObject({
      path: ['approval', 'timeout'],
      message: expect.stringContaining('s, m, h or d'),
    });
    expect(parse({ required: true, onTimout: 'approve' }).error?.issues[0]).toMatchObject({
      path: ['approval'],
      code: 'unrecognized_keys',
    });
    expect(parse({ required: true }, false).error?.issues[0]).toMatchObject({
      path: ['approval', 'required'],
      message: expect.stringContaining('"deploy": true'),
    });
  });
});
