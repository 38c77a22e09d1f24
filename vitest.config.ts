import { defineConfig } from 'vitest/config';

// Unit tests run in parallel; integration and replay tests share one Temporal dev server and one
// database, started once by the global setup, so they run one file at a time.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/replay/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          // One process, one file at a time: they share one dev server, and Runtime.install runs once.
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 300_000,
        },
      },
    ],
  },
});
