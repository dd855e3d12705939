/**
 * `npm run mutate:report [-- REPORT.json ...] [--rerun] [--check]`: folds Stryker's last JSON report (or the
 * ones named) into docs/mutation-results.json and rewrites docs/mutation-survivors.md. With
 * `--check`, exits 1 while a survivor has no reason or a reason names a mutant that no longer
 * survives. Run it after `npm run mutate` or `npm run mutate:core`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  merge,
  mergeRerun,
  renderSurvivors,
  resultsOf,
  staleReasons,
  unexplained,
  type MutationReport,
  type ReasonsFile,
  type Results,
} from './mutation-survivors.js';
import { REASONS_FILE, RESULTS_FILE, SCOPES, SURVIVORS_FILE } from './mutation-paths.js';


const root = process.cwd();
const args = process.argv.slice(2);
const check = args.includes('--check');
// The report re-tested only the survivors' lines (npm run mutate:survivors): fold it mutant by mutant.
const rerun = args.includes('--rerun');
const reports = args.filter((a) => !a.startsWith('--'));
if (reports.length === 0 && existsSync(join(root, 'reports/mutation/mutation.json'))) reports.push('reports/mutation/mutation.json');

const readJson = (file: string): unknown => JSON.parse(readFileSync(join(root, file), 'utf8'));
let results = existsSync(join(root, RESULTS_FILE)) ? (readJson(RESULTS_FILE) as Results) : {};
const today = new Date().toISOString().slice(0, 10);
for (const report of reports) {
  const parsed = readJson(report) as MutationReport;
  results = rerun ? mergeRerun(results, parsed, today) : merge(results, resultsOf(parsed, today));
  console.log(`${report}: ${Object.keys(parsed.files).length} files${rerun ? ' (survivors re-tested)' : ''}`);
}
const reasons = existsSync(join(root, REASONS_FILE)) ? (readJson(REASONS_FILE) as ReasonsFile) : { reasons: {}, survivors: [] };
writeFileSync(join(root, RESULTS_FILE), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(root, SURVIVORS_FILE), renderSurvivors(results, reasons, SCOPES));

const missing = unexplained(results, reasons);
const stale = staleReasons(results, reasons);
console.log(`${SURVIVORS_FILE}: ${missing.length} survivors without a reason, ${stale.length} stale reasons`);
for (const s of stale) console.log(`  stale: ${s.file} ${s.mutator} ${JSON.stringify(s.original)} -> ${JSON.stringify(s.replacement)}`);
if (check && (missing.length > 0 || stale.length > 0)) {
  for (const { file, survivor } of missing) {
    console.log(`  no reason: ${file}:${survivor.line} ${survivor.mutator} ${JSON.stringify(survivor.original)} -> ${JSON.stringify(survivor.replacement)}`);
  }
  process.exitCode = 1;
}
