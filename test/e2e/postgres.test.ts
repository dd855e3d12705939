/**
 * The built program against PostgreSQL (REFUNDKIT_DATABASE_URL), as an operator and clients run
 * it: every CLI command (init, orgs, keys, policy, approvals, dispatch), the stdio server, and
 * `http` (health, REST), a key revoked by the CLI refused by the running server at its next call,
 * a graceful stop. The URL's password appears in no output.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_API_KEY, DEMO_ORGANIZATION_ID } from '../../src/demo.js';
import { migrations } from '../../src/store/postgres/migrations/index.js';
import { assertBuilt, callTool, cleanEnv, cleanupCli, CLI_PATH, connectServer, disconnect, lastLine, makeTempDir, ROOT, runCli, type Env } from '../support/cli.js';
import { bearer, JSON_HEADERS, raw } from '../support/http-server.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/postgres.js';

const PASSWORD = 'refundkit_test_only';

describePostgres('refundkit-mcp on PostgreSQL', () => {
  let database: TestDatabase;
  let env: Env;
  let http: ChildProcessWithoutNullStreams | undefined;

  beforeAll(async () => {
    assertBuilt();
    database = await createTestDatabase({ migrated: false });
    env = cleanEnv(makeTempDir(), { REFUNDKIT_DATABASE_URL: database.url, REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0' });
  });
  afterAll(async () => {
    if (http !== undefined && http.exitCode === null) http.kill('SIGKILL');
    await cleanupCli();
    await database.drop();
  });

  async function cli(...args: string[]): Promise<string> {
    const result = await runCli(args, env);
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    return result.stdout;
  }

  function startHttp(): Promise<{ url: string; stderr: () => string; exited: Promise<number | null> }> {
    const child = spawn(process.execPath, [CLI_PATH, 'http', '--port', '0'], { env, cwd: ROOT, stdio: 'pipe' });
    http = child;
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL within 20 s; stderr: ${stderr}`)), 20_000);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (!stdout.includes('\n')) return;
        clearTimeout(timer);
        resolve({ url: stdout.split('\n')[0]!.trim(), stderr: () => stderr, exited });
      });
    });
  }

  it('every operator command, the stdio server and the HTTP server work against it', async () => {
    const latest = migrations.length;
    expect(await cli('init')).toMatch(
      new RegExp(`^database ready: postgres://refundkit_test:…\\[redacted\\]@127\\.0\\.0\\.1:\\d+/refundkit_t_\\w+\\?options=\\S+ \\(schema version ${latest}\\)$`, 'm'),
    );
    expect(lastLine(await cli('init', '--demo'))).toBe(DEMO_API_KEY);
    // The dashboard's operators live in PostgreSQL too.
    expect(await cli('operators', 'list')).toContain('demo@refundkit.invalid');
    const org = lastLine(await cli('orgs', 'create', '--name', 'Acme'));
    await cli('operators', 'create', '--org', org, '--email', 'ana@example.com', '--name', 'Ana');
    expect(await cli('operators', 'list', '--org', org)).toContain('ana@example.com');
    expect(await cli('orgs', 'list')).toContain(`${org}\t`);
    const key = lastLine(await cli('keys', 'create', '--name', 'Test agent', '--org', org, '--mode', 'test'));
    const keyId = /^(key_\w+)\t/m.exec(await cli('keys', 'list', '--org', org))?.[1];
    expect(keyId).toBeDefined();
    expect(JSON.parse(await cli('policy', 'show', '--org', org))).toHaveProperty('currencies');
    await cli('policy', 'set', '--org', org, '--as', 'ana', '--currency', 'usd', '--approval-above', '1000');
    await cli('approvals', 'list', '--org', DEMO_ORGANIZATION_ID);
    await cli('dispatch');
    await cli('discrepancies');
    await cli('policy', 'refusals', '--org', org);

    const stdio = await connectServer(cleanEnv(makeTempDir(), { REFUNDKIT_DATABASE_URL: database.url, REFUNDKIT_API_KEY: DEMO_API_KEY }));
    const got = await callTool(stdio, 'get_refund', { refundId: 'ref_demo00000006' });
    expect(got.isError ?? false, JSON.stringify(got)).toBe(false);
    expect(stdio.stderr()).not.toContain(PASSWORD);
    await disconnect(stdio);

    const server = await startHttp();
    expect((await raw(`${server.url}/healthz`)).status).toBe(200);
    const created = await raw(`${server.url}/v1/refunds`, {
      method: 'POST',
      headers: { ...bearer(key), ...JSON_HEADERS, 'idempotency-key': 'pg-e2e-1' },
      body: JSON.stringify({ transactionId: 'ch_pg_e2e', amount: 1200, currency: 'usd', reason: 'duplicate_charge' }),
    });
    expect(created.status, created.text).toBe(200);
    const listed = await raw(`${server.url}/v1/refunds`, { headers: bearer(key) });
    expect((listed.json() as { data: Array<{ transactionId: string }> }).data.map((r) => r.transactionId)).toEqual(['ch_pg_e2e']);

    // Revoked by another process (the CLI): refused at the server's very next call.
    await cli('keys', 'revoke', '--id', keyId!);
    expect((await raw(`${server.url}/v1/refunds`, { headers: bearer(key) })).status).toBe(401);

    http?.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.stderr()).not.toContain(PASSWORD);
    expect(server.stderr()).toContain('serving HTTP');
  });
});
