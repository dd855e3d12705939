/**
 * The guardrails against the Stripe imitation, on the built program as a client and an operator
 * use it: an MCP client (the SDK over stdio) whose agent asks for refunds above the demo policy's
 * approval threshold, and the CLI (`approvals approve|reject`, `policy set`, `dispatch`).
 *
 * What this proves that test/e2e/approvals.test.ts (sandbox only) cannot: while an approval is
 * open, Stripe hears nothing of the refund but the policy's charge read; an approved refund reaches
 * Stripe exactly once; a rejected or expired one never does.
 *
 * Servers run with REFUNDKIT_DISPATCH_INTERVAL_SECONDS=0, so every background pass is a `dispatch`
 * the test runs and waits for: no sleeps, nothing racing the assertions.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_API_KEY, DEMO_ORGANIZATION_ID } from '../../src/demo.js';
import { REFUND_ID_METADATA_KEY } from '../../src/processors/stripe.js';
import {
  assertBuilt,
  callTool,
  cleanupCli,
  connectServer,
  lastLine,
  createDemoHome,
  runCli,
  type ConnectedServer,
  type Env,
  type TestHome,
} from '../support/cli.js';
import { startStripeImitation, type StripeImitation } from '../support/stripe-imitation.js';

interface RefundJson {
  id: string;
  status: string;
  externalRefundId: string | null;
}

interface ApprovalJson {
  id: string;
  status: string;
  decidedBy: string | null;
  note: string | null;
  expiresAt: string;
}

interface EventJson {
  from: string | null;
  to: string;
  actor: string;
  detail: string | null;
}

const ORG = ['--org', DEMO_ORGANIZATION_ID];

let imitation: StripeImitation;
let home: TestHome;

beforeAll(async () => {
  assertBuilt();
  imitation = await startStripeImitation();
});
afterAll(async () => {
  await imitation.close();
  await cleanupCli();
});
beforeEach(async () => {
  imitation.reset();
  home = await createDemoHome();
});
afterEach(() => cleanupCli({ keepDemoTemplate: true }));

/** The environment of test/e2e/stripe.test.ts: processor stripe at the imitation, no server loop. */
function stripeEnv(extra: Env = {}): Env {
  return home.env({
    REFUNDKIT_API_KEY: DEMO_API_KEY,
    STRIPE_SECRET_KEY: imitation.apiKey,
    STRIPE_API_BASE: imitation.url,
    STRIPE_TIMEOUT_MS: '1000',
    STRIPE_MAX_NETWORK_RETRIES: '0',
    REFUNDKIT_DISPATCH_INTERVAL_SECONDS: '0',
    ...extra,
  });
}

/** Every request Stripe received, as "METHOD /path". */
function stripeHeard(): string[] {
  return imitation.requests.map((r) => `${r.method} ${r.path}`);
}

function refundCreates(): number {
  return stripeHeard().filter((line) => line === 'POST /v1/refunds').length;
}

/** An agent's refund that the demo policy holds for approval (5000 usd > approvalAbove 2500). */
async function heldRefund(server: ConnectedServer, chargeId: string, amount: number): Promise<RefundJson> {
  const result = await callTool(server, 'create_refund', { transactionId: chargeId, amount, reason: 'requested_by_customer' });
  expect(result.isError ?? false, JSON.stringify(result.content)).toBe(false);
  return (result.structuredContent as { refund: RefundJson }).refund;
}

async function getRefund(server: ConnectedServer, refundId: string): Promise<{ refund: RefundJson; approval?: ApprovalJson }> {
  const result = await callTool(server, 'get_refund', { refundId });
  expect(result.isError ?? false, JSON.stringify(result.content)).toBe(false);
  return result.structuredContent as { refund: RefundJson; approval?: ApprovalJson };
}

async function dispatch(extra: Env = {}): Promise<string> {
  const result = await runCli(['dispatch'], stripeEnv(extra));
  expect(result.code, result.stderr).toBe(0);
  return lastLine(result.stdout);
}

