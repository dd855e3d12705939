import { defineConfig } from 'vitest/config';

/**
 * Three lanes. `unit` needs no build and runs in seconds: rules, stores, adapters in-process.
 * `e2e` drives the built dist/cli.js as clients and operators do. `reliability` attacks the built
 * server (bad input, races, crashes, faults, secrets). `npm test` builds, then runs all three;
 * `npm run test:unit` is the fast lane.
 */
const BUILT = ['test/e2e/**/*.test.ts', 'test/commands/main.test.ts', 'test/bench/generate.test.ts'];

export default defineConfig({
  test: {
    // e2e tests spawn the built server and other processes; give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...BUILT, 'test/reliability/**'],
          // The PostgreSQL server of the PostgreSQL suites (REFUNDKIT_TEST_DATABASE_URL, or one it starts).
          globalSetup: ['test/support/postgres-global-setup.ts'],
        },
      },
      { extends: true, test: { name: 'e2e', include: BUILT, globalSetup: ['test/support/postgres-global-setup.ts'] } },
      { extends: true, test: { name: 'reliability', include: ['test/reliability/**/*.test.ts'] } },
    ],
  },
});
