/**
 * The PostgreSQL figures of `npm run bench`, beside the SQLite ones of the same run and over the
 * same refunds (bench/postgres.ts copies them):
 *
 *   plans        EXPLAIN of the store's own list SQL on 1,000,000 refunds, every filter, offsets
 *                0 and 100,000;
 *   list         list_refunds limit 25 at offsets 0 and 100,000 over stdio (worst filter
 *                combination), the PostgreSQL server and the SQLite server called in alternating
 *                blocks, so that the SQLite figure is the baseline under the same load;
 *   get_refund   the same way;
 *   REST         GET /v1/refunds/:id and ?limit=25 from one `http` process on PostgreSQL against
 *                one on SQLite, then three processes on the one PostgreSQL (the load spread over
 *                their ports, as a round-robin balancer would) against one, in turns.
 */
import { CLI_PATH, median, quantile, sortedCopy } from './common.js';
import { runLoad, type LoadResult } from './http-load.js';
import { BLOCK, checkOk, log, mergeLoads, round3, startProcess, type Series } from './measure.js';
import { checkPostgresPlans, copyToPostgres, type BenchPostgres } from './postgres.js';
import { figure, type Figure } from './report.js';
import { StdioSession, type ServerCommand } from './stdio-client.js';

export interface PostgresBenchContext {
  postgres: BenchPostgres;
  sqlitePath: string;
  organizationId: string;
  /** The refunds ids get_refund and GET /:id ask for. */
  ids: readonly string[];
  /** The filter values of each combination that hold at least `rows` refunds. */
  filtersHolding: (rows: number) => Array<{ combo: string; filters: Array<Record<string, string>> }>;
  combos: ReadonlyArray<{ combo: string; index: string; filter: { status?: 'completed'; processor?: string } }>;
  /** The command of RefundKit's stdio server with extra environment (on SQLite unless told). */
  oursCommand: (extra?: Record<string, string>) => ServerCommand;
  calls: number;
  warmupCalls: number;
  restMs: number;
  restRounds: number;
  connections: number;
  skipRest: boolean;
}

export interface PostgresBenchResult {
  figures: Figure[];
  details: Record<string, unknown>;
}

export async function measurePostgres(ctx: PostgresBenchContext): Promise<PostgresBenchResult> {
  const figures: Figure[] = [];
  const details: Record<string, unknown> = {};
  log('PostgreSQL: copying the refunds into a fresh database');
  const copy = await copyToPostgres(ctx.sqlitePath, ctx.postgres.adminUrl, (line) => log(line));
  try {
    details.copy = { rows: copy.rows, seconds: round3(copy.seconds) };
    figures.push(figure({ id: 'pg_copy', label: `PostgreSQL: copy ${(copy.rows.refunds ?? 0).toLocaleString('en-US')} refunds`, unit: 's', ours: copy.seconds, baseline: null, target: null, note: 'the same rows as the SQLite database (organizations, keys, policies, refunds; not the audit trail), indexes built after the load, then VACUUM ANALYZE' }));

    log('PostgreSQL: query plans of list_refunds');
    const plans = await checkPostgresPlans(copy.url, ctx.organizationId, ctx.combos);
    for (const plan of plans) log(`  ${plan.indexWalk ? 'ok  ' : 'BAD '} ${plan.combo.padEnd(17)} offset ${String(plan.offset).padEnd(7)} ${plan.nodes.join(' > ')}`);
    details.queryPlans = plans;
    figures.push(figure({ id: 'pg_query_plans', label: 'PostgreSQL: list_refunds plans that walk their index', unit: 'plans', ours: plans.filter((p) => p.indexWalk).length, baseline: null, target: { on: 'ours', op: '>=', limit: plans.length }, note: "EXPLAIN (FORMAT JSON) of the store's own SQL on the copied table, every filter combination, offsets 0 and 100,000; in details.postgres.queryPlans" }));

    log('PostgreSQL: warm calls over stdio (the PostgreSQL and the SQLite server in alternating blocks)');
    await measureStdio(ctx, copy.url, figures, details);

    if (ctx.skipRest) log('PostgreSQL: REST skipped (--skip-rest)');
    else await measureRest(ctx, copy.url, figures, details);
  } finally {
    await copy.drop();
  }
  return { figures, details };
}

/** `count` calls of each, alternating in blocks of BLOCK, so that both see the same machine. */
async function alternate(count: number, pg: (i: number) => Promise<number>, sqlite: (i: number) => Promise<number>): Promise<Series> {
  const series: Series = { ours: [], trivial: [] };
  for (let done = 0; done < count; done += BLOCK) {
    const n = Math.min(BLOCK, count - done);
    for (let i = 0; i < n; i += 1) series.ours.push(await pg(done + i));
    for (let i = 0; i < n; i += 1) series.trivial.push(await sqlite(done + i));
  }
  return series;
}

