import { defineConfig } from 'vitest/config';

// The fault-injection suite (`npm run test:faults`), apart from `npm test`. Each file starts its own
// Temporal dev server and keel processes and kills only those, so two files run side by side: most
// of a fault test is waiting (bakes, schedule ticks, outages), and pairs halve the suite's time.
export default defineConfig({
  test: {
    name: 'faults',
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/faults/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 240_000,
  },
});
