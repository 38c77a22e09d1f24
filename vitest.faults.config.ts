import { defineConfig } from 'vitest/config';

// The fault-injection suite (`npm run test:faults`), apart from `npm test`: it kills processes and
// servers, so the files of one lane run one at a time in one fork, with long timeouts; test/faults/
// run.ts runs two lanes side by side.
export default defineConfig({
  test: {
    name: 'faults',
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/faults/global-setup.ts'],
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 240_000,
  },
});
