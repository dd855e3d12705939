import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The tests Stryker runs against each mutant (npm run mutate): the in-process unit and contract
 * tests of the mutated code. The e2e and reliability tests spawn the built dist/cli.js, which a
 * mutant in src/ never reaches, and would only cost time. (Not mergeConfig: it would append to
 * the base `include` rather than replace it.)
 */
export default defineConfig({
  test: {
    ...base.test,
    include: ['test/domain/**/*.test.ts', 'test/store/**/*.test.ts', 'test/mcp/**/*.test.ts', 'test/http/**/*.test.ts'],
  },
});
