import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The tests Stryker runs against each mutant (npm run mutate): the in-process unit and contract
 * tests of the mutated code. The e2e and reliability tests spawn the built dist/cli.js, which a
 * mutant in src/ never reaches, and would only cost time. (Not mergeConfig: it would append to
 * the base `include` rather than replace it.)
 */
// Without the base's projects: with them, vitest runs each project's own include (the e2e and
// reliability lanes too) and ignores the one below.
const shared = Object.fromEntries(Object.entries(base.test ?? {}).filter(([name]) => name !== 'projects'));

export default defineConfig({
  test: {
    ...shared,
    include: ['test/domain/**/*.test.ts', 'test/store/**/*.test.ts', 'test/mcp/**/*.test.ts', 'test/http/**/*.test.ts'],
    // The PostgreSQL contract, plan and race suites are what can kill a mutant in src/store/postgres.
    globalSetup: ['test/support/postgres-global-setup.ts'],
  },
});