async function measureStdio(ctx: PostgresBenchContext, url: string, figures: Figure[], details: Record<string, unknown>): Promise<void> {
  const pgSession = StdioSession.spawn(ctx.oursCommand({ REFUNDKIT_DATABASE_URL: url }));
  const sqliteSession = StdioSession.spawn(ctx.oursCommand());
  try {
    await pgSession.initialize();
    await sqliteSession.initialize();
    const getRefund = (session: StdioSession) => async (i: number): Promise<number> => {
      const { ms, result } = await session.callTool('get_refund', { refundId: ctx.ids[(i * 7919) % ctx.ids.length] });
      checkOk(result, 'get_refund');
      return ms;
    };
    for (let i = 0; i < ctx.warmupCalls; i += 1) {
      await getRefund(pgSession)(i);
      await getRefund(sqliteSession)(i);
    }
    log(`  get_refund × ${ctx.calls}`);
    const gets = await alternate(ctx.calls, getRefund(pgSession), getRefund(sqliteSession));
    figures.push(pairFigure('pg_get_refund_p50', 'PostgreSQL: get_refund p50', gets, null, 'baseline: the same call to the SQLite server, in alternating blocks of 100'));

    const lists: Array<Record<string, unknown>> = [];
    for (const offset of [0, 100_000]) {
      const usable = ctx.filtersHolding(offset + 25).filter((c) => c.filters.length > 0);
      if (usable.length === 0) {
        log(`  list_refunds offset ${offset}: no filter has that many rows, skipped`);
        continue;
      }
      const byCombo = new Map<string, { pg: number[]; sqlite: number[] }>(usable.map((c) => [c.combo, { pg: [], sqlite: [] }]));
      const list = (session: StdioSession, side: 'pg' | 'sqlite') => async (i: number): Promise<number> => {
        const { combo, filters } = usable[i % usable.length] ?? { combo: 'no filter', filters: [{}] };
        const filter = filters[Math.floor(i / usable.length) % filters.length] ?? {};
        const { ms, result } = await session.callTool('list_refunds', { ...filter, limit: 25, offset });
        const page = checkOk(result, 'list_refunds');
        if ((page.refunds as unknown[]).length !== 25) throw new Error(`list_refunds ${JSON.stringify({ ...filter, offset })} returned a short page`);
        byCombo.get(combo)?.[side].push(ms);
        return ms;
      };
      const calls = offset === 0 ? ctx.calls : Math.max(BLOCK, Math.floor(ctx.calls / 4));
      for (let i = 0; i < (offset === 0 ? 40 : 8); i += 1) {
        await list(pgSession, 'pg')(i);
        await list(sqliteSession, 'sqlite')(i);
      }
      for (const entry of byCombo.values()) entry.pg.length = entry.sqlite.length = 0;
      log(`  list_refunds limit 25 offset ${offset.toLocaleString('en-US')} × ${calls} (${usable.map((c) => c.combo).join(', ')})`);
      await alternate(calls, list(pgSession, 'pg'), list(sqliteSession, 'sqlite'));
      const perCombo = [...byCombo.entries()].map(([combo, ms]) => ({
        combo,
        calls: ms.pg.length,
        pgP50: round3(median(ms.pg)),
        sqliteP50: round3(median(ms.sqlite)),
      }));
      const worst = perCombo.reduce((a, b) => (b.pgP50 > a.pgP50 ? b : a));
      lists.push({ offset, calls, perCombo });
      const label = `PostgreSQL: list_refunds limit 25 offset ${offset.toLocaleString('en-US')} p50 (worst filter)`;
      const note = `worst filter combination: ${worst.combo}; baseline: the SQLite server's p50 for it, in alternating blocks; per combination in details.postgres.list`;
      figures.push(
        figure({
          id: `pg_list_25_${offset}_worst_p50`,
          label,
          unit: 'ms',
          ours: worst.pgP50,
          baseline: worst.sqliteP50,
          // The deep page has the same bound as on SQLite; the first page is compared, not bounded.
          target: offset === 0 ? null : { on: 'ours', op: '<', limit: 25 },
          samples: worst.calls,
          note,
        }),
      );
    }
    details.list = lists;
  } finally {
    await pgSession.close();
    await sqliteSession.close();
  }
}

function pairFigure(id: string, label: string, series: Series, target: Figure['target'], note: string): Figure {
  const pgSorted = sortedCopy(series.ours);
  return figure({ id, label, unit: 'ms', ours: quantile(pgSorted, 0.5), baseline: quantile(sortedCopy(series.trivial), 0.5), target, samples: pgSorted.length, note });
}

type Server = Awaited<ReturnType<typeof startProcess>>;

