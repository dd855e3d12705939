/**
 * `npm run bench`: builds, generates a database of 1,000,000 refunds over 20 organizations, and in
 * one run measures RefundKit against baselines measured in the same run:
 *
 *   cold start     spawn → initialize and tools/list answered, median of --starts starts,
 *                  against a minimal MCP server with one trivial tool on the same SDK version
 *                  (the two are started in turn, so load from other processes hits both alike);
 *   warm latency   p50/p99 over --calls sequential calls over stdio per figure: get_refund,
 *                  list_refunds (limit 25 and 100, every filter combination, offsets 0, 10,000
 *                  and 100,000), cancel_refund on pending refunds, against the trivial tool,
 *                  called in alternating blocks of 100 with ours so that both see the same load;
 *   concurrency    32 calls in flight over one stdio connection, calls per second;
 *   REST           GET /v1/refunds/:id and GET /v1/refunds?limit=25, 32 keep-alive connections,
 *                  requests per second, against a bare node:http server answering a fixed JSON
 *                  body of the same size;
 *   peak RSS       VmHWM of each server process at the end of its runs.
 *
 * The servers run with REFUNDKIT_DISPATCH_INTERVAL_SECONDS=0: the background loop (submissions,
 * status reads) would otherwise start working through the database's pending refunds while we
 * measure. Results: one table on stdout, the same as JSON in bench/results/<timestamp>.json.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { BUILD_DIR, CLI_PATH, distModule, median, peakRssMb, quantile, ROOT, sortedCopy } from './common.js';
import { DEFAULT_ROWS, generateDatabase, type GeneratedDatabase } from './generate.js';
import { getOnce, runLoad, type LoadResult } from './http-load.js';
import { measurePostgres } from './postgres-figures.js';
import { startPostgres } from './postgres.js';
import { BLOCK, checkOk, log, mergeLoads, onInterrupt, paired, round3, startProcess, trivialCall, type Series } from './measure.js';
import { figure, formatTable, shortfall, writeReport, type Figure } from './report.js';
import { coldStart, StdioSession, type ServerCommand } from './stdio-client.js';

type RefundStoreModule = typeof import('../src/store/sqlite/refund-store.js');

const { values: options } = parseArgs({
  options: {
    rows: { type: 'string' },
    starts: { type: 'string' },
    calls: { type: 'string' },
    'rest-seconds': { type: 'string' },
    quick: { type: 'boolean' },
    'keep-db': { type: 'boolean' },
    'skip-rest': { type: 'boolean' },
    'node-options': { type: 'string' },
    'postgres-url': { type: 'string' },
    'skip-postgres': { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (options.help === true) {
  process.stdout.write(`Usage: npm run bench [-- options]
  --rows N          refunds to generate (default ${DEFAULT_ROWS.toLocaleString('en-US')})
  --starts N        cold starts per server (default 21)
  --calls N         sequential calls per latency figure (default 2000)
  --rest-seconds N  measured seconds per REST load (default 6)
  --quick           a smoke run: 100,000 rows, 5 starts, 200 calls, 2 s loads
  --keep-db         keep the generated database (its path is printed)
  --skip-rest       skip the REST figures
  --node-options S  NODE_OPTIONS for RefundKit's servers only, e.g. --max-semi-space-size=4
  --postgres-url U  measure PostgreSQL on this server (a role that may create databases); by
                    default a throwaway server is started (scripts/test-postgres.sh)
  --skip-postgres   skip the PostgreSQL figures
`);
  process.exit(0);
}
const quick = options.quick === true;
const ROWS = Number(options.rows ?? (quick ? 100_000 : DEFAULT_ROWS));
const STARTS = Number(options.starts ?? (quick ? 5 : 21));
const CALLS = Number(options.calls ?? (quick ? 200 : 2_000));
const REST_MS = Number(options['rest-seconds'] ?? (quick ? 2 : 6)) * 1000;
const NODE_OPTIONS = options['node-options'];
const CONNECTIONS = 32;
const REST_ROUNDS = 4;
const IN_FLIGHT = 32;
const WARMUP_CALLS = quick ? 300 : 3_000;
const LIST_COMBOS = ['no filter', 'status', 'processor', 'status+processor'] as const;
type Combo = (typeof LIST_COMBOS)[number];
const STATUS_VALUES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
const PROCESSOR_VALUES = ['stripe', 'adyen', 'paypal', 'sandbox'] as const;

const startedAt = new Date();
const figures: Figure[] = [];
const details: Record<string, unknown> = {};
const environment = {
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  loadAverageAtStart: loadavg().map((n) => Number(n.toFixed(2))),
  loadAverageAtEnd: [] as number[],
};

function serverEnv(db: GeneratedDatabase, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(REFUNDKIT_|STRIPE_|NODE_OPTIONS$)/i.test(name)) continue;
    env[name] = value;
  }
  return {
    ...env,
    REFUNDKIT_DB_PATH: db.path,
    REFUNDKIT_API_KEY: db.largest.apiKey,
    // The background loop would start submitting the database's pending refunds mid-measurement.
    REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0',
    ...extra,
  };
}

/** RefundKit's servers get --node-options (to try, e.g., V8 heap flags), the baselines never. */
function oursEnv(db: GeneratedDatabase, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return serverEnv(db, { ...(NODE_OPTIONS === undefined ? {} : { NODE_OPTIONS }), ...extra });
}

