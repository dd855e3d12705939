/**
 * invalidParams: a known request whose params do not fit its method is named, with its id; every
 * other message (fitting params, unknown methods, notifications, responses) passes.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { invalidParams } from '../../src/mcp/params-check.js';

const message = (value: unknown): JSONRPCMessage => value as JSONRPCMessage;

describe('invalidParams', () => {
  it.each([
    [{ jsonrpc: '2.0', id: 1, method: 'tools/call' }, 'Invalid params for tools/call: params: '],
    [{ jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 5 } }, 'Invalid params for tools/call: params.name: '],
    [{ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { cursor: 5 } }, 'Invalid params for tools/list: params.cursor: '],
    [{ jsonrpc: '2.0', id: 3, method: 'initialize', params: { protocolVersion: 7 } }, 'Invalid params for initialize: params.'],
  ])('names the param of %j', (request, prefix) => {
    const problem = invalidParams(message(request));
    expect(problem?.id).toBe(request.id);
    expect(problem?.message.startsWith(prefix), problem?.message).toBe(true);
    expect(problem?.message).not.toMatch(/\n/);
  });

  it.each([
    { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_refund', arguments: {} } },
    { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    { jsonrpc: '2.0', id: 1, method: 'ping' },
    { jsonrpc: '2.0', id: 1, method: 'no/such/method', params: { anything: true } },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 1, result: {} },
    { jsonrpc: '2.0', id: 1, error: { code: 1, message: 'x' } },
  ])('lets %j through', (value) => {
    expect(invalidParams(message(value))).toBeNull();
  });
});
