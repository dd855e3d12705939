import { defineConfig } from 'vitest/config';

/**
 * Five lanes. `unit` needs no build and runs in seconds: rules, stores, adapters in-process.
 * `e2e` drives the built dist/cli.js as clients and operators do. `reliability` attacks the built
 * server (bad input, races, crashes, faults, secrets). `browser` drives the dashboard in Debian's
 * Chromium against the built server. `distribution` packs and installs the npm package and builds
 * and unpacks the MCP bundle (a native build: minutes). `npm test` builds, then runs all
 * five; `npm run test:unit` is the fast lane.
 */
const BUILT = ['test/e2e/**/*.test.ts', 'test/commands/main.test.ts', 'test/bench/generate.test.ts', 'test/bench/postgres.test.ts'];
/** The npm package and the MCP bundle, built and installed as users get them: minutes, not seconds. */
const DISTRIBUTION = ['test/distribution/package.test.ts', 'test/distribution/bundle.test.ts'];

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
          exclude: [...BUILT, ...DISTRIBUTION, 'test/reliability/**', 'test/browser/**'],
          // The PostgreSQL server of the PostgreSQL suites (REFUNDKIT_TEST_DATABASE_URL, or one it starts).
          globalSetup: ['test/support/postgres-global-setup.ts'],
        },
      },
      { extends: true, test: { name: 'e2e', include: BUILT, globalSetup: ['test/support/postgres-global-setup.ts'] } },
      { extends: true, test: { name: 'reliability', include: ['test/reliability/**/*.test.ts'] } },
      // The dashboard in Debian's Chromium (playwright-core), against the built server.
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'distribution', include: DISTRIBUTION, testTimeout: 120_000, hookTimeout: 600_000 },
      },
    ],
  },
});
