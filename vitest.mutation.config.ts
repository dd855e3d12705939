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

/**
 * Which tests judge the mutants. `core` (npm run mutate:core: src/domain and src/store) runs only
 * the domain and store tests: the MCP and HTTP tests also reach the domain, but through a whole
 * app per test, and a domain line is covered by hundreds of them, which made a run of the domain
 * alone take hours instead of tens of minutes. The score is then the score of the rules' own tests.
 */
const CORE = ['test/domain/**/*.test.ts', 'test/store/**/*.test.ts'];
const ALL = [...CORE, 'test/mcp/**/*.test.ts', 'test/http/**/*.test.ts'];
const include = process.env.REFUNDKIT_MUTATION_LANE === 'core' ? CORE : ALL;

export default defineConfig({
  test: {
    ...shared,
    include,
    // The PostgreSQL contract, plan and race suites are what can kill a mutant in src/store/postgres.
    globalSetup: ['test/support/postgres-global-setup.ts'],
  },
});
