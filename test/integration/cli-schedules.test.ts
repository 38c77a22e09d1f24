import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { loadProjectConfig } from '../../src/runtime/project-config';
import { ensureSchedules } from '../../src/runtime/schedules';
import { scheduleIds } from '../../src/shared/task-queues';

const run = promisify(execFile);

/** `keel schedules …` as a user runs it, against the run's real Temporal server. */
describe('keel schedules CLI', () => {
  const model = `cli-${Date.now().toString(36)}`;
  let connection: Connection;
  let client: Client;

  const keel = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'schedules', ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress') },
    });

  beforeAll(async () => {
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection });
    const config = await loadProjectConfig('keel.config.json');
    await ensureSchedules(client, { ...config, pipeline: { ...config.pipeline, model } });
  });
  afterAll(async () => {
    for (const id of [scheduleIds.monitor(model), scheduleIds.retrain(model)]) await client.schedule.getHandle(id).delete();
    await connection.close();
  });

  it('lists, pauses, resumes and triggers', async () => {
    const listed = JSON.parse((await keel('list', '--json')).stdout) as { id: string; paused: boolean; spec: string }[];
    const retrain = listed.find((s) => s.id === scheduleIds.retrain(model));
    expect(retrain).toMatchObject({ paused: false, spec: expect.stringContaining('calendar minute=0 hour=3 dayOfWeek=MONDAY') });
    expect(listed.find((s) => s.id === scheduleIds.monitor(model))?.spec).toBe('every 5m');

    await keel('pause', scheduleIds.retrain(model), '--note', 'maintenance');
    let description = await client.schedule.getHandle(scheduleIds.retrain(model)).describe();
    expect(description.state.paused).toBe(true);
    expect(description.state.note).toBe('maintenance');

    await keel('resume', scheduleIds.retrain(model));
    description = await client.schedule.getHandle(scheduleIds.retrain(model)).describe();
    expect(description.state.paused).toBe(false);

    const before = (await client.schedule.getHandle(scheduleIds.monitor(model)).describe()).info.numActionsTaken;
    await keel('trigger', scheduleIds.monitor(model));
    await expect
      .poll(async () => (await client.schedule.getHandle(scheduleIds.monitor(model)).describe()).info.numActionsTaken, { timeout: 10_000 })
      .toBeGreaterThan(before);
  });

  it('names an unknown schedule and exits non-zero', async () => {
    const failure = await keel('trigger', 'keel/monitor/nope').then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('no schedule "keel/monitor/nope"');
  });
});
