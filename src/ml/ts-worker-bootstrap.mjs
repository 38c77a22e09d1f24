// Entry point of keel's worker threads. A worker does not inherit the parent's module loader
// (under vitest, or after tsx's register() in bin/keel.mjs), so it registers tsx itself before
// importing the TypeScript worker module named in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
