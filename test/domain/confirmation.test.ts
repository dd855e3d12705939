/**
 * In-band confirmation on the domain's flows: with confirmWrites, an agent whose client can ask
 * (a Confirmation capability) goes ahead only on the person's yes; a no changes nothing; a client
 * that cannot ask gets its refund held for approval and its cancel refused. The answers are kept
 * in the refund's audit trail where there is a refund to keep them on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RefundKitError } from '../../src/domain/errors.js';
import type { Confirmation, ConfirmationAnswer, ConfirmationRequest } from '../../src/domain/guardrails/confirmation.js';
import { DEMO_AGENT_POLICY } from '../../src/domain/guardrails/policy.js';
import { RefundService, type Caller } from '../../src/domain/refund-service.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SandboxProcessor } from '../../src/processors/sandbox.js';
import { cleanupAll, countRows, createKey, createOrg, createTestApp, FakeClock, insertRefund, rawEvents, settingsWith } from '../support/fixtures.js';

afterEach(() => cleanupAll());

function asker(answer: ConfirmationAnswer): Confirmation & { asked: ConfirmationRequest[] } {
  const asked: ConfirmationRequest[] = [];
  return { asked, ask: (request) => (asked.push(request), Promise.resolve(answer)) };
}

async function setup(confirmWrites = true) {
  const app = createTestApp();
  const org = createOrg(app);
  const service = new RefundService({
    store: app.refunds,
    guardrails: app.guardrails,
    processors: new StaticProcessorRegistry([new SandboxProcessor()], {}, 'sandbox'),
    clock: new FakeClock(),
    settings: settingsWith({ holdMs: 0 }),
  });
  const keyId = createKey(app, org.id).keyId;
  await app.guardrails.setPolicy(org.id, { ...DEMO_AGENT_POLICY, confirmWrites }, 'operator:test', new Date().toISOString());
  const agent = (confirmation?: Confirmation): Caller => ({ organizationId: org.id, actor: 'mcp', keyId, ...(confirmation === undefined ? {} : { confirmation }) });
  return { app, org, service, agent };
}

const input = (amount: number, idempotencyKey?: string) => ({
  transactionId: 'ch_confirm1',
  amount,
  currency: 'usd',
  reason: 'duplicate_charge' as const,
  ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
});

async function refusal(promise: Promise<unknown>): Promise<RefundKitError> {
  const error: unknown = await promise.then(() => undefined, (thrown: unknown) => thrown);
  if (!(error instanceof RefundKitError)) throw new Error(`expected a RefundKitError, got ${String(error)}`);
  return error;
}

describe('create with confirmWrites', () => {
  it('accepted: the person saw the refund in plain words; it goes ahead and the audit trail says who confirmed', async () => {
    const { app, service, agent } = await setup();
    const confirmation = asker('accepted');
    const refund = await service.create(agent(confirmation), input(1500));
    expect(refund.status).toBe('processing');
    expect(confirmation.asked).toHaveLength(1);
    expect(confirmation.asked[0]?.message).toContain('$15.00 (1500 usd)');
    expect(confirmation.asked[0]?.message).toContain('ch_confirm1');
    expect(rawEvents(app, refund.id)[0]?.detail).toContain('confirmed by the person at the MCP client');
  });

  it.each(['declined', 'cancelled', 'unanswered'] as const)('%s: confirmation_declined and nothing is created', async (answer) => {
    const { app, service, agent } = await setup();
    const error = await refusal(service.create(agent(asker(answer)), input(1500)));
    expect(error.code).toBe('confirmation_declined');
    expect(error.message).toContain('nothing was created');
    expect(countRows(app, 'refunds')).toBe(0);
  });

  it('a client that cannot ask: created pending and held for approval under the confirmation rule, never submitted', async () => {
    const { app, service, agent } = await setup();
    const refund = await service.create(agent(), input(1500));
    expect(refund.status).toBe('pending');
    const approval = await app.guardrails.approvalForRefund(refund.organizationId, refund.id);
    expect(approval).toMatchObject({ status: 'requested', rule: 'confirmation' });
    expect(approval?.ruleMessage).toContain('cannot ask');
  });

  it('nobody is asked about a refund the policy refuses or holds anyway, nor about a replay', async () => {
    const { service, agent } = await setup();
    const confirmation = asker('accepted');
    expect((await refusal(service.create(agent(confirmation), input(20_000)))).code).toBe('policy_violation');
    expect((await service.create(agent(confirmation), input(5000))).status).toBe('pending');
    expect(confirmation.asked).toHaveLength(0);
    const first = await service.create(agent(confirmation), input(1000, 'confirm-replay'));
    const again = await service.create(agent(asker('declined')), input(1000, 'confirm-replay'));
    expect(again.id).toBe(first.id);
    expect(confirmation.asked).toHaveLength(1);
  });

  it('without confirmWrites nobody is asked', async () => {
    const { service, agent } = await setup(false);
    const confirmation = asker('declined');
    expect((await service.create(agent(confirmation), input(1000))).status).toBe('processing');
    expect(confirmation.asked).toHaveLength(0);
  });
});

describe('cancel with confirmWrites', () => {
  it('accepted: cancelled, with the confirmation in the audit trail', async () => {
    const { app, org, service, agent } = await setup();
    const seeded = insertRefund(app, org.id, { status: 'pending', amount: 4200 });
    const confirmation = asker('accepted');
    expect((await service.cancel(agent(confirmation), seeded.id)).status).toBe('cancelled');
    expect(confirmation.asked[0]?.message).toContain(seeded.id);
    expect(confirmation.asked[0]?.message).toContain('$42.00 (4200 usd)');
    expect(confirmation.asked[0]?.message).toContain('pending');
    expect(rawEvents(app, seeded.id).map((event) => event.detail).join('\n')).toContain('confirmed by the person at the MCP client');
  });

  it.each(['declined', 'cancelled', 'unanswered'] as const)('%s: confirmation_declined, the refund unchanged, the answer recorded', async (answer) => {
    const { app, org, service, agent } = await setup();
    const seeded = insertRefund(app, org.id, { status: 'pending' });
    const error = await refusal(service.cancel(agent(asker(answer)), seeded.id));
    expect(error.code).toBe('confirmation_declined');
    expect(error.message).toContain('nothing changed');
    const events = rawEvents(app, seeded.id);
    expect(events.at(-1)).toMatchObject({ from_status: 'pending', to_status: 'pending' });
    expect(events.at(-1)?.detail).toContain(`not confirmed (${answer})`);
    expect((await service.get(agent(), seeded.id)).status).toBe('pending');
  });

  it('a client that cannot ask is refused: a person must cancel it', async () => {
    const { app, org, service, agent } = await setup();
    const seeded = insertRefund(app, org.id, { status: 'pending' });
    const error = await refusal(service.cancel(agent(), seeded.id));
    expect(error.code).toBe('policy_violation');
    expect(error.message).toContain('A person must cancel it');
    expect((await service.get(agent(), seeded.id)).status).toBe('pending');
  });

  it('a refund that cannot be cancelled asks nobody', async () => {
    const { app, org, service, agent } = await setup();
    const seeded = insertRefund(app, org.id, { status: 'completed' });
    const confirmation = asker('accepted');
    expect((await refusal(service.cancel(agent(confirmation), seeded.id))).code).toBe('refund_not_cancellable');
    expect(confirmation.asked).toHaveLength(0);
  });
});

// What the agent is told, word for word: it must know that nothing happened and not to retry.
describe('the words of a refusal', () => {
  it('a declined create says what was not created, and not to retry', async () => {
    const { service, agent } = await setup();
    const error = await refusal(service.create(agent(asker('declined')), input(1500)));
    expect(error).toMatchObject({
      code: 'confirmation_declined',
      message: 'The person at the client declined the refund of 1500 usd on ch_confirm1: nothing was created. Do not retry unless the person asks for it again.',
    });
  });

  it('a declined cancel says nothing changed', async () => {
    const { app, org, service, agent } = await setup();
    const seeded = insertRefund(app, org.id, { status: 'pending' });
    const error = await refusal(service.cancel(agent(asker('cancelled')), seeded.id));
    expect(error.message).toBe(
      `The person at the client dismissed the confirmation of cancelling ${seeded.id}: nothing changed. Do not retry unless the person asks for it again.`,
    );
    expect((await service.get(agent(), seeded.id)).status).toBe('pending');
  });

  it('a client that cannot ask is told exactly why and who can cancel', async () => {
    const { app, org, service, agent } = await setup();
    const seeded = insertRefund(app, org.id, { status: 'processing' });
    expect((await refusal(service.cancel(agent(), seeded.id))).message).toBe(
      `This organization's policy asks the person at the client to confirm each cancel by an agent, and this client cannot ask (no elicitation): ` +
        `${seeded.id} was not cancelled. A person must cancel it (REST API or dashboard), or use a client that can ask for confirmation.`,
    );
  });
});

describe('a person who takes a while to confirm', () => {
  it('the refund is created when they answer, not when the agent asked', async () => {
    const app = createTestApp();
    const org = createOrg(app);
    const clock = new FakeClock();
    const service = new RefundService({
      store: app.refunds,
      guardrails: app.guardrails,
      processors: new StaticProcessorRegistry([new SandboxProcessor()], {}, 'sandbox'),
      clock,
      settings: settingsWith({ holdMs: 60_000 }),
    });
    await app.guardrails.setPolicy(org.id, { ...DEMO_AGENT_POLICY, confirmWrites: true }, 'operator:test', new Date().toISOString());
    const slow: Confirmation = {
      ask: () => {
        clock.advance(5 * 60_000);
        return Promise.resolve('accepted');
      },
    };
    const asked = clock.ms;
    const refund = await service.create({ organizationId: org.id, actor: 'mcp', keyId: createKey(app, org.id).keyId, confirmation: slow }, input(1500));
    expect(refund.createdAt).toBe(new Date(asked + 5 * 60_000).toISOString());
    // The hold counts from then too.
    const submitAt = (app.db.prepare('SELECT next_attempt_at AS v FROM refunds WHERE id = ?').get(refund.id) as { v: string }).v;
    expect(submitAt).toBe(new Date(asked + 6 * 60_000).toISOString());
  });
});
