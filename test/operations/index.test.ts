import { describe, expect, it } from 'vitest';
import { allOperations } from '../../src/operations/index.js';

describe('the operation table', () => {
  it('lists the operations in tools/list order, each name once', () => {
    expect(allOperations.map((operation) => operation.name)).toEqual(['get_refund', 'list_refunds', 'list_refund_events', 'preview_refund', 'create_refund', 'cancel_refund']);
  });

  it('gives every REST route a distinct method and path', () => {
    const routes = allOperations.flatMap((operation) => (operation.rest === null ? [] : [`${operation.rest.method} ${operation.rest.path}`]));
    expect(new Set(routes).size).toBe(routes.length);
  });

  it('marks exactly the operations that change nothing read-only', () => {
    const readOnly = allOperations.filter((operation) => operation.annotations.readOnlyHint).map((operation) => operation.name);
    expect(readOnly).toEqual(['get_refund', 'list_refunds', 'list_refund_events', 'preview_refund']);
  });
});
