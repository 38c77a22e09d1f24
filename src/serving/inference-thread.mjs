// Entry point of the model server's inference threads. A worker thread does not inherit the
// parent's module loader (tsx under `npm run server` or vitest), so it registers tsx itself before
// importing the TypeScript worker module.
import { register } from 'tsx/esm/api';

register();
await import('./inference-worker.ts');