function oursCommand(db: GeneratedDatabase): ServerCommand {
  return { command: process.execPath, args: [CLI_PATH], env: oursEnv(db) };
}

function baselineCommand(db: GeneratedDatabase): ServerCommand {
  return { command: process.execPath, args: [join(BUILD_DIR, 'baseline-mcp-server.js')], env: serverEnv(db) };
}

/**
 * What a miss is made of, from profiles of the servers on this kind of machine (see the README's
 * Benchmark section): printed under the table for each target the run missed.
 */
const WHY: Record<string, string> = {
  cold_start:
    'is dist/cli.js the bundle? `npm run build` bundles it (rolldown); tsc alone leaves some 250 modules to load, about 1.2× the minimal server',
  get_refund_p50:
    'on top of the same protocol round trip: the revocation check (PRAGMA data_version, one SQLite read transaction, ~5 µs), input validation, a row lookup by id (~8 µs), a 1 KB answer serialised twice (text and structuredContent) and validated again by the SDK, and a 1 KB write; the trivial tool answers "pong"',
  list_25_0_worst_p50:
    '26 rows read and converted (~70-90 µs in SQLite and better-sqlite3) and ~10 KB of JSON serialised twice (text and structuredContent, ~50 µs) and piped, against a 60-byte answer; the first page does not grow with the table (see the largest-vs-smallest figure)',
  rest_id:
    'per request an API-key check (SHA-256 and PRAGMA data_version, ~5 µs, the row read only when the database changed), a row lookup (~8 µs) and JSON serialisation, on top of the same node:http work (~18 µs); the bare server writes a prebuilt body',
  rest_list:
    'per request 26 rows read and converted (~90 µs) and 10 KB of JSON produced (~30 µs); the bare server writes a prebuilt body (~25 µs per request in all)',
  peak_rss:
    "V8's young generation grows to 32 MB (two 16 MB semi-spaces) under sustained calls and old space holds promoted garbage until the next full GC; the minimal MCP server grows the same way. Node cannot cap the young generation after start: run the server with node --max-semi-space-size=4 (in the client's args or NODE_OPTIONS) where memory is tight",
};

// ---------------------------------------------------------------------------------------------
// The data the calls use: ids of the largest organization, and filter values deep enough

interface Samples {
  ids: string[];
  pending: string[];
}

function sampleIds(db: GeneratedDatabase, pendingCount: number): Samples {
  const sqlite = new Database(db.path, { readonly: true });
  try {
    const ids = sqlite
      .prepare<[string], { id: string }>('SELECT id FROM refunds WHERE organization_id = ? ORDER BY random() LIMIT 5000')
      .all(db.largest.id)
      .map((row) => row.id);
    const pending = sqlite
      .prepare<[string, number], { id: string }>(
        "SELECT id FROM refunds WHERE organization_id = ? AND status = 'pending' AND attempts = 0 ORDER BY random() LIMIT ?",
      )
      .all(db.largest.id, pendingCount)
      .map((row) => row.id);
    return { ids, pending };
  } finally {
    sqlite.close();
  }
}

/** The filter values of a combination that hold at least `rows` refunds in the largest organization. */
function deepEnoughFilters(db: GeneratedDatabase, combo: Combo, rows: number): Array<Record<string, string>> {
  const has = (key: string): boolean => (db.counts[key] ?? 0) >= rows;
  switch (combo) {
    case 'no filter':
      return has('total') ? [{}] : [];
    case 'status':
      return STATUS_VALUES.filter((s) => has(`${s}|`)).map((status) => ({ status }));
    case 'processor':
      return PROCESSOR_VALUES.filter((p) => has(`|${p}`)).map((processor) => ({ processor }));
    case 'status+processor':
      return STATUS_VALUES.flatMap((status) =>
        PROCESSOR_VALUES.filter((p) => has(`${status}|${p}`)).map((processor) => ({ status, processor })),
      );
  }
}

