/**
 * `npm run mutate:survivors [-- PREFIX ...]`: re-tests only the kept survivors of the files under
 * the prefixes (default src/domain/ and src/store/), with the core lane's tests, as Stryker
 * mutation ranges, and folds the outcome into docs/mutation-results.json (`mutate:report --rerun`).
 * Minutes instead of the hour a whole run takes, after writing tests against the survivors. A file
 * whose code changed since it was measured is refused: run it whole (`npm run mutate -- --mutate`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_FILE } from './mutation-paths.js';
import { survivorRanges, type Results } from './mutation-survivors.js';

const root = process.cwd();
const prefixes = process.argv.slice(2);
const results = JSON.parse(readFileSync(join(root, RESULTS_FILE), 'utf8')) as Results;
const ranges = survivorRanges(results, prefixes.length > 0 ? prefixes : ['src/domain/', 'src/store/'], (file) => readFileSync(join(root, file), 'utf8'));
if (ranges.length === 0) {
  console.log('no survivors kept under those prefixes');
} else {
  console.log(`re-testing ${ranges.length} survivor ranges`);
  // No incremental file: a run over ranges would leave it holding only those mutants.
  const stryker = spawnSync('npx', ['stryker', 'run', '--mutate', ranges.join(','), '--incrementalFile', '.stryker-tmp/rerun-incremental.json'], {
    stdio: 'inherit',
    env: { ...process.env, REFUNDKIT_MUTATION_LANE: 'core' },
  });
  if (stryker.status !== 0) process.exit(stryker.status ?? 1);
  const report = spawnSync('node', ['.tmp/scripts/scripts/mutation-report.js', '--rerun'], { stdio: 'inherit' });
  process.exitCode = report.status ?? 1;
}
