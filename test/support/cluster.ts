/**
 * Several `refundkit-mcp http` processes on one PostgreSQL database behind a round-robin balancer
 * (balancer.ts), with `dispatch` run as its own process, the way docs/postgres.md sets them up.
 * Every process is the built program (npm run build first), spawned through cli.ts so that
 * cleanupCli kills whatever a test leaves running.
 */
import { startBalancer, type Balancer } from './balancer.js';
import { cleanEnv, lastLine, makeTempDir, runCli, type Env } from './cli.js';
import { spawnHttp, type HttpProcess } from './reliability.js';

export interface Cluster {
  processes: HttpProcess[];
  balancer: Balancer;
  /** The environment every process of the cluster runs with. */
  env: Env;
  /** One CLI command against the same database; its last stdout line (fails on a non-zero exit). */
  cli(...args: string[]): Promise<string>;
  /** One pass of `refundkit-mcp dispatch` in a process of its own; its summary line. */
  dispatch(): Promise<string>;
  /** SIGKILL: the process dies with whatever it was doing, as in a crash. */
  kill(index: number): void;
  close(): Promise<void>;
}

export async function startCluster(databaseUrl: string, options: { processes?: number; env?: Env } = {}): Promise<Cluster> {
  const env = cleanEnv(makeTempDir(), {
    REFUNDKIT_DATABASE_URL: databaseUrl,
    // Background work is the dispatch process's: the test decides when it runs.
    REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0',
    // The balancer passes the client's Host (127.0.0.1 and its own port) through, as nginx with
    // `proxy_set_header Host $host` does: the processes must answer to that name.
    REFUNDKIT_HTTP_ALLOWED_HOSTS: '127.0.0.1',
    ...options.env,
  });
  const cli = async (...args: string[]): Promise<string> => {
    const result = await runCli(args, env);
    if (result.code !== 0) throw new Error(`${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return lastLine(result.stdout);
  };
  await cli('init');
  const processes = await Promise.all(Array.from({ length: options.processes ?? 3 }, () => spawnHttp(env)));
  const balancer = await startBalancer(processes.map((p) => p.url));
  return {
    processes,
    balancer,
    env,
    cli,
    dispatch: () => cli('dispatch'),
    kill: (index) => processes[index]?.child.kill('SIGKILL'),
    close: async () => {
      await balancer.close();
      await Promise.all(processes.map((p) => p.stop()));
    },
  };
}
