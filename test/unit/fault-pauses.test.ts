import { access, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/runtime/environment';
import { faultPauseMarker } from '../../src/runtime/fault-pause-setting';
import { withFaultPauses } from '../../src/runtime/fault-pauses';

describe('KEEL_FAULT_PAUSES (test-only activity holds)', () => {
  // The hold makes it.
  const dir = join(tmpdir(), `keel-fault-pauses-${process.pid}-${Date.now()}`);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const environment = (workflowId: string, attempt: number) =>
    new MockActivityEnvironment(
      { workflowExecution: { workflowId, runId: 'r1' }, attempt },
      { logger: new DefaultLogger('ERROR', () => {}) },
    );
  let calls = 0;
  const activities = withFaultPauses(
    {
      validateDataset: async (n: number) => {
        calls++;
        return n * 2;
      },
      splitDataset: async (n: number) => n + 1,
    },
    [{ activityType: 'validateDataset', workflowId: 'train/held' }],
    dir,
    pino({ level: 'silent' }),
  );
  const exists = (path: string) =>
    access(path).then(
      () => true,
      () => false,
    );

  it('holds a named activity of a named workflow on its first attempt, after its work, with a marker', async () => {
    const held = environment('train/held', 1);
    let settled = false;
    void held.run(activities.validateDataset, 21).then(() => (settled = true));
    const marker = faultPauseMarker(dir, { activityType: 'validateDataset', workflowId: 'train/held' });
    for (let i = 0; i < 100 && !(await exists(marker)); i++) await sleep(20);
    expect(await exists(marker)).toBe(true);
    expect(marker).toBe(join(dir, 'validateDataset@train%2Fheld'));
    expect(calls, 'the work is done before the hold').toBe(1);
    await sleep(100);
    expect(settled).toBe(false);
    held.cancel();
  });

  it('lets retries, other workflows and other activities through', async () => {
    expect(await environment('train/held', 2).run(activities.validateDataset, 21)).toBe(42);
    expect(await environment('train/other', 1).run(activities.validateDataset, 1)).toBe(2);
    expect(await environment('train/held', 1).run(activities.splitDataset, 1)).toBe(2);
  });

  it('is read from the environment, refused without its directory or when malformed', () => {
    expect(readEnvironment({}).faultPauses).toBeUndefined();
    expect(
      readEnvironment({ KEEL_FAULT_PAUSES: 'validateDataset@train/a,registerModel@train/b', KEEL_FAULT_PAUSE_DIR: '/tmp/held' })
        .faultPauses,
    ).toEqual({
      pauses: [
        { activityType: 'validateDataset', workflowId: 'train/a' },
        { activityType: 'registerModel', workflowId: 'train/b' },
      ],
      dir: '/tmp/held',
    });
    expect(() => readEnvironment({ KEEL_FAULT_PAUSES: 'validateDataset@train/a' })).toThrow(/KEEL_FAULT_PAUSE_DIR/);
    expect(() => readEnvironment({ KEEL_FAULT_PAUSES: 'train/a', KEEL_FAULT_PAUSE_DIR: '/tmp/held' })).toThrow(/KEEL_FAULT_PAUSES/);
  });
});
