/**
 * The mutation results we keep (docs/mutation-results.json): Stryker's JSON report is large and
 * git-ignored, and each run covers part of the code, so every run folds its files into one small
 * committed record. docs/mutation-survivors.md is rendered from it and from the reasons we keep
 * (docs/mutation-reasons.json) for the mutants that survive. A survivor is matched to its reason
 * by file, mutator, the code it changed and the change, not by line, so that a reason outlives
 * edits elsewhere in the file.
 */

/** The part of mutation-testing-report-schema (Stryker's JSON reporter) that is read here. */
export interface MutationReport {
  files: Record<string, { source: string; mutants: ReportMutant[] }>;
}

export interface ReportMutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

export interface ReasonsFile {
  /** Reasons shared by several survivors, by name. */
  reasons: Record<string, string>;
  survivors: KnownSurvivor[];
}

export interface KnownSurvivor {
  file: string;
  mutator: string;
  original: string;
  replacement: string;
  /** A name from `reasons`, or the reason itself. */
  reason: string;
}

export interface Survivor {
  line: number;
  mutator: string;
  original: string;
  replacement: string;
  status: 'Survived' | 'NoCoverage';
}

export interface FileResult {
  /** The day of the run that measured the file (YYYY-MM-DD). */
  measured: string;
  mutants: number;
  killed: number;
  timedOut: number;
  survived: number;
  noCoverage: number;
  survivors: Survivor[];
}

/** docs/mutation-results.json: by file. */
export type Results = Record<string, FileResult>;

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

/** The text a mutant replaced (locations are 1-based lines and columns). */
export function originalText(source: string, location: ReportMutant['location']): string {
  const lines = source.split('\n');
  const { start, end } = location;
  if (start.line === end.line) return (lines[start.line - 1] ?? '').slice(start.column - 1, end.column - 1);
  const first = (lines[start.line - 1] ?? '').slice(start.column - 1);
  const middle = lines.slice(start.line, end.line - 1);
  const last = (lines[end.line - 1] ?? '').slice(0, end.column - 1);
  return [first, ...middle, last].join('\n');
}

function keyOf(file: string, s: { mutator: string; original: string; replacement: string }): string {
  return JSON.stringify([file, s.mutator, normalise(s.original), normalise(s.replacement)]);
}

/** Whitespace differences (re-indented code) do not make a different mutant. */
function normalise(code: string): string {
  return code.replace(/\s+/g, ' ').trim();
}

/** What a report says of each file it measured, as kept. */
export function resultsOf(report: MutationReport, measured: string): Results {
  const results: Results = {};
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    const valid = mutants.filter((m) => DETECTED.has(m.status) || UNDETECTED.has(m.status));
    if (valid.length === 0) continue;
    const count = (status: string): number => valid.filter((m) => m.status === status).length;
    results[file] = {
      measured,
      mutants: valid.length,
      killed: count('Killed'),
      timedOut: count('Timeout'),
      survived: count('Survived'),
      noCoverage: count('NoCoverage'),
      survivors: valid
        .filter((m) => UNDETECTED.has(m.status))
        .map((m) => ({
          line: m.location.start.line,
          mutator: m.mutatorName,
          original: originalText(source, m.location),
          replacement: m.replacement ?? '',
          status: m.status === 'NoCoverage' ? ('NoCoverage' as const) : ('Survived' as const),
        }))
        .sort((a, b) => a.line - b.line),
    };
  }
  return results;
}

/** Folds a run into the kept results: the files it measured are replaced, the others stay. */
export function merge(kept: Results, run: Results): Results {
  const merged = { ...kept, ...run };
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Folds a run that re-tested only the lines of the kept survivors (see survivorRanges): a survivor
 * the run now detects counts as detected, a mutant of those lines that was detected before and now
 * goes undetected counts as a survivor again, and the rest of the file stays as its last whole run
 * measured it. Only for files whose code did not change since that run (survivorRanges checks).
 */
export function mergeRerun(kept: Results, report: MutationReport, measured: string): Results {
  const out: Results = { ...kept };
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    const before = kept[file];
    if (before === undefined) throw new Error(`${file} was never measured whole: run it without ranges first`);
    const r: FileResult = { ...before, measured, survivors: [...before.survivors] };
    for (const m of mutants) {
      if (!DETECTED.has(m.status) && !UNDETECTED.has(m.status)) continue;
      const now: Survivor = {
        line: m.location.start.line,
        mutator: m.mutatorName,
        original: originalText(source, m.location),
        replacement: m.replacement ?? '',
        status: m.status === 'NoCoverage' ? 'NoCoverage' : 'Survived',
      };
      const at = r.survivors.findIndex((s) => s.line === now.line && keyOf(file, s) === keyOf(file, now));
      const was = r.survivors[at];
      // Detected by the last whole run and by this one: nothing to change.
      if (was === undefined && DETECTED.has(m.status)) continue;
      // Take it out of what the last run counted it as...
      if (was !== undefined) {
        r.survivors.splice(at, 1);
        if (was.status === 'Survived') r.survived -= 1;
        else r.noCoverage -= 1;
      } else if (r.killed > 0) r.killed -= 1;
      else r.timedOut -= 1;
      // ...and count it as this run found it.
      if (m.status === 'Killed') r.killed += 1;
      else if (m.status === 'Timeout') r.timedOut += 1;
      else {
        if (now.status === 'Survived') r.survived += 1;
        else r.noCoverage += 1;
        r.survivors.push(now);
      }
    }
    r.survivors.sort((a, b) => a.line - b.line);
    out[file] = r;
  }
  return merge({}, out);
}

