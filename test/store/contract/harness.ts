/**
 * What the shared store contract needs from an adapter: a fresh, empty, migrated database behind
 * the store ports, and a second connection to the same database (another process's view).
 * Each adapter's test files pass a factory for theirs; the contract suites know only the ports.
 */
import type { ApiKeyStore, GuardrailStore, OrganizationStore, RefundStore, WebhookEventStore } from '../../../src/domain/ports.js';
import type { Refund } from '../../../src/domain/refund.js';

export interface Stores {
  refunds: RefundStore;
  organizations: OrganizationStore;
  apiKeys: ApiKeyStore;
  webhookEvents: WebhookEventStore;
  guardrails: GuardrailStore;
}

export interface StoreHarness extends Stores {
  /** The same database through a connection of its own, as a second process would see it. */
  another(): Promise<Stores>;
  /** Closes every connection and removes the database. */
  close(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreHarness>;

let serial = 0;

/** A refund to seed with `refunds.insert`, in any status; ids and times increase with each call. */
export function refundFixture(organizationId: string, overrides: Partial<Refund> = {}): Refund {
  serial += 1;
  const status = overrides.status ?? 'pending';
  const at = new Date(Date.parse('2026-01-01T00:00:00.000Z') + serial * 1000).toISOString();
  return {
    id: `ref_c${String(serial).padStart(11, '0')}`,
    organizationId,
    externalRefundId: status === 'pending' ? null : `re_contract${serial}`,
    transactionId: `ch_contract${serial}`,
    amount: 2500,
    currency: 'usd',
    reason: 'requested_by_customer',
    status,
    processor: 'sandbox',
    metadata: null,
    initiatedBy: 'api',
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}