/** One load spread over the servers' ports (connections split evenly), as one result. */
async function spreadLoad(servers: readonly Server[], paths: readonly string[], headers: Record<string, string>, ctx: PostgresBenchContext, durationMs: number, warmupMs: number): Promise<LoadResult> {
  const share = Math.max(1, Math.floor(ctx.connections / servers.length));
  const results = await Promise.all(
    servers.map((server, i) =>
      runLoad({ port: server.port, paths, headers, connections: i === 0 ? ctx.connections - share * (servers.length - 1) : share, durationMs, warmupMs }),
    ),
  );
  const requests = results.reduce((sum, r) => sum + r.requests, 0);
  const seconds = Math.max(...results.map((r) => r.seconds));
  const statuses: Record<number, number> = {};
  for (const r of results) for (const [code, n] of Object.entries(r.statuses)) statuses[Number(code)] = (statuses[Number(code)] ?? 0) + n;
  return {
    requests,
    seconds,
    requestsPerSecond: results.reduce((sum, r) => sum + r.requestsPerSecond, 0),
    statuses,
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    bodyBytes: results[0]?.bodyBytes ?? -1,
    latencyP50Ms: median(results.map((r) => r.latencyP50Ms)),
    latencyP99Ms: Math.max(...results.map((r) => r.latencyP99Ms)),
  };
}

async function measureRest(ctx: PostgresBenchContext, url: string, figures: Figure[], details: Record<string, unknown>): Promise<void> {
  log('PostgreSQL: REST throughput, 1 process on SQLite, 1 and 3 on PostgreSQL');
  const env = (extra: Record<string, string>): NodeJS.ProcessEnv => ctx.oursCommand(extra).env;
  const http = [CLI_PATH, 'http', '--port', '0'];
  const servers: Server[] = [];
  try {
    const sqlite = await startProcess(process.execPath, http, env({}));
    servers.push(sqlite);
    // Each migrates at start (under an advisory lock: the later ones find nothing to do); none dispatches.
    const pg: Server[] = [];
    for (let i = 0; i < 3; i += 1) {
      const server = await startProcess(process.execPath, http, env({ REFUNDKIT_DATABASE_URL: url }));
      servers.push(server);
      pg.push(server);
    }
    const headers = { authorization: `Bearer ${ctx.oursCommand().env.REFUNDKIT_API_KEY ?? ''}` };
    const idPaths = ctx.ids.slice(0, 1000).map((id) => `/v1/refunds/${id}`);
    const listPath = ['/v1/refunds?limit=25'];
    const setups: Array<[string, readonly Server[]]> = [['sqlite1', [sqlite]], ['pg1', pg.slice(0, 1)], ['pg3', pg]];
    const results: Record<string, LoadResult> = {};
    for (const [name, paths] of [['id', idPaths], ['list', listPath]] as const) {
      log(`  GET ${name === 'id' ? '/v1/refunds/:id' : listPath[0] ?? ''}: SQLite ×1, PostgreSQL ×1 and ×3 in ${ctx.restRounds} turns each`);
      const slices: Record<string, LoadResult[]> = { sqlite1: [], pg1: [], pg3: [] };
      for (let round = 0; round < ctx.restRounds; round += 1) {
        for (const [setup, group] of setups) {
          slices[setup]?.push(await spreadLoad(group, paths, headers, ctx, ctx.restMs / ctx.restRounds, round === 0 ? 1_000 : 300));
        }
      }
      for (const [setup] of setups) results[`${setup}_${name}`] = mergeLoads(slices[setup] ?? []);
    }
    for (const [name, label] of [['id', 'GET /v1/refunds/:id'], ['list', 'GET /v1/refunds?limit=25']] as const) {
      const s1 = results[`sqlite1_${name}`];
      const p1 = results[`pg1_${name}`];
      const p3 = results[`pg3_${name}`];
      if (s1 === undefined || p1 === undefined || p3 === undefined) continue;
      const bad = (r: LoadResult): number => r.requests - (r.statuses[200] ?? 0) + r.errors;
      const problems = bad(p1) + bad(p3) + bad(s1);
      figures.push(
        figure({ id: `pg_rest_${name}`, label: `PostgreSQL: REST ${label}, 1 process`, unit: 'req/s', ours: p1.requestsPerSecond, baseline: s1.requestsPerSecond, target: null, samples: p1.requests, note: `baseline: one process on SQLite; p50 ${p1.latencyP50Ms.toFixed(2)} ms vs ${s1.latencyP50Ms.toFixed(2)} ms${problems > 0 ? `; ${problems} non-200 answers or errors` : ''}` }),
        figure({ id: `pg_rest_${name}_3`, label: `PostgreSQL: REST ${label}, 3 processes`, unit: 'req/s', ours: p3.requestsPerSecond, baseline: p1.requestsPerSecond, target: null, samples: p3.requests, note: `baseline: one process on the same PostgreSQL; ${ctx.connections} connections spread over the three ports; on this machine the processes, PostgreSQL and the load generator share the same cores` }),
      );
    }
    details.rest = Object.fromEntries(Object.entries(results).map(([k, r]) => [k, { ...r, requestsPerSecond: Math.round(r.requestsPerSecond) }]));
  } finally {
    for (const server of servers) await server.stop();
  }
}
