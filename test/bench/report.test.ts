import { describe, expect, it } from 'vitest';
import { figure, formatTable, shortfall } from '../../bench/report.js';

describe('figure', () => {
  it('computes the ratio to the baseline and checks a ratio target', () => {
    const f = figure({ id: 'x', label: 'x', unit: 'ms', ours: 0.3, baseline: 0.2, target: { on: 'ratio', op: '<=', limit: 1.2 } });
    expect(f.ratio).toBeCloseTo(1.5);
    expect(f.pass).toBe(false);
    expect(figure({ ...f, ours: 0.2 }).pass).toBe(true);
  });

  it('checks a target on our value alone, and "under" is strict', () => {
    const target = { on: 'ours', op: '<', limit: 25 } as const;
    expect(figure({ id: 'deep', label: 'deep', unit: 'ms', ours: 24.9, baseline: 0.05, target }).pass).toBe(true);
    expect(figure({ id: 'deep', label: 'deep', unit: 'ms', ours: 25, baseline: 0.05, target }).pass).toBe(false);
  });

  it('"at least" targets pass at the limit and above', () => {
    const target = { on: 'ratio', op: '>=', limit: 0.6 } as const;
    expect(figure({ id: 'r', label: 'r', unit: 'req/s', ours: 600, baseline: 1000, target }).pass).toBe(true);
    expect(figure({ id: 'r', label: 'r', unit: 'req/s', ours: 599, baseline: 1000, target }).pass).toBe(false);
  });

  it('has no ratio without a baseline and no verdict without a target', () => {
    const f = figure({ id: 'g', label: 'g', unit: 's', ours: 30, baseline: null, target: null });
    expect(f.ratio).toBeNull();
    expect(f.pass).toBeNull();
  });
});

describe('shortfall', () => {
  it('says by how much a ratio target is missed, over or short', () => {
    const over = figure({ id: 'a', label: 'a', unit: 'ms', ours: 0.3, baseline: 0.1, target: { on: 'ratio', op: '<=', limit: 1.5 } });
    expect(shortfall(over)).toBe('3.00× against ≤ 1.5×: 100% over');
    const short = figure({ id: 'b', label: 'b', unit: 'req/s', ours: 300, baseline: 1000, target: { on: 'ratio', op: '>=', limit: 0.6 } });
    expect(shortfall(short)).toBe('0.30× against ≥ 0.6×: 50% short');
  });

  it('shows an absolute target in its unit, and nothing for a pass', () => {
    const rss = figure({ id: 'rss', label: 'rss', unit: 'MB', ours: 132, baseline: 110, target: { on: 'ours', op: '<=', limit: 120 } });
    expect(shortfall(rss)).toBe('132.0 MB against ≤ 120.0 MB: 10% over');
    expect(shortfall(figure({ ...rss, ours: 100 }))).toBeNull();
  });
});

describe('formatTable', () => {
  it('prints one aligned Markdown row per figure with the verdict', () => {
    const table = formatTable([
      figure({ id: 'c', label: 'cold start', unit: 'ms', ours: 180, baseline: 270, target: { on: 'ratio', op: '<=', limit: 1 } }),
      figure({ id: 'r', label: 'REST', unit: 'req/s', ours: 11_000, baseline: 33_000, target: { on: 'ratio', op: '>=', limit: 0.6 } }),
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[2]).toMatch(/^\| cold start +\| +180\.0 ms \| +270\.0 ms \| +0\.67× \| +≤ 1\.0× \| +pass \|$/);
    expect(lines[3]).toMatch(/^\| REST +\| +11,000 req\/s \| +33,000 req\/s \| +0\.33× \| +≥ 0\.6× \| +MISS \|$/);
  });
});
