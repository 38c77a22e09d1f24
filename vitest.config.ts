import { defineConfig } from 'vitest/config';

// Unit tests run in parallel; integration and replay tests share one Temporal dev server and one
// database, started once by the global setup, so they run one file at a time; workflow tests run
// the workflows alone, on a time-skipping test server.
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
          // test/security: each attack of the 2026-12-06 review (issue #14), refused; in this project
          // to share its dev server, workflow bundle and database rather than start its own.
          include: ['test/integration/**/*.test.ts', 'test/replay/**/*.test.ts', 'test/security/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          // One process, one file at a time: they share one dev server, and Runtime.install runs once.
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          // The dashboard in Debian's chromium over a database real runs filled; its own dev server.
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // Workflow logic with mocked activities on a time-skipping test server: bakes and
          // schedules of hours take moments. Its own server per file, so one file at a time.
          name: 'workflow',
          include: ['test/workflow/**/*.test.ts'],
          globalSetup: ['test/workflow/global-setup.ts'],
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
        },
      },
    ],
  },
});
