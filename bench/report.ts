/**
 * The benchmark's result: one list of figures, each with RefundKit's value, the baseline measured
 * in the same run, their ratio and the target. Printed as one table and written as JSON to
 * bench/results/<timestamp>.json so that runs can be compared.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR } from './common.js';

export type Unit = 'ms' | 'calls/s' | 'req/s' | 'MB' | 's' | 'plans';

export interface Target {
  /** What is compared with the limit: the ratio ours/baseline, or our value alone. */
  on: 'ratio' | 'ours';
  /** at most (≤) or at least (≥) or under (<). */
  op: '<=' | '>=' | '<';
  limit: number;
}

export interface Figure {
  id: string;
  label: string;
  unit: Unit;
  ours: number;
  baseline: number | null;
  /** ours / baseline. */
  ratio: number | null;
  target: Target | null;
  pass: boolean | null;
  /** How many samples (starts, calls, requests) the value rests on. */
  samples?: number;
  note?: string;
  /** For a missed target: where the time (or memory) goes. */
  why?: string;
}

/** How far a missed figure is from its target, e.g. "2.26× against ≤ 1.2×: 88% over". */
export function shortfall(f: Figure): string | null {
  if (f.pass !== false || f.target === null) return null;
  const value = f.target.on === 'ratio' ? f.ratio : f.ours;
  if (value === null) return null;
  const { op, limit } = f.target;
  const shown = f.target.on === 'ratio' ? `${value.toFixed(2)}×` : formatValue(value, f.unit);
  const by = op === '>=' ? `${Math.round((1 - value / limit) * 100)}% short` : `${Math.round((value / limit - 1) * 100)}% over`;
  return `${shown} against ${formatTarget(f.target, f.unit)}: ${by}`;
}

export function figure(fields: Omit<Figure, 'ratio' | 'pass'>): Figure {
  const ratio = fields.baseline === null || fields.baseline === 0 ? null : fields.ours / fields.baseline;
  let pass: boolean | null = null;
  if (fields.target !== null) {
    const value = fields.target.on === 'ratio' ? ratio : fields.ours;
    if (value !== null) {
      const { op, limit } = fields.target;
      pass = op === '<=' ? value <= limit : op === '>=' ? value >= limit : value < limit;
    }
  }
  return { ...fields, ratio, pass };
}

function formatValue(value: number | null, unit: Unit): string {
  if (value === null || Number.isNaN(value)) return '–';
  if (unit === 'ms') return `${value < 10 ? value.toFixed(3) : value.toFixed(1)} ms`;
  if (unit === 'MB') return `${value.toFixed(1)} MB`;
  if (unit === 's') return `${value.toFixed(1)} s`;
  return `${Math.round(value).toLocaleString('en-US')} ${unit}`;
}

export function formatTarget(target: Target | null, unit: Unit): string {
  if (target === null) return '';
  const op = target.op === '<=' ? '≤' : target.op === '>=' ? '≥' : '<';
  return target.on === 'ratio' ? `${op} ${target.limit.toFixed(1)}×` : `${op} ${formatValue(target.limit, unit)}`;
}

/** The table as Markdown (it reads well in a terminal too). */
export function formatTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.label,
    formatValue(f.ours, f.unit),
    formatValue(f.baseline, f.unit),
    f.ratio === null ? '' : `${f.ratio.toFixed(2)}×`,
    formatTarget(f.target, f.unit),
    f.pass === null ? '' : f.pass ? 'pass' : 'MISS',
  ]);
  const header = ['figure', 'ours', 'baseline', 'ratio', 'target', 'result'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function writeReport(report: Record<string, unknown>, startedAt: Date): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
  const path = join(RESULTS_DIR, `${stamp}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
