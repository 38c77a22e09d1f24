import { serveWorkerTask } from '../ml/worker-thread';
import { pointInTime, type EventColumns, type PitFeature, type QueryColumns } from './point-in-time';

/** The point-in-time join of one view, inside a worker thread (it sorts and sweeps millions of rows). */
export interface PitTask {
  events: EventColumns;
  queries: QueryColumns;
  features: PitFeature[];
  lagMs: number;
}

await serveWorkerTask<PitTask, Float64Array[]>(({ events, queries, features, lagMs }) => pointInTime(events, queries, features, lagMs));
