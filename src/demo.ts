/**
 * The demo organization: about twenty refunds covering every status, both processors, metadata
 * set and null, and all three initiators, so that a new user (or a test) can try every tool
 * without a Stripe account. Ids, dates and the key are fixed so that `init --demo` can run any
 * number of times and the README's examples always match.
 */
import type { App } from './app.js';
import { DEMO_AGENT_POLICY } from './domain/guardrails/policy.js';
import type { Actor, Initiator, RefundMetadata, RefundStatus } from './domain/refund.js';

export const DEMO_ORGANIZATION_ID = 'org_demo00000000';
export const DEMO_ORGANIZATION_NAME = 'RefundKit Demo Store';
/**
 * A well-known test-mode key, like a provider's published test keys: it opens only the demo
 * organization of a local database. Revoke it (`keys revoke`) on any database that matters.
 */
export const DEMO_API_KEY = 'rk_test_demoLocalOnlyNotASecret000000000';
/** How the dashboard and `keys list` show the demo key. */
export const DEMO_KEY_NAME = 'Demo agent';
/**
 * The demo organization's dashboard operator. Its password is as public as the demo key: it opens
 * only the demo organization of a local database; disable it (`operators disable`) on any other.
 */
export const DEMO_OPERATOR = { email: 'demo@refundkit.invalid', name: 'Demo Operator', password: 'demo-operator-local-only' } as const;

interface DemoRefund {
  status: RefundStatus;
  processor: 'stripe' | 'sandbox';
  amount: number;
  currency: string;
  reason: string;
  initiatedBy: Initiator;
  metadata: RefundMetadata | null;
}

/** Newest first; the path each refund took to its status is replayed through the store. */
const DEMO_REFUNDS: readonly DemoRefund[] = [
  { status: 'pending', processor: 'stripe', amount: 4999, currency: 'usd', reason: 'duplicate_charge', initiatedBy: 'mcp', metadata: { ticketId: 'SUP-1234' } },
  { status: 'pending', processor: 'sandbox', amount: 1500, currency: 'usd', reason: 'requested_by_customer', initiatedBy: 'api', metadata: null },
  { status: 'processing', processor: 'sandbox', amount: 2000, currency: 'usd', reason: 'product_defective', initiatedBy: 'dashboard', metadata: { orderId: 'order_10021' } },
  { status: 'processing', processor: 'sandbox', amount: 7999, currency: 'eur', reason: 'product_not_received', initiatedBy: 'mcp', metadata: null },
  { status: 'processing', processor: 'stripe', amount: 12000, currency: 'usd', reason: 'product_defective', initiatedBy: 'api', metadata: { orderId: 'order_10019' } },
  { status: 'completed', processor: 'stripe', amount: 2500, currency: 'usd', reason: 'product_defective', initiatedBy: 'api', metadata: { orderId: 'order_12345' } },
  { status: 'failed', processor: 'stripe', amount: 89900, currency: 'usd', reason: 'fraudulent', initiatedBy: 'dashboard', metadata: { note: 'charge disputed' } },
  { status: 'cancelled', processor: 'sandbox', amount: 1000, currency: 'gbp', reason: 'duplicate_charge', initiatedBy: 'mcp', metadata: null },
  { status: 'completed', processor: 'sandbox', amount: 350, currency: 'usd', reason: 'requested_by_customer', initiatedBy: 'mcp', metadata: { orderId: 'order_10011' } },
  { status: 'pending', processor: 'stripe', amount: 620, currency: 'usd', reason: 'other', initiatedBy: 'dashboard', metadata: null },
  { status: 'completed', processor: 'stripe', amount: 15000, currency: 'usd', reason: 'product_not_received', initiatedBy: 'dashboard', metadata: null },
  { status: 'cancelled', processor: 'stripe', amount: 4200, currency: 'usd', reason: 'requested_by_customer', initiatedBy: 'api', metadata: { ticketId: 'SUP-1180' } },
  { status: 'failed', processor: 'sandbox', amount: 1313, currency: 'usd', reason: 'product_defective', initiatedBy: 'api', metadata: null },
  { status: 'processing', processor: 'stripe', amount: 5600, currency: 'cad', reason: 'duplicate_charge', initiatedBy: 'mcp', metadata: { ticketId: 'SUP-1102' } },
  { status: 'completed', processor: 'sandbox', amount: 999, currency: 'usd', reason: 'duplicate_charge', initiatedBy: 'api', metadata: null },
  { status: 'pending', processor: 'sandbox', amount: 2750, currency: 'usd', reason: 'product_not_received', initiatedBy: 'mcp', metadata: { orderId: 'order_09987' } },
  { status: 'completed', processor: 'stripe', amount: 3300, currency: 'eur', reason: 'requested_by_customer', initiatedBy: 'mcp', metadata: { orderId: 'order_09950' } },
  { status: 'cancelled', processor: 'sandbox', amount: 800, currency: 'usd', reason: 'other', initiatedBy: 'dashboard', metadata: null },
  { status: 'failed', processor: 'stripe', amount: 2100, currency: 'usd', reason: 'product_defective', initiatedBy: 'mcp', metadata: { orderId: 'order_09901' } },
  { status: 'completed', processor: 'stripe', amount: 6400, currency: 'usd', reason: 'product_not_received', initiatedBy: 'api', metadata: { orderId: 'order_09877', ticketId: 'SUP-0998' } },
];