// ---------------------------------------------------------------------------------------------
// Query plans: every filter combination must walk an index, whatever the table's size

const EXPECTED_INDEX: Record<Combo, string> = {
  'no filter': 'refunds_by_org',
  status: 'refunds_by_org_status',
  processor: 'refunds_by_org_processor',
  'status+processor': 'refunds_by_org_status_processor',
};

async function checkPlans(db: GeneratedDatabase): Promise<boolean> {
  const { SqliteRefundStore } = await distModule<RefundStoreModule>('store/sqlite/refund-store.js');
  const sqlite = new Database(db.path, { readonly: true });
  // The store's own SQL, caught as it prepares it, so the plan is the plan of the real query.
  const prepared: string[] = [];
  const spy = new Proxy(sqlite, {
    get(target, property, receiver) {
      if (property === 'prepare') {
        return (sql: string) => {
          prepared.push(sql);
          return target.prepare(sql);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const store = new SqliteRefundStore(spy);
  const plans: Array<{ combo: Combo; offset: number; sql: string; plan: string[]; indexWalk: boolean; expectedIndex: string }> = [];
  let ok = true;
  try {
    for (const combo of LIST_COMBOS) {
      // The store may word a first page and a deep page differently: check both.
      for (const offset of [0, 100_000]) {
        const filter = { ...(combo.includes('status') ? { status: 'completed' as const } : {}), ...(combo.includes('processor') ? { processor: 'stripe' } : {}) };
        const before = prepared.length;
        await store.list(db.largest.id, filter, { limit: 26, offset });
        const sql = prepared.length > before ? (prepared[prepared.length - 1] ?? '') : (plans.find((p) => p.combo === combo)?.sql ?? '');
        const rows = sqlite
          .prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all({ organizationId: db.largest.id, status: filter.status, processor: filter.processor, limit: 26, offset }) as Array<{ detail: string }>;
        const plan = rows.map((row) => row.detail);
        // The page must come from a search on the combination's own index, in its order (no sort
        // of the organization's rows: only a deferred join may sort its page), and nothing may
        // scan the table.
        const sorts = plan.filter((step) => step.includes('TEMP B-TREE')).length;
        const deferred = plan.some((step) => step.startsWith('LIST SUBQUERY'));
        const indexWalk =
          plan.some((step) => new RegExp(`^SEARCH refunds USING (COVERING )?INDEX ${EXPECTED_INDEX[combo]} \\(`).test(step)) &&
          !plan.some((step) => /^SCAN refunds\b/.test(step)) &&
          sorts <= (deferred ? 1 : 0);
        ok &&= indexWalk;
        plans.push({ combo, offset, sql: sql.replace(/\s+/g, ' ').trim(), plan, indexWalk, expectedIndex: EXPECTED_INDEX[combo] });
        log(`  ${indexWalk ? 'ok  ' : 'BAD '} ${combo.padEnd(17)} offset ${String(offset).padEnd(7)} ${plan.join(' | ')}`);
      }
    }
  } finally {
    sqlite.close();
  }
  details.queryPlans = plans;
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Cold start

async function measureColdStart(db: GeneratedDatabase): Promise<void> {
  const ours = oursCommand(db);
  const baseline = baselineCommand(db);
  const oursMs: number[] = [];
  const baselineMs: number[] = [];
  let tools = { ours: 0, baseline: 0 };
  // Two unrecorded starts each warm the OS file cache (node, the SDK, the database pages).
  for (let i = 0; i < STARTS + 2; i += 1) {
    const first = i % 2 === 0;
    const a = await coldStart(first ? ours : baseline);
    const b = await coldStart(first ? baseline : ours);
    const o = first ? a : b;
    const base = first ? b : a;
    tools = { ours: o.tools, baseline: base.tools };
    if (i >= 2) {
      oursMs.push(o.ms);
      baselineMs.push(base.ms);
    }
  }
  const oursSorted = sortedCopy(oursMs);
  const baselineSorted = sortedCopy(baselineMs);
  details.coldStart = { oursMs: oursSorted.map(round3), baselineMs: baselineSorted.map(round3), tools };
  figures.push(
    figure({
      id: 'cold_start',
      label: `cold start to tools/list, median of ${STARTS}`,
      unit: 'ms',
      ours: quantile(oursSorted, 0.5),
      baseline: quantile(baselineSorted, 0.5),
      target: { on: 'ratio', op: '<=', limit: 1.0 },
      samples: STARTS,
    }),
  );
  log(`  ours ${quantile(oursSorted, 0.5).toFixed(1)} ms, baseline ${quantile(baselineSorted, 0.5).toFixed(1)} ms (${tools.ours} vs ${tools.baseline} tools)`);
}

// ---------------------------------------------------------------------------------------------
// Warm latency over stdio

function latencyFigures(id: string, label: string, series: Series, targetP50: Figure['target'], note?: string): void {
  const ours = sortedCopy(series.ours);
  const trivial = sortedCopy(series.trivial);
  figures.push(
    figure({ id: `${id}_p50`, label: `${label} p50`, unit: 'ms', ours: quantile(ours, 0.5), baseline: quantile(trivial, 0.5), target: targetP50, samples: ours.length, ...(note === undefined ? {} : { note }) }),
    figure({ id: `${id}_p99`, label: `${label} p99`, unit: 'ms', ours: quantile(ours, 0.99), baseline: quantile(trivial, 0.99), target: null, samples: ours.length }),
  );
}

async function measureStdio(db: GeneratedDatabase, samples: Samples): Promise<void> {
  const ours = StdioSession.spawn(oursCommand(db));
  const trivial = StdioSession.spawn(baselineCommand(db));
  try {
    await ours.initialize();
    await trivial.initialize();
    let pick = 0;
    const nextId = (): string => {
      pick = (pick + 7919) % samples.ids.length;
      return samples.ids[pick] ?? '';
    };
    const getRefund = async (): Promise<number> => {
      const { ms, result } = await ours.callTool('get_refund', { refundId: nextId() });
      checkOk(result, 'get_refund');
      return ms;
    };
    // Warm-up: the JIT (both servers' hot paths reach optimised code only after a few thousand
    // calls; with 300, the trivial tool measured twice as slow in the first series as later),
    // the statement caches, the page cache.
    for (let i = 0; i < WARMUP_CALLS; i += 1) {
      await getRefund();
      await trivialCall(trivial);
    }

    log(`  get_refund × ${CALLS}`);
    latencyFigures('get_refund', 'get_refund', await paired(trivial, CALLS, getRefund), { on: 'ratio', op: '<=', limit: 1.2 });

    const listDetails: Array<Record<string, unknown>> = [];
    for (const limit of [25, 100]) {
      for (const offset of [0, 10_000, 100_000]) {
        const filtersByCombo = LIST_COMBOS.map((combo) => ({ combo, filters: deepEnoughFilters(db, combo, offset + limit) }));
        const usable = filtersByCombo.filter((c) => c.filters.length > 0);
        const skipped = filtersByCombo.filter((c) => c.filters.length === 0).map((c) => c.combo);
        if (usable.length === 0) {
          log(`  list_refunds limit ${limit} offset ${offset}: no filter has that many rows, skipped`);
          continue;
        }
        const byCombo = new Map<Combo, number[]>(usable.map((c) => [c.combo, []]));
        const call = async (i: number): Promise<number> => {
          const { combo, filters } = usable[i % usable.length] ?? { combo: 'no filter' as const, filters: [{}] };
          const filter = filters[Math.floor(i / usable.length) % filters.length] ?? {};
          const { ms, result } = await ours.callTool('list_refunds', { ...filter, limit, offset });
          const page = checkOk(result, 'list_refunds');
          if ((page.refunds as unknown[]).length !== limit) throw new Error(`list_refunds ${JSON.stringify({ ...filter, offset })} returned a short page`);
          byCombo.get(combo)?.push(ms);
          return ms;
        };
        for (let i = 0; i < (offset >= 100_000 ? 8 : 40); i += 1) await call(i);
        for (const list of byCombo.values()) list.length = 0;
        log(`  list_refunds limit ${limit} offset ${offset.toLocaleString('en-US')} × ${CALLS} (${usable.map((c) => c.combo).join(', ')})`);
        const series = await paired(trivial, CALLS, call);
        const perCombo = [...byCombo.entries()].map(([combo, ms]) => {
          const sorted = sortedCopy(ms);
          return { combo, calls: sorted.length, p50: round3(quantile(sorted, 0.5)), p99: round3(quantile(sorted, 0.99)) };
        });
        const worst = perCombo.reduce((a, b) => (b.p50 > a.p50 ? b : a));
        listDetails.push({ limit, offset, perCombo, skipped, trivialP50: round3(median(series.trivial)) });
        const label = `list_refunds limit ${limit} offset ${offset.toLocaleString('en-US')}`;
        const note = `worst filter combination: ${worst.combo} (p50 ${worst.p50} ms); per combination in details.list${skipped.length > 0 ? `; skipped (too few rows): ${skipped.join(', ')}` : ''}`;
        // The targets: the first page (limit 25) within 1.5× of the trivial tool for EVERY filter
        // combination, so the figure is the worst combination's p50; a deep page under 25 ms.
        if (limit === 25 && offset === 0) {
          const trivialSorted = sortedCopy(series.trivial);
          figures.push(
            figure({ id: 'list_25_0_worst_p50', label: `${label} p50 (worst filter)`, unit: 'ms', ours: worst.p50, baseline: quantile(trivialSorted, 0.5), target: { on: 'ratio', op: '<=', limit: 1.5 }, samples: worst.calls, note }),
            figure({ id: 'list_25_0_p99', label: `${label} p99 (all filters)`, unit: 'ms', ours: quantile(sortedCopy(series.ours), 0.99), baseline: quantile(trivialSorted, 0.99), target: null, samples: series.ours.length }),
          );
        } else if (offset === 100_000) {
          const trivialSorted = sortedCopy(series.trivial);
          figures.push(
            figure({ id: `list_${limit}_${offset}_worst_p50`, label: `${label} p50 (worst filter)`, unit: 'ms', ours: worst.p50, baseline: quantile(trivialSorted, 0.5), target: { on: 'ours', op: '<', limit: 25 }, samples: worst.calls, note }),
            figure({ id: `list_${limit}_${offset}_p99`, label: `${label} p99 (all filters)`, unit: 'ms', ours: quantile(sortedCopy(series.ours), 0.99), baseline: quantile(trivialSorted, 0.99), target: null, samples: series.ours.length }),
          );
        } else {
          latencyFigures(`list_${limit}_${offset}`, `${label} (all filters)`, series, null, note);
        }
      }
    }
    details.list = listDetails;

    // The first page must not depend on how many refunds there are: the same call as the
    // largest organization and as the smallest, in alternating blocks.
    const smallest = db.organizations.reduce((a, b) => (b.refunds < a.refunds ? b : a));
    const small = StdioSession.spawn({ ...oursCommand(db), env: oursEnv(db, { REFUNDKIT_API_KEY: smallest.apiKey }) });
    try {
      await small.initialize();
      const firstPage = (session: StdioSession) => async (): Promise<number> => {
        const { ms, result } = await session.callTool('list_refunds', { limit: 25 });
        checkOk(result, 'list_refunds');
        return ms;
      };
      for (let i = 0; i < WARMUP_CALLS / 3; i += 1) await firstPage(small)();
      const sizes = { large: [] as number[], small: [] as number[] };
      const count = Math.max(BLOCK, Math.floor(CALLS / 2));
      log(`  list_refunds limit 25, largest vs smallest organization × ${count}`);
      for (let done = 0; done < count; done += BLOCK) {
        for (let i = 0; i < BLOCK; i += 1) sizes.large.push(await firstPage(ours)());
        for (let i = 0; i < BLOCK; i += 1) sizes.small.push(await firstPage(small)());
      }
      figures.push(
        figure({
          id: 'list_first_page_by_size',
          label: `list_refunds limit 25 p50, ${Math.round(db.largest.refunds / 1000)}k vs ${Math.round(smallest.refunds / 1000)}k refunds`,
          unit: 'ms',
          ours: median(sizes.large),
          baseline: median(sizes.small),
          target: null,
          samples: sizes.large.length,
          note: `baseline here: the same call as the smallest organization (${smallest.refunds} refunds), in the same server build; a ratio near 1 means the first page does not grow with the table`,
        }),
      );
    } finally {
      await small.close();
    }

    if (samples.pending.length >= CALLS) {
      log(`  cancel_refund × ${CALLS} (pending refunds)`);
      const cancel = async (i: number): Promise<number> => {
        const { ms, result } = await ours.callTool('cancel_refund', { refundId: samples.pending[i] });
        const body = checkOk(result, 'cancel_refund');
        if ((body.refund as { status?: string }).status !== 'cancelled') throw new Error('cancel_refund did not cancel');
        return ms;
      };
      latencyFigures('cancel_refund', 'cancel_refund (pending)', await paired(trivial, CALLS, cancel), null, 'one IMMEDIATE transaction with synchronous=FULL: the fsync of the WAL dominates');
    } else {
      log(`  cancel_refund skipped: only ${samples.pending.length} pending refunds`);
    }

    log(`  ${IN_FLIGHT} calls in flight, get_refund vs the trivial tool`);
    const throughput = async (call: () => Promise<unknown>, ms: number): Promise<{ calls: number; perSecond: number }> => {
      let completed = 0;
      const until = performance.now() + ms;
      const started = performance.now();
      const worker = async (): Promise<void> => {
        while (performance.now() < until) {
          await call();
          completed += 1;
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      return { calls: completed, perSecond: completed / ((performance.now() - started) / 1000) };
    };
    const rounds = quick ? 1 : 2;
    const oursRates: number[] = [];
    const trivialRates: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      oursRates.push((await throughput(getRefund, 2_000)).perSecond);
      trivialRates.push((await throughput(() => trivialCall(trivial), 2_000)).perSecond);
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    figures.push(
      figure({ id: 'concurrent_calls', label: `${IN_FLIGHT} in flight over one stdio connection`, unit: 'calls/s', ours: mean(oursRates), baseline: mean(trivialRates), target: null, note: 'get_refund vs the trivial tool' }),
    );

    const oursRss = await peakRssMb(ours.pid);
    const trivialRss = await peakRssMb(trivial.pid);
    details.rss = { stdio: oursRss, baselineStdio: trivialRss };
  } finally {
    await ours.close();
    await trivial.close();
  }
}

// ---------------------------------------------------------------------------------------------
// REST

function httpCommandAvailable(): boolean {
  const probe = spawnSync(process.execPath, [CLI_PATH, 'http', '--help'], { encoding: 'utf8' });
  return probe.status === 0;
}

async function measureRest(db: GeneratedDatabase, samples: Samples): Promise<void> {
  const ours = await startProcess(process.execPath, [CLI_PATH, 'http', '--port', '0'], oursEnv(db));
  let bare: Awaited<ReturnType<typeof startProcess>> | undefined;
  try {
    const headers = { authorization: `Bearer ${db.largest.apiKey}` };
    const idPaths = samples.ids.slice(0, 1000).map((id) => `/v1/refunds/${id}`);
    const listPath = '/v1/refunds?limit=25';
    const one = await getOnce(ours.port, idPaths[0] ?? '', headers);
    const page = await getOnce(ours.port, listPath, headers);
    if (one.status !== 200 || page.status !== 200) throw new Error(`REST answers ${one.status}/${page.status}: ${one.body.slice(0, 200)} ${page.body.slice(0, 200)}`);
    const idBytes = Buffer.byteLength(one.body);
    const listBytes = Buffer.byteLength(page.body);
    bare = await startProcess(process.execPath, [join(BUILD_DIR, 'bare-http-server.js'), `/v1/refunds/=${idBytes}`, `/v1/refunds?=${listBytes}`], serverEnv(db));
    // Ours and bare take turns in slices, so that load from other processes hits both alike.
    const rounds = quick ? 1 : REST_ROUNDS;
    const load = (port: number, paths: readonly string[], round: number): Promise<LoadResult> =>
      runLoad({ port, paths, headers, connections: CONNECTIONS, durationMs: REST_MS / rounds, warmupMs: round === 0 ? 1_000 : 300 });
    const results: Record<string, LoadResult> = {};
    for (const [name, paths] of [['id', idPaths], ['list', [listPath]]] as const) {
      log(`  GET ${name === 'id' ? '/v1/refunds/:id' : listPath}: ours and bare in ${rounds} turns each (${REST_MS / 1000} s each in all, ${CONNECTIONS} connections)`);
      const oursSlices: LoadResult[] = [];
      const bareSlices: LoadResult[] = [];
      for (let round = 0; round < rounds; round += 1) {
        oursSlices.push(await load(ours.port, paths, round));
        bareSlices.push(await load(bare.port, paths, round));
      }
      results[`ours_${name}`] = mergeLoads(oursSlices);
      results[`bare_${name}`] = mergeLoads(bareSlices);
    }
    for (const [name, label, bytes] of [['id', 'REST GET /v1/refunds/:id', idBytes], ['list', 'REST GET /v1/refunds?limit=25', listBytes]] as const) {
      const o = results[`ours_${name}`];
      const b = results[`bare_${name}`];
      if (o === undefined || b === undefined) continue;
      const bad = o.requests - (o.statuses[200] ?? 0) + o.errors;
      figures.push(
        figure({
          id: `rest_${name}`,
          label,
          unit: 'req/s',
          ours: o.requestsPerSecond,
          baseline: b.requestsPerSecond,
          target: { on: 'ratio', op: '>=', limit: 0.6 },
          samples: o.requests,
          note: `${bytes} B bodies, ${CONNECTIONS} connections; p50 ${o.latencyP50Ms.toFixed(2)} ms vs ${b.latencyP50Ms.toFixed(2)} ms${bad > 0 ? `; ${bad} non-200 answers or errors` : ''}`,
        }),
      );
    }
    details.rest = Object.fromEntries(Object.entries(results).map(([k, r]) => [k, { ...r, requestsPerSecond: Math.round(r.requestsPerSecond) }]));
    (details.rss as Record<string, unknown>).http = await peakRssMb(ours.pid);
    (details.rss as Record<string, unknown>).bareHttp = await peakRssMb(bare.pid);
  } finally {
    await ours.stop();
    await bare?.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL, over the same refunds (bench/postgres-figures.ts)

async function measurePostgresBeside(db: GeneratedDatabase, samples: Samples): Promise<void> {
  const postgres = startPostgres(options['postgres-url']);
  if ('missing' in postgres) {
    log(`PostgreSQL skipped: no server (${postgres.missing}); pass --postgres-url or install PostgreSQL`);
    details.postgres = { skipped: postgres.missing };
    return;
  }
  onInterrupt.add(postgres.stop);
  try {
    const result = await measurePostgres({
      postgres,
      sqlitePath: db.path,
      organizationId: db.largest.id,
      ids: samples.ids,
      filtersHolding: (rows) => LIST_COMBOS.map((combo) => ({ combo, filters: deepEnoughFilters(db, combo, rows) })),
      combos: LIST_COMBOS.map((combo) => ({
        combo,
        index: EXPECTED_INDEX[combo],
        filter: { ...(combo.includes('status') ? { status: 'completed' as const } : {}), ...(combo.includes('processor') ? { processor: 'stripe' } : {}) },
      })),
      oursCommand: (extra = {}) => ({ ...oursCommand(db), env: oursEnv(db, extra) }),
      calls: CALLS,
      warmupCalls: WARMUP_CALLS,
      restMs: REST_MS,
      restRounds: quick ? 1 : REST_ROUNDS,
      connections: CONNECTIONS,
      skipRest: options['skip-rest'] === true || !httpCommandAvailable(),
    });
    figures.push(...result.figures);
    details.postgres = result.details;
  } finally {
    postgres.stop();
    onInterrupt.delete(postgres.stop);
  }
}

// ---------------------------------------------------------------------------------------------

/** What the measured program is: its entry's hash, and whether it is the bundle. */
function buildFingerprint(): { sha256: string; bytes: number; bundled: boolean } {
  const entry = readFileSync(CLI_PATH);
  return {
    sha256: createHash('sha256').update(entry).digest('hex').slice(0, 16),
    bytes: entry.length,
    // tsc's entry is a few lines that import ./commands/main.js; the bundle holds the program.
    bundled: !entry.includes("from './commands/main.js'"),
  };
}

async function main(): Promise<void> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` (npm run bench does)`);
  const build = buildFingerprint();
  if (!build.bundled) log('warning: dist/cli.js is not the bundle (was it built by tsc alone?): `npm run build` bundles it');
  log(`RefundKit bench: ${ROWS.toLocaleString('en-US')} refunds, ${STARTS} cold starts, ${CALLS} calls per latency figure (node ${process.version}, ${environment.cpus} CPUs, load ${environment.loadAverageAtStart.join(' ')})`);
  const dir = mkdtempSync(join(tmpdir(), 'refundkit-bench-'));
  if (options['keep-db'] !== true) onInterrupt.add(() => rmSync(dir, { recursive: true, force: true }));
  let db: GeneratedDatabase | undefined;
  try {
    log('generating the database');
    db = await generateDatabase(join(dir, 'bench.db'), ROWS, log);
    log(`  ${db.rows.toLocaleString('en-US')} refunds and ${db.events.toLocaleString('en-US')} events in ${db.seconds.toFixed(1)} s, ${(db.bytes / 1e6).toFixed(0)} MB; acting as ${db.largest.id} (${db.largest.refunds.toLocaleString('en-US')} refunds)`);
    figures.push(figure({ id: 'generation', label: `generate ${db.rows.toLocaleString('en-US')} refunds`, unit: 's', ours: db.seconds, baseline: null, target: { on: 'ours', op: '<', limit: 60 }, note: `${db.events} audit events, ${(db.bytes / 1e6).toFixed(0)} MB` }));
    const samples = sampleIds(db, CALLS + 10);

    log('query plans of list_refunds');
    const plansOk = await checkPlans(db);
    const plans = details.queryPlans as Array<{ indexWalk: boolean }>;
    figures.push(figure({ id: 'query_plans', label: 'list_refunds plans that walk their index', unit: 'plans', ours: plans.filter((p) => p.indexWalk).length, baseline: null, target: { on: 'ours', op: '>=', limit: plans.length }, note: 'EXPLAIN QUERY PLAN of the store\'s own SQL, every filter combination, offsets 0 and 100,000; in details.queryPlans' }));
    if (!plansOk) log('  a filter combination does not walk its index: see details.queryPlans');

    log(`cold start × ${STARTS} each (ours and the minimal MCP server in turn)`);
    await measureColdStart(db);

    log('warm calls over stdio (ours and the trivial tool in alternating blocks of 100)');
    await measureStdio(db, samples);

    if (options['skip-rest'] === true) log('REST skipped (--skip-rest)');
    else if (!httpCommandAvailable()) log('REST skipped: this build has no `http` command');
    else {
      log('REST throughput');
      await measureRest(db, samples);
    }

    if (options['skip-postgres'] === true) log('PostgreSQL skipped (--skip-postgres)');
    else await measurePostgresBeside(db, samples);

    const rss = details.rss as Record<string, number | null | undefined>;
    const oursPeak = Math.max(rss.stdio ?? 0, rss.http ?? 0);
    const basePeak = Math.max(rss.baselineStdio ?? 0, rss.bareHttp ?? 0);
    figures.push(figure({ id: 'peak_rss', label: 'peak RSS of the server (VmHWM)', unit: 'MB', ours: oursPeak, baseline: basePeak, target: { on: 'ours', op: '<=', limit: 120 }, note: `stdio ${rss.stdio?.toFixed(1) ?? '–'} MB, http ${rss.http?.toFixed(1) ?? '–'} MB; baseline: the minimal MCP server ${rss.baselineStdio?.toFixed(1) ?? '–'} MB, bare http ${rss.bareHttp?.toFixed(1) ?? '–'} MB` }));

    environment.loadAverageAtEnd = loadavg().map((n) => Number(n.toFixed(2)));
    const buildAtEnd = buildFingerprint();
    if (buildAtEnd.sha256 !== build.sha256) log('warning: dist/cli.js changed during the run (another build?): the figures may mix two builds');
    const table = formatTable(figures);
    process.stdout.write(`\n${table}\n\n`);
    for (const f of figures) if (f.note !== undefined) process.stdout.write(`- ${f.label}: ${f.note}\n`);
    const misses = figures.filter((f) => f.pass === false);
    if (misses.length > 0) process.stdout.write('\nMissed targets:\n');
    for (const f of misses) {
      const why = WHY[f.id];
      if (why !== undefined) f.why = why;
      process.stdout.write(`- ${f.label}: ${shortfall(f) ?? ''}${why === undefined ? '' : `. Where it goes: ${why}`}\n`);
    }
    const path = writeReport(
      {
        version: 1,
        startedAt: startedAt.toISOString(),
        seconds: (Date.now() - startedAt.getTime()) / 1000,
        environment,
        build: { ...build, changedDuringRun: buildAtEnd.sha256 !== build.sha256 },
        settings: { nodeOptions: NODE_OPTIONS ?? null, rows: ROWS, organizations: db.organizations.length, starts: STARTS, calls: CALLS, restSeconds: REST_MS / 1000, connections: CONNECTIONS, inFlight: IN_FLIGHT, dispatchIntervalSeconds: 0 },
        database: { rows: db.rows, events: db.events, bytes: db.bytes, generationSeconds: db.seconds, largestOrganization: { id: db.largest.id, refunds: db.largest.refunds }, largestOrganizationCounts: db.counts, organizations: db.organizations.map((o) => ({ id: o.id, refunds: o.refunds })) },
        figures,
        table,
        details,
      },
      startedAt,
    );
    process.stdout.write(`\nwritten to ${path.slice(ROOT.length + 1)} (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s in all; load ${environment.loadAverageAtEnd.join(' ')})\n`);
  } finally {
    if (options['keep-db'] === true && db !== undefined) log(`database kept: ${db.path}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
