/**
 * What a cancel writes in the audit trail: the channel in the event's actor, and the person (a
 * dashboard operator) in its detail, on each path a cancel can take. The status logic of each
 * path is in cancel.test.ts and cancel-submissions.test.ts; these check what the trail says.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RefundService, type Caller } from '../../src/domain/refund-service.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SandboxProcessor } from '../../src/processors/sandbox.js';
import { cleanupAll, createOrg, createTestApp, FakeClock, insertRefund, rawEvents, settingsWith } from '../support/fixtures.js';

function setup() {
  const app = createTestApp();
  const org = createOrg(app);
  const service = new RefundService({
    store: app.refunds,
    processors: new StaticProcessorRegistry([new SandboxProcessor()], {}, 'sandbox'),
    clock: new FakeClock(),
    settings: settingsWith(),
  });
  const operator: Caller = { organizationId: org.id, actor: 'dashboard', operator: 'operator:ops@example.com' };
  const api: Caller = { organizationId: org.id, actor: 'api' };
  return { app, org, service, operator, api };
}

afterEach(() => cleanupAll());

describe('the audit event of a cancel', () => {
  it('before submission: the channel, and the operator when one acted', async () => {
    const { app, org, service, operator, api } = setup();
    const byOperator = insertRefund(app, org.id, { status: 'pending' });
    const byKey = insertRefund(app, org.id, { status: 'pending' });
    await service.cancel(operator, byOperator.id);
    await service.cancel(api, byKey.id);
    expect(rawEvents(app, byOperator.id).at(-1)).toMatchObject({
      to_status: 'cancelled',
      initiated_by: 'dashboard',
      detail: 'cancelled before submission; the processor never saw it; by operator:ops@example.com',
    });
    expect(rawEvents(app, byKey.id).at(-1)).toMatchObject({
      to_status: 'cancelled',
      initiated_by: 'api',
      detail: 'cancelled before submission; the processor never saw it',
    });
  });

  it('at the processor: accepted names the processor and the operator', async () => {
    const { app, org, service, operator } = setup();
    const refund = insertRefund(app, org.id, { status: 'processing', processor: 'sandbox', amount: 1000 });
    await service.cancel(operator, refund.id);
    expect(rawEvents(app, refund.id).at(-1)).toMatchObject({
      from_status: 'processing',
      to_status: 'cancelled',
      initiated_by: 'dashboard',
      detail: 'cancellation accepted by sandbox; by operator:ops@example.com',
    });
  });

  it('at the processor: a refusal records where the refund stands, with the reason and the operator', async () => {
    const { app, org, service, operator } = setup();
    // The sandbox refuses to cancel amounts ending in 99: they have completed.
    const refund = insertRefund(app, org.id, { status: 'processing', processor: 'sandbox', amount: 1099 });
    await expect(service.cancel(operator, refund.id)).rejects.toMatchObject({ code: 'refund_not_cancellable' });
    const last = rawEvents(app, refund.id).at(-1);
    expect(last).toMatchObject({ from_status: 'processing', to_status: 'completed', initiated_by: 'system' });
    expect(last?.detail).toMatch(/^sandbox refused the cancellation: .+; by operator:ops@example\.com$/);
  });
});