describe('approvals against Stripe', () => {
  it('approved: Stripe hears only the charge read while the approval is open, then one refund create after dispatch', async () => {
    const { chargeId } = imitation.addCharge({ amount: 8000 });
    const server = await connectServer(stripeEnv());
    const held = await heldRefund(server, chargeId, 5000);
    expect(held.status).toBe('pending');
    const open = await getRefund(server, held.id);
    expect(open.approval?.status).toBe('requested');
    const chargeRead = [`GET /v1/charges/${chargeId}`];
    expect(stripeHeard()).toEqual(chargeRead);

    // A background pass while the approval is open submits nothing.
    expect(await dispatch()).toMatch(/^submitted 0,/);
    expect(stripeHeard()).toEqual(chargeRead);

    const approve = await runCli(['approvals', 'approve', open.approval?.id ?? 'missing', ...ORG, '--as', 'ana', '--note', 'order checked'], stripeEnv());
    expect(approve.code, approve.stderr).toBe(0);
    expect(stripeHeard()).toEqual(chargeRead); // approving records a decision; the pass submits

    expect(await dispatch()).toMatch(/^submitted 1,/);
    expect(await dispatch()).toMatch(/^submitted 0,/); // a second pass finds nothing to submit
    expect(refundCreates()).toBe(1);
    const atStripe = imitation.refunds();
    expect(atStripe).toHaveLength(1);
    expect(atStripe[0]?.metadata?.[REFUND_ID_METADATA_KEY]).toBe(held.id);
    expect(atStripe[0]?.amount).toBe(5000);

    const after = await getRefund(server, held.id);
    expect(after.refund.status).toMatch(/^(processing|completed)$/);
    expect(after.refund.externalRefundId).toBe(atStripe[0]?.id);
    expect(after.approval).toMatchObject({ status: 'approved', decidedBy: 'operator:ana', note: 'order checked' });
  }, 60_000);

  it('rejected: cancelled, never sent to Stripe, and the audit trail names the operator and the note', async () => {
    const { chargeId } = imitation.addCharge({ amount: 8000 });
    const server = await connectServer(stripeEnv());
    const held = await heldRefund(server, chargeId, 6000);
    const open = await getRefund(server, held.id);
    expect(open.approval?.status).toBe('requested');

    const reject = await runCli(['approvals', 'reject', open.approval?.id ?? 'missing', ...ORG, '--as', 'bo', '--note', 'not eligible'], stripeEnv());
    expect(reject.code, reject.stderr).toBe(0);
    expect(await dispatch()).toMatch(/^submitted 0,/);

    expect((await getRefund(server, held.id)).refund.status).toBe('cancelled');
    expect(refundCreates()).toBe(0);
    expect(stripeHeard()).toEqual([`GET /v1/charges/${chargeId}`]);

    const audit = await callTool(server, 'list_refund_events', { refundId: held.id });
    expect(audit.isError ?? false, JSON.stringify(audit.content)).toBe(false);
    const { events, approval } = audit.structuredContent as { events: EventJson[]; approval: ApprovalJson | null };
    expect(approval).toMatchObject({ status: 'rejected', decidedBy: 'operator:bo', note: 'not eligible' });
    const last = events.at(-1);
    expect(last).toMatchObject({ from: 'pending', to: 'cancelled', actor: 'dashboard' });
    expect(last?.detail).toContain('rejected by operator:bo: not eligible');
  }, 60_000);

  it('expired: the background pass cancels it once its time has passed; Stripe never hears of it', async () => {
    const policy = await runCli(['policy', 'set', ...ORG, '--as', 'ana', '--approval-hours', '1'], stripeEnv());
    expect(policy.code, policy.stderr).toBe(0);
    const { chargeId } = imitation.addCharge({ amount: 8000 });
    const server = await connectServer(stripeEnv());
    const held = await heldRefund(server, chargeId, 5000);
    const open = await getRefund(server, held.id);
    expect(open.approval?.status).toBe('requested');
    const hoursOpen = (Date.parse(open.approval?.expiresAt ?? '') - Date.now()) / 3_600_000;
    expect(hoursOpen).toBeGreaterThan(0.9);
    expect(hoursOpen).toBeLessThanOrEqual(1);

    // Before its time, a pass leaves it open.
    await dispatch();
    expect((await getRefund(server, held.id)).approval?.status).toBe('requested');

    // The hour passes without waiting for it: this `dispatch` runs with its clock two hours ahead.
    // Neither the CLI nor the config takes a clock, and the database refuses to move an approval's
    // expires_at (trigger approval_requests_decided_once), so the shift is made in the process:
    // a module preloaded with `node --import` that moves Date forward. That is acceptable because
    // the program reads the time only through Date (systemClock), and a pass that starts two hours
    // later is exactly what an operator's cron would run; nothing in src/ changes for the test.
    const shiftedClock = join(home.dir, 'clock-two-hours-ahead.mjs');
    writeFileSync(
      shiftedClock,
      [
        'const RealDate = globalThis.Date;',
        'const SHIFT_MS = 2 * 3_600_000;',
        'class ShiftedDate extends RealDate {',
        '  constructor(...args) { if (args.length === 0) super(RealDate.now() + SHIFT_MS); else super(...args); }',
        '  static now() { return RealDate.now() + SHIFT_MS; }',
        '}',
        'globalThis.Date = ShiftedDate;',
        '',
      ].join('\n'),
    );
    expect(await dispatch({ NODE_OPTIONS: `--import ${pathToFileURL(shiftedClock).href}` })).toMatch(/^submitted 0,/);

    const after = await getRefund(server, held.id);
    expect(after.refund.status).toBe('cancelled');
    expect(after.approval).toMatchObject({ status: 'expired', decidedBy: 'system' });
    await dispatch(); // and a later ordinary pass does not revive it
    expect((await getRefund(server, held.id)).refund.status).toBe('cancelled');
    expect(refundCreates()).toBe(0);
    expect(stripeHeard()).toEqual([`GET /v1/charges/${chargeId}`]);
  }, 60_000);
});
