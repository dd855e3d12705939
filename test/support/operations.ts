/**
 * Driving one operation's REST binding the way the HTTP adapter does: the request's parts go
 * through `rest.input`, the result through the operation's input schema, then the use case the
 * binding names (`rest.run ?? run`) and `rest.data`. The service is a recording stub, so that a
 * test sees which use case ran with which input.
 */
import { vi } from 'vitest';
import type { RefundKitError } from '../../src/domain/errors.js';
import type { Refund } from '../../src/domain/refund.js';
import type { Caller, RefundPreview, RefundService } from '../../src/domain/refund-service.js';
import { parseInput } from '../../src/domain/schemas.js';
import type { Operation, OperationContext, RestRequestParts } from '../../src/operations/operation.js';

export const caller: Caller = { organizationId: 'org_test', actor: 'api' };

export const refund: Refund = {
  id: 'ref_abc123def456',
  organizationId: 'org_test',
  externalRefundId: null,
  transactionId: 'ch_123',
  amount: 2500,
  currency: 'usd',
  reason: 'other',
  status: 'pending',
  processor: 'sandbox',
  metadata: null,
  initiatedBy: 'api',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

export const preview: RefundPreview = {
  policyApplies: false,
  outcome: 'allow',
  rule: null,
  message: 'The agent policy applies to agents only',
  transaction: { transactionId: 'ch_123', charged: 100_000, refunded: 0, remaining: 100_000 },
  budgetLeft: { currency: 'usd', count: 20, amount: 50_000 },
};

export function stubService() {
  return {
    get: vi.fn(() => refund),
    getFresh: vi.fn(() => Promise.resolve(refund)),
    list: vi.fn(() => ({ refunds: [refund], limit: 25, offset: 0, nextOffset: null })),
    create: vi.fn(() => Promise.resolve(refund)),
    cancel: vi.fn(() => Promise.resolve({ ...refund, status: 'cancelled' })),
    preview: vi.fn(() => Promise.resolve(preview)),
    events: vi.fn(() =>
      Promise.resolve({
        refundId: refund.id,
        events: [{ id: 1, refundId: refund.id, organizationId: 'org_test', from: null, to: 'pending', initiatedBy: 'api', createdAt: refund.createdAt, detail: 'created' }],
        approval: null,
      }),
    ),
    approvalForRefund: vi.fn(() => Promise.resolve(null)),
  };
}

export function contextOf(service: ReturnType<typeof stubService>): OperationContext {
  // Only the methods the operations call exist; a call to any other fails the test loudly.
  return { service: service as unknown as RefundService, caller };
}

export function request(parts: Partial<RestRequestParts> = {}): RestRequestParts {
  return { params: {}, query: {}, body: undefined, headers: {}, ...parts };
}

/** The operation's input as REST builds it (binding, then the operation's schema). */
export function restInput(operation: Operation, parts: Partial<RestRequestParts> = {}): unknown {
  const rest = restOf(operation);
  return parseInput(operation.input, rest.input(request(parts)));
}

/** The `data` REST answers for the request, with the use case run on `service`. */
export async function restData(operation: Operation, service: ReturnType<typeof stubService>, parts: Partial<RestRequestParts> = {}): Promise<unknown> {
  const rest = restOf(operation);
  const input = parseInput(operation.input, rest.input(request(parts)));
  const output = await (rest.run ?? operation.run)(input, contextOf(service));
  return rest.data(output);
}

/** The validation message REST answers for the request, or fails the test if there is none. */
export function restRefusal(operation: Operation, parts: Partial<RestRequestParts> = {}): string {
  try {
    restInput(operation, parts);
  } catch (error) {
    const refusal = error as RefundKitError;
    if (refusal.code !== 'validation_error') throw error;
    return refusal.message;
  }
  throw new Error('the request was accepted');
}

export function restOf(operation: Operation): NonNullable<Operation['rest']> {
  if (operation.rest === null) throw new Error(`${operation.name} has no REST binding`);
  return operation.rest;
}
