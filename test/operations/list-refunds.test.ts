import { describe, expect, it } from 'vitest';
import { integerParam, listRefunds } from '../../src/operations/list-refunds.js';
import { caller, refund, restData, restInput, restOf, restRefusal, stubService } from '../support/operations.js';

describe('list_refunds', () => {
  it('is GET /v1/refunds with the four query parameters, and answers the refunds array as data', async () => {
    expect(restOf(listRefunds)).toMatchObject({ method: 'GET', path: '/v1/refunds', query: ['status', 'processor', 'limit', 'offset'] });
    const service = stubService();
    expect(await restData(listRefunds, service)).toEqual([refund]);
    expect(service.list).toHaveBeenCalledWith(caller, { limit: 25, offset: 0 });
  });

  it('maps the query onto the tool input, integers from their digits', async () => {
    expect(restInput(listRefunds, { query: { status: 'pending', processor: 'stripe', limit: '10', offset: '20' } })).toEqual({
      status: 'pending',
      processor: 'stripe',
      limit: 10,
      offset: 20,
    });
    const service = stubService();
    await restData(listRefunds, service, { query: { status: 'failed', limit: '100' } });
    expect(service.list).toHaveBeenCalledWith(caller, { status: 'failed', limit: 100, offset: 0 });
  });

  it('reads digits with an optional minus as a number, and passes anything else on as text', () => {
    expect(integerParam(undefined)).toBeUndefined();
    expect(integerParam('0')).toBe(0);
    expect(integerParam('-1')).toBe(-1);
    expect(integerParam('007')).toBe(7);
    for (const text of ['', '10abc', '1e2', '1.5', '+5', ' 5', '0x10', '12345678901234567']) expect(integerParam(text)).toBe(text);
  });

  it("refuses a bad value with the tool's own message", () => {
    expect(restRefusal(listRefunds, { query: { limit: '0' } })).toBe('Limit must be between 1 and 100');
    expect(restRefusal(listRefunds, { query: { limit: '101' } })).toBe('Limit must be between 1 and 100');
    expect(restRefusal(listRefunds, { query: { limit: '1e2' } })).toBe('Limit must be an integer between 1 and 100');
    expect(restRefusal(listRefunds, { query: { limit: '' } })).toBe('Limit must be an integer between 1 and 100');
    expect(restRefusal(listRefunds, { query: { offset: '-1' } })).toBe('Offset must be an integer of 0 or more');
    expect(restRefusal(listRefunds, { query: { offset: '1.5' } })).toBe('Offset must be an integer of 0 or more');
    expect(restRefusal(listRefunds, { query: { status: 'done' } })).toMatch(/^Status must be one of: pending, processing/);
    expect(restRefusal(listRefunds, { query: { processor: 'Stripe' } })).toMatch(/^Processor must be a processor name/);
  });
});
