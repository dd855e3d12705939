/**
 * A scripted MCP Inspector session (the dev dependency @modelcontextprotocol/inspector, in --cli
 * mode), the way a developer checks a server by hand: tools/list, then each tool against the
 * demo data, reading the JSON the Inspector prints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEY, DEMO_ORGANIZATION_ID } from '../../src/demo.js';
import { DEMO_COMPLETED_REFUND } from '../support/fixtures.js';
import {
  assertBuilt,
  CLI_PATH,
  cleanupCli,
  createDemoHome,
  INSPECTOR_BIN,
  queryAll,
  runProcess,
  type RunResult,
  type TestHome,
} from '../support/cli.js';

let home: TestHome;

beforeAll(async () => {
  assertBuilt();
  home = await createDemoHome();
});
afterAll(() => cleanupCli());

/** `mcp-inspector --cli -e ... node dist/cli.js --method ...`; the Inspector takes ~1-2 s a call. */
function inspect(method: string[]): Promise<RunResult> {
  const serverEnv = ['-e', `REFUNDKIT_DB_PATH=${home.dbPath}`, '-e', `REFUNDKIT_API_KEY=${DEMO_API_KEY}`];
  return runProcess(
    process.execPath,
    [INSPECTOR_BIN, '--cli', ...serverEnv, process.execPath, CLI_PATH, ...method],
    // The Inspector itself runs with a clean environment too; the server gets only what -e sets
    // (plus the Inspector's own safe defaults).
    home.env(),
    { timeoutMs: 30_000 },
  );
}

function callTool(name: string, args: Record<string, string>): Promise<RunResult> {
  const pairs = Object.entries(args).flatMap(([key, value]) => ['--tool-arg', `${key}=${value}`]);
  return inspect(['--method', 'tools/call', '--tool-name', name, ...pairs]);
}

interface PrintedResult {
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

function printed(result: RunResult): PrintedResult {
  try {
    return JSON.parse(result.stdout) as PrintedResult;
  } catch {
    throw new Error(`the Inspector printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** The tool result's text block, which must carry the same data as structuredContent. */
function textJson(result: PrintedResult): unknown {
  expect(result.content[0]?.type).toBe('text');
  return JSON.parse(result.content[0]!.text);
}

interface RefundJson {
  id: string;
  status: string;
  organizationId: string;
}

describe.concurrent('MCP Inspector CLI against the demo database', () => {
  it('tools/list shows the three tools', async () => {
    const result = await inspect(['--method', 'tools/list']);
    expect(result.code, result.stderr).toBe(0);
    const { tools } = JSON.parse(result.stdout) as { tools: { name: string; description: string; inputSchema: unknown }[] };
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['get_refund', 'list_refunds', 'cancel_refund']));
    for (const tool of tools) {
      expect(tool.description.length).toBeGreaterThan(0);
      expect(tool.inputSchema).toMatchObject({ type: 'object' });
    }
  });

  it('get_refund returns the demo refund', async () => {
    const result = await callTool('get_refund', { refundId: 'ref_demo00000006' });
    expect(result.code, result.stderr).toBe(0);
    const body = printed(result);
    expect(body.isError).toBeFalsy();
    const expected = { refund: DEMO_COMPLETED_REFUND };
    expect(body.structuredContent).toEqual(expected);
    expect(textJson(body)).toEqual(expected);
  });

  it('get_refund for an unknown id is an isError not_found result', async () => {
    const result = await callTool('get_refund', { refundId: 'ref_zzzzzzzzzzzz' });
    // The Inspector exits non-zero when a tool reports isError; it still prints the result.
    expect(result.code).not.toBe(0);
    const body = printed(result);
    expect(body.isError).toBe(true);
    expect(textJson(body)).toEqual({ error: { message: 'Refund not found', code: 'not_found' } });
  });

  it('list_refunds filters by status and pages', async () => {
    const result = await callTool('list_refunds', { status: 'pending', limit: '2' });
    expect(result.code, result.stderr).toBe(0);
    const body = printed(result);
    const page = body.structuredContent as { refunds: RefundJson[]; limit: number; offset: number; nextOffset: number | null };
    expect(page.limit).toBe(2);
    expect(page.offset).toBe(0);
    expect(page.nextOffset).toBe(2);
    expect(page.refunds).toHaveLength(2);
    expect(page.refunds.every((r) => r.status === 'pending' && r.organizationId === DEMO_ORGANIZATION_ID)).toBe(true);
    expect(page.refunds[0]!.id).toBe('ref_demo00000001');
    expect(textJson(body)).toEqual(page);
  });

  it('list_refunds with limit=500 is the reference validation_error', async () => {
    const result = await callTool('list_refunds', { limit: '500' });
    expect(result.code).not.toBe(0);
    expect(textJson(printed(result))).toEqual({
      error: { message: 'Limit must be between 1 and 100', code: 'validation_error' },
    });
  });

  it('cancel_refund cancels a pending refund (initiatedBy mcp on the event)', async () => {
    const result = await callTool('cancel_refund', { refundId: 'ref_demo00000016' });
    expect(result.code, result.stderr).toBe(0);
    const body = printed(result);
    const { refund } = body.structuredContent as { refund: RefundJson };
    expect(refund).toMatchObject({ id: 'ref_demo00000016', status: 'cancelled' });
    expect(textJson(body)).toEqual(body.structuredContent);
    const [last] = queryAll<{ from_status: string; to_status: string; initiated_by: string }>(
      home.dbPath,
      'SELECT * FROM refund_events WHERE refund_id = ? ORDER BY id DESC LIMIT 1',
      'ref_demo00000016',
    );
    expect(last).toMatchObject({ from_status: 'pending', to_status: 'cancelled', initiated_by: 'mcp' });
  });

  it('cancel_refund on a completed refund is refund_not_cancellable', async () => {
    const result = await callTool('cancel_refund', { refundId: 'ref_demo00000011' });
    expect(result.code).not.toBe(0);
    const body = printed(result);
    expect(body.isError).toBe(true);
    expect(body.content[0]!.text).toBe(
      '{"error":{"message":"Refund cannot be cancelled — status is \'completed\'","code":"refund_not_cancellable"}}',
    );
  });
});