/**
 * Stryker mutation ranges (`file:first-last`) covering the kept survivors of the files under
 * `prefixes`, to re-test just them. Throws when a survivor's code is no longer on its line: the
 * file changed since it was measured, and only a whole run of it tells the truth.
 */
export function survivorRanges(results: Results, prefixes: readonly string[], sourceOf: (file: string) => string): string[] {
  const ranges = new Set<string>();
  for (const [file, r] of Object.entries(results)) {
    if (!prefixes.some((p) => file.startsWith(p)) || r.survivors.length === 0) continue;
    const lines = sourceOf(file).split('\n');
    for (const s of r.survivors) {
      const span = s.original.split('\n');
      const first = normalise(span[0] ?? '');
      if (!normalise(lines[s.line - 1] ?? '').includes(first)) {
        throw new Error(`${file}:${s.line} no longer holds ${JSON.stringify(first)}: it changed since it was measured; run it whole`);
      }
      ranges.add(`${file}:${s.line}-${s.line + span.length - 1}`);
    }
  }
  return [...ranges];
}

/** The reason kept for a survivor, or null. */
export function reasonFor(reasons: ReasonsFile, file: string, survivor: Survivor): string | null {
  const key = keyOf(file, survivor);
  const known = reasons.survivors.find((s) => keyOf(s.file, s) === key);
  return known === undefined ? null : (reasons.reasons[known.reason] ?? known.reason);
}

/** Reasons kept for mutants that no longer survive (killed since, or code gone): to delete. */
export function staleReasons(results: Results, reasons: ReasonsFile): KnownSurvivor[] {
  const alive = new Set(Object.entries(results).flatMap(([file, r]) => r.survivors.map((s) => keyOf(file, s))));
  return reasons.survivors.filter((s) => results[s.file] !== undefined && !alive.has(keyOf(s.file, s)));
}

/** Survivors with no reason kept. */
export function unexplained(results: Results, reasons: ReasonsFile): { file: string; survivor: Survivor }[] {
  return Object.entries(results).flatMap(([file, r]) =>
    r.survivors.filter((s) => reasonFor(reasons, file, s) === null).map((survivor) => ({ file, survivor })),
  );
}

type Counts = Pick<FileResult, 'mutants' | 'killed' | 'timedOut' | 'survived' | 'noCoverage'>;

/** Stryker's score: detected mutants (killed or timed out) over valid ones. */
export function percent(s: Counts): string {
  return s.mutants === 0 ? '–' : `${((100 * (s.killed + s.timedOut)) / s.mutants).toFixed(1)} %`;
}

/** The counts of every file under `prefix` added up. */
export function total(results: Results, prefix: string): Counts {
  const within = Object.entries(results)
    .filter(([file]) => file.startsWith(prefix))
    .map(([, r]) => r);
  const sum = (pick: (r: Counts) => number): number => within.reduce((n, r) => n + pick(r), 0);
  return {
    mutants: sum((r) => r.mutants),
    killed: sum((r) => r.killed),
    timedOut: sum((r) => r.timedOut),
    survived: sum((r) => r.survived),
    noCoverage: sum((r) => r.noCoverage),
  };
}

function code(text: string): string {
  const flat = normalise(text);
  const short = flat.length > 70 ? `${flat.slice(0, 67)}...` : flat;
  return short.length === 0 ? '(empty)' : `\`${short.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

function prose(text: string): string {
  return normalise(text).replace(/\|/g, '\\|');
}

export function renderSurvivors(results: Results, reasons: ReasonsFile, scopes: readonly string[]): string {
  const row = (c: Counts, name: string, measured = ''): string =>
    `| ${name} | ${c.mutants} | ${c.killed} | ${c.timedOut} | ${c.survived} | ${c.noCoverage} | ${percent(c)} | ${measured} |`;
  const survivors = Object.entries(results).flatMap(([file, r]) => r.survivors.map((s) => ({ file, ...s })));
  const missing = unexplained(results, reasons).length;
  return [
    '# Surviving mutants',
    '',
    '<!-- Generated by `npm run mutate:report` from docs/mutation-results.json and',
    '     docs/mutation-reasons.json: edit the reasons there, not here. -->',
    '',
    'Every mutant that no test detected in the last run over its file, and the reason it is left.',
    'How the runs are made: [mutation.md](mutation.md).',
    '',
    `${survivors.length} survivors; ${survivors.length - missing} with a reason, ${missing} without one yet.`,
    '',
    '## Scores',
    '',
    '| Scope | Mutants | Killed | Timed out | Survived | No coverage | Score | Measured |',
    '|---|--:|--:|--:|--:|--:|--:|---|',
    ...scopes.map((scope) => row(total(results, scope), `**\`${scope}\`**`)),
    ...Object.entries(results).map(([file, r]) => row(r, `\`${file}\``, r.measured)),
    '',
    '## Survivors',
    '',
    '| Where | Mutator | Code | Mutated to | Reason |',
    '|---|---|---|---|---|',
    ...survivors.map((s) => {
      const reason = reasonFor(reasons, s.file, s);
      const where = `\`${s.file}:${s.line}\`${s.status === 'NoCoverage' ? ' (no coverage)' : ''}`;
      return `| ${where} | ${s.mutator} | ${code(s.original)} | ${code(s.replacement)} | ${reason === null ? '**no reason yet**' : prose(reason)} |`;
    }),
    '',
  ].join('\n');
}
