/**
 * The world the cancel tests share: a real SQLite app, a scripted processor double, a fake clock,
 * and a RefundService over an observed store (a test waits for a step instead of sleeping).
 */
import { RefundService, type Caller, type RefundSettings } from '../../src/domain/refund-service.js';
import type { CreateRefundInput } from '../../src/domain/schemas.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import type { SubmitOutcome } from '../../src/domain/ports.js';
import type { Refund } from '../../src/domain/refund.js';
import { deferred, ObservedStore, ScriptedProcessor, type Deferred } from '../support/scripted.js';
import { FakeClock, createOrg, createTestApp, settingsWith } from '../support/fixtures.js';

export const input: CreateRefundInput = {
  transactionId: 'ch_3PqTestCharge',
  amount: 2500,
  currency: 'usd',
  reason: 'product_defective',
  metadata: { orderId: 'order_1', ticketId: 'SUP-1' },
};

export function setup(policy: Partial<RefundSettings> = {}) {
  const app = createTestApp();
  const org = createOrg(app);
  const clock = new FakeClock();
  const processor = new ScriptedProcessor();
  // What the service asks of the store, so that a test can wait for a step instead of sleeping.
  const observed = new ObservedStore(app.refunds);
  const service = new RefundService({
    store: observed.store,
    processors: new StaticProcessorRegistry([processor], {}, 'stripe'),
    clock,
    settings: settingsWith({ retryBaseMs: 1_000, cancelWaitMs: 300, ...policy }),
  });
  const caller: Caller = { organizationId: org.id, actor: 'mcp' };
  const column = (id: string, name: string): unknown =>
    (app.db.prepare(`SELECT ${name} AS v FROM refunds WHERE id = ?`).get(id) as { v: unknown }).v;
  return { app, org, clock, processor, service, caller, column, observed };
}


/**
 * Creates a refund whose submission reaches the processor and waits there: resolves once it does,
 * with the refund's id, the pending create, and the processor's answer to give when the test wants.
 */
export async function submissionInFlight(world: {
  service: RefundService;
  caller: Caller;
  processor: ScriptedProcessor;
}): Promise<{ id: string; creating: Promise<Refund>; answer: Deferred<SubmitOutcome> }> {
  const reached = deferred<string>();
  const answer = deferred<SubmitOutcome>();
  world.processor.onSubmit = (refund) => {
    reached.resolve(refund.id);
    return answer.promise;
  };
  const creating = world.service.create(world.caller, input);
  return { id: await reached.promise, creating, answer };
}