const PATHS: Readonly<Record<RefundStatus, readonly RefundStatus[]>> = {
  pending: [],
  processing: ['processing'],
  completed: ['processing', 'completed'],
  failed: ['processing', 'failed'],
  cancelled: ['cancelled'],
};

export function demoRefundId(index: number): string {
  return `ref_demo${String(index + 1).padStart(8, '0')}`;
}

/**
 * Creates the demo organization, its refunds and its key, unless they exist. Each refund is
 * written with its history in one step; the key comes last and marks the demo as complete, so a
 * run cut short is finished by the next one, and a complete demo is never written twice.
 */
export async function seedDemo(app: App): Promise<{ created: boolean }> {
  const organization = await app.organizations.findById(DEMO_ORGANIZATION_ID);
  // A demo made before policies existed gets its policy too, once (an operator's later change stays).
  if (organization !== null && (await app.guardrails.policy(DEMO_ORGANIZATION_ID)) === null) {
    await app.guardrails.setPolicy(DEMO_ORGANIZATION_ID, DEMO_AGENT_POLICY, 'system', '2026-01-01T00:00:00.000Z');
  }
  // A demo made before the dashboard gets its operator too, once.
  if (organization !== null) await ensureDemoOperator(app);
  if ((await app.apiKeys.findByKey(DEMO_API_KEY)) !== null) return { created: false };
  if (organization === null) {
    await app.organizations.create(DEMO_ORGANIZATION_NAME, { id: DEMO_ORGANIZATION_ID, at: '2026-01-01T00:00:00.000Z' });
    // The demo's policy shows every path: 1000 usd goes through, 5000 waits for approval, 20000 is refused.
    await app.guardrails.setPolicy(DEMO_ORGANIZATION_ID, DEMO_AGENT_POLICY, 'system', '2026-01-01T00:00:00.000Z');
    await ensureDemoOperator(app);
  }
  // Every refund is one hour older than the one before, counting back from a fixed moment.
  const newest = Date.parse('2026-02-22T11:00:00.000Z');
  for (const [index, demo] of DEMO_REFUNDS.entries()) {
    const id = demoRefundId(index);
    if ((await app.refunds.findById(DEMO_ORGANIZATION_ID, id)) !== null) continue;
    const serial = String(index + 1).padStart(6, '0');
    const createdMs = newest - index * 3_600_000;
    const createdAt = new Date(createdMs).toISOString();
    let from: RefundStatus = 'pending';
    const history = PATHS[demo.status].map((to, step) => {
      const submitted = to === 'processing';
      const actor: Actor = submitted || from === 'processing' ? 'system' : demo.initiatedBy;
      from = to;
      return { to, actor, at: new Date(createdMs + (step + 1) * 60_000).toISOString(), detail: submitted ? 'demo: submitted to processor' : `demo: ${to}` };
    });
    await app.refunds.insert(
      {
        id,
        organizationId: DEMO_ORGANIZATION_ID,
        externalRefundId: demo.status === 'pending' || demo.status === 'cancelled' ? null : `${demo.processor === 'stripe' ? 're_demo' : 'sbx_re_demo'}${serial}`,
        // A charge id as the reference shows them, whatever the processor: create_refund takes
        // exactly these, so an agent can refund a transaction it has just listed here.
        transactionId: `${demo.processor === 'stripe' ? 'ch_demo' : 'ch_sbx_demo'}${serial}`,
        amount: demo.amount,
        currency: demo.currency,
        reason: demo.reason,
        status: demo.status,
        processor: demo.processor,
        metadata: demo.metadata,
        initiatedBy: demo.initiatedBy,
        createdAt,
        updatedAt: history.at(-1)?.at ?? createdAt,
      },
      { history },
    );
  }
  await app.apiKeys.create(DEMO_ORGANIZATION_ID, 'test', { secret: DEMO_API_KEY, name: DEMO_KEY_NAME, at: '2026-01-01T00:00:00.000Z' });
  return { created: true };
}

async function ensureDemoOperator(app: App): Promise<void> {
  if ((await app.operators.credentials(DEMO_OPERATOR.email)) !== null) return;
  await app.operatorAuth.createOperator(DEMO_ORGANIZATION_ID, DEMO_OPERATOR.email, DEMO_OPERATOR.name, DEMO_OPERATOR.password);
}
