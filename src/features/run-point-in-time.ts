import { runWorkerTask } from '../ml/worker-thread';
import type { PitTask } from './point-in-time-worker';

/** Runs one view's point-in-time join in a worker thread; the columns move there, not copied. */
export function runPointInTime(task: PitTask): Promise<Float64Array[]> {
  const { events, queries } = task;
  const transferList = [
    events.keys.buffer,
    events.times.buffer,
    ...events.values.map((v) => v.buffer),
    queries.keys.buffer,
    queries.times.buffer,
  ] as ArrayBuffer[];
  return runWorkerTask<Float64Array[]>(new URL('./point-in-time-worker.ts', import.meta.url), task, {
    transferList: [...new Set(transferList)],
  });
}
