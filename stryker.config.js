// @ts-check
/**
 * Mutation testing (npm run mutate; docs/mutation.md). Not part of npm test: a full run takes
 * tens of minutes on two cores. While working on one file, narrow it:
 *   npm run mutate -- --mutate src/domain/cancel.ts
 * `incremental` reuses the previous results for code and tests that did not change.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  mutate: [
    'src/domain/**/*.ts',
    'src/store/**/*.ts',
    'src/mcp/**/*.ts',
    'src/http/**/*.ts',
    // Types only: nothing to mutate.
    '!src/domain/ports.ts',
    '!src/domain/ports/**/*.ts',
  ],
  coverageAnalysis: 'perTest',
  // A static mutant (in a module-level table: a zod schema, the error table, a tool definition)
  // can only be tested by re-running every test, ~1 minute each here; there are hundreds. They are
  // reported as ignored; docs/mutation.md says how to include them for one file.
  ignoreStatic: true,
  // The machine has two cores, shared.
  concurrency: 2,
  timeoutMS: 10_000,
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['progress', 'clear-text', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportTests: false, reportMutants: true, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['dist', 'bench/results', '.tmp', 'reports', 'coverage'],
  cleanTempDir: 'always',
};
