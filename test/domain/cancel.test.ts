/**
 * Cancelling a refund (cancel.ts) in each status, against the real SQLite store on a temporary
 * file. Processors are small doubles (or the real sandbox) so that every answer can be chosen.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteApp } from '../../src/app.js';
import { errors, RefundKitError } from '../../src/domain/errors.js';
import type {
  CancelOutcome,
  Clock,
  ProcessorRegistry,
  ProcessorStatus,
  RefundStore,
  RefundProcessor,
  StatusChange,
  SubmitOutcome,
} from '../../src/domain/ports.js';
import type { Refund, RefundStatus } from '../../src/domain/refund.js';
import { RefundService, type Caller } from '../../src/domain/refund-service.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { SandboxProcessor } from '../../src/processors/sandbox.js';
import { SqliteRefundStore } from '../../src/store/sqlite/refund-store.js';
import { cleanupAll, createOrg, createTestApp, insertRefund, rawEvents, storedStatus, settingsWith } from '../support/fixtures.js';

const NOW = '2026-03-01T12:00:00.000Z';
const clock: Clock = { now: () => new Date(NOW) };

/**
 * A processor whose cancel answers what the test chose and remembers what it was asked. These
 * tests never submit or read back, so those calls fail loudly if a rule starts making them.
 */
class ScriptedProcessor implements RefundProcessor {
  readonly calls: Refund[] = [];
  readonly unexpected: string[] = [];
  constructor(
    readonly name: string,
    private readonly answer: () => Promise<CancelOutcome>,
  ) {}
  cancel(refund: Refund): Promise<CancelOutcome> {
    this.calls.push(refund);
    return this.answer();
  }
  submit(): Promise<SubmitOutcome> {
    this.unexpected.push('submit');
    return Promise.reject(new Error('submit was not expected in this test'));
  }
  retrieve(): Promise<ProcessorStatus> {
    this.unexpected.push('retrieve');
    return Promise.reject(new Error('retrieve was not expected in this test'));
  }
  findSubmitted(): Promise<null> {
    this.unexpected.push('findSubmitted');
    return Promise.reject(new Error('findSubmitted was not expected in this test'));
  }
}

const accepts = (name = 'sandbox') => new ScriptedProcessor(name, () => Promise.resolve({ accepted: true }));
const refuses = (status: RefundStatus, name = 'sandbox') =>
  new ScriptedProcessor(name, () => Promise.resolve({ accepted: false, status, reason: 'already settled' }));
const throws = (error: Error, name = 'sandbox') => new ScriptedProcessor(name, () => Promise.reject(error));

let app: SqliteApp;
let orgA: string;
let orgB: string;
let callerA: Caller;

function serviceWith(processors: ProcessorRegistry, store: RefundStore = app.refunds): RefundService {
  return new RefundService({ store, processors, clock, settings: settingsWith() });
}

/** The given processors; an untouched sandbox stands in when a test needs none configured. */
function registry(...processors: RefundProcessor[]): StaticProcessorRegistry {
  const list = processors.length > 0 ? processors : [new SandboxProcessor()];
  return new StaticProcessorRegistry(list, {
    stripe: 'set STRIPE_SECRET_KEY to a Stripe secret key and restart the server',
  });
}

async function cancelError(service: RefundService, caller: Caller, refundId: string): Promise<RefundKitError> {
  try {
    await service.cancel(caller, refundId);
  } catch (error) {
    expect(error).toBeInstanceOf(RefundKitError);
    return error as RefundKitError;
  }
  throw new Error('expected cancel to fail');
}

beforeEach(() => {
  app = createTestApp();
  orgA = createOrg(app, 'Org A').id;
  orgB = createOrg(app, 'Org B').id;
  callerA = { organizationId: orgA, actor: 'mcp' };
});

afterEach(() => {
  cleanupAll();
});

describe('cancel a pending refund', () => {
  it.each(['mcp', 'api', 'dashboard'] as const)(
    'is cancelled locally, with an event stamped by the caller (%s), never reaching a processor',
    async (actor) => {
      const processor = accepts('stripe');
      const refund = insertRefund(app, orgA, { status: 'pending', processor: 'stripe', initiatedBy: 'api' });
      const cancelled = await serviceWith(registry(processor)).cancel({ organizationId: orgA, actor }, refund.id);
      expect(cancelled.status).toBe('cancelled');
      expect(cancelled.updatedAt).toBe(NOW);
      expect(cancelled.initiatedBy).toBe('api');
      expect(storedStatus(app, refund.id)).toBe('cancelled');
      expect(processor.calls).toHaveLength(0);
      expect(processor.unexpected).toEqual([]);
      const events = rawEvents(app, refund.id);
      expect(events).toHaveLength(2);
      expect(events[1]).toMatchObject({
        organization_id: orgA,
        from_status: 'pending',
        to_status: 'cancelled',
        initiated_by: actor,
        created_at: NOW,
      });
    },
  );

  it('does not need the processor to be configured', async () => {
    const refund = insertRefund(app, orgA, { status: 'pending', processor: 'stripe' });
    const cancelled = await serviceWith(registry()).cancel(callerA, refund.id);
    expect(cancelled.status).toBe('cancelled');
  });

  it("another organization's pending refund is not_found and stays pending", async () => {
    const theirs = insertRefund(app, orgB, { status: 'pending' });
    const error = await cancelError(serviceWith(registry(accepts())), callerA, theirs.id);
    expect(error.code).toBe('not_found');
    expect(storedStatus(app, theirs.id)).toBe('pending');
    expect(rawEvents(app, theirs.id)).toHaveLength(1);
  });

  it('an unknown id is not_found', async () => {
    const error = await cancelError(serviceWith(registry(accepts())), callerA, 'ref_zzzzzzzzzzzz');
    expect(error.code).toBe('not_found');
  });
});

describe('cancel a processing refund', () => {
  it('asks the processor; accepted -> cancelled with an event by the caller', async () => {
    const processor = accepts('sandbox');
    const refund = insertRefund(app, orgA, { status: 'processing', processor: 'sandbox' });
    const cancelled = await serviceWith(registry(processor)).cancel(callerA, refund.id);
    expect(processor.calls).toHaveLength(1);
    expect(processor.calls[0]).toEqual(refund);
    expect(processor.unexpected).toEqual([]);
    expect(cancelled.status).toBe('cancelled');
    expect(storedStatus(app, refund.id)).toBe('cancelled');
    const last = rawEvents(app, refund.id).at(-1);
    expect(last).toMatchObject({ from_status: 'processing', to_status: 'cancelled', initiated_by: 'mcp' });
  });

  it('only the refund processor is consulted', async () => {
    const stripe = accepts('stripe');
    const sandbox = accepts('sandbox');
    const refund = insertRefund(app, orgA, { status: 'processing', processor: 'stripe' });
    await serviceWith(registry(stripe, sandbox)).cancel(callerA, refund.id);
    expect(stripe.calls).toHaveLength(1);
    expect(sandbox.calls).toHaveLength(0);
  });

  it('refused -> refund_not_cancellable saying the processor refused and the status now; status stored with a system event', async () => {
    const processor = refuses('completed');
    const refund = insertRefund(app, orgA, { status: 'processing', processor: 'sandbox' });
    const error = await cancelError(serviceWith(registry(processor)), callerA, refund.id);
    expect(error.code).toBe('refund_not_cancellable');
    expect(error.message).toMatch(/processor refused/);
    expect(error.message).toContain("status is 'completed'");
    expect(storedStatus(app, refund.id)).toBe('completed');
    const events = rawEvents(app, refund.id);
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ from_status: 'processing', to_status: 'completed', initiated_by: 'system' });
    expect(events[1]!.detail).toContain('already settled');
  });

  it('refused while still processing -> refund_not_cancellable with status processing, nothing written', async () => {
    const refund = insertRefund(app, orgA, { status: 'processing' });
    const error = await cancelError(serviceWith(registry(refuses('processing'))), callerA, refund.id);
    expect(error.code).toBe('refund_not_cancellable');
    expect(error.message).toContain("status is 'processing'");
    expect(storedStatus(app, refund.id)).toBe('processing');
    expect(rawEvents(app, refund.id)).toHaveLength(1);
  });

  it('refused with failed -> stored failed', async () => {
    const refund = insertRefund(app, orgA, { status: 'processing' });
    const error = await cancelError(serviceWith(registry(refuses('failed'))), callerA, refund.id);
    expect(error.message).toContain("status is 'failed'");
    expect(storedStatus(app, refund.id)).toBe('failed');
  });

  it('processor not configured -> processor_not_configured with what to set; nothing changed', async () => {
    const refund = insertRefund(app, orgA, { status: 'processing', processor: 'stripe' });
    const before = await app.refunds.findById(orgA, refund.id);
    const error = await cancelError(serviceWith(registry(accepts('sandbox'))), callerA, refund.id);
    expect(error.code).toBe('processor_not_configured');
    expect(error.message).toContain("'stripe'");
    expect(error.message).toContain('STRIPE_SECRET_KEY');
    expect(await app.refunds.findById(orgA, refund.id)).toEqual(before);
    expect(rawEvents(app, refund.id)).toHaveLength(1);
  });

  it('an unknown processor is processor_not_configured too', async () => {
    const refund = insertRefund(app, orgA, { status: 'processing', processor: 'adyen' });
    const error = await cancelError(serviceWith(registry(accepts('sandbox'))), callerA, refund.id);
    expect(error.code).toBe('processor_not_configured');
    expect(error.message).toContain("'adyen'");
  });

  it('processor unavailable -> the same error; nothing changed', async () => {
    const outage = errors.processorUnavailable('sandbox', { cause: new Error('ETIMEDOUT') });
    const refund = insertRefund(app, orgA, { status: 'processing' });
    const before = await app.refunds.findById(orgA, refund.id);
    const error = await cancelError(serviceWith(registry(throws(outage))), callerA, refund.id);
    expect(error).toBe(outage);
    expect(error.code).toBe('processor_unavailable');
    expect(await app.refunds.findById(orgA, refund.id)).toEqual(before);
    expect(rawEvents(app, refund.id)).toHaveLength(1);
  });

  it('an unexpected processor failure propagates and changes nothing', async () => {
    const refund = insertRefund(app, orgA, { status: 'processing' });
    const boom = new Error('boom');
    await expect(serviceWith(registry(throws(boom))).cancel(callerA, refund.id)).rejects.toBe(boom);
    expect(storedStatus(app, refund.id)).toBe('processing');
    expect(rawEvents(app, refund.id)).toHaveLength(1);
  });

  it('with the real sandbox: amounts ending in 99 are refused as completed, others cancelled', async () => {
    const service = serviceWith(registry(new SandboxProcessor()));
    const refused = insertRefund(app, orgA, { status: 'processing', amount: 4999 });
    const accepted = insertRefund(app, orgA, { status: 'processing', amount: 5000 });
    const error = await cancelError(service, callerA, refused.id);
    expect(error.code).toBe('refund_not_cancellable');
    expect(storedStatus(app, refused.id)).toBe('completed');
    expect((await service.cancel(callerA, accepted.id)).status).toBe('cancelled');
  });
});

describe('cancel a terminal refund', () => {
  it.each(['completed', 'failed', 'cancelled'] as const)(
    "%s -> refund_not_cancellable with the reference message, processor not consulted",
    async (status) => {
      const processor = accepts();
      const refund = insertRefund(app, orgA, { status });
      const error = await cancelError(serviceWith(registry(processor)), callerA, refund.id);
      expect(error.code).toBe('refund_not_cancellable');
      expect(error.message).toBe(`Refund cannot be cancelled — status is '${status}'`);
      expect(processor.calls).toHaveLength(0);
      expect(storedStatus(app, refund.id)).toBe(status);
      expect(rawEvents(app, refund.id)).toHaveLength(1);
    },
  );

  it('the exact reference message for completed', async () => {
    const refund = insertRefund(app, orgA, { status: 'completed' });
    const error = await cancelError(serviceWith(registry()), callerA, refund.id);
    expect(error.message).toBe("Refund cannot be cancelled — status is 'completed'");
  });
});

describe('cancel races (another writer moves the refund between read and write)', () => {
  /** The real store, except that just before its first transition another writer moves the refund. */
  class InterferingStore extends SqliteRefundStore {
    private done = false;
    constructor(
      private readonly app: SqliteApp,
      private readonly move: { to: RefundStatus },
    ) {
      super(app.db);
    }
    override transition(change: StatusChange): Promise<Refund | null> {
      if (!this.done) {
        this.done = true;
        this.app.db.prepare('UPDATE refunds SET status = ? WHERE id = ?').run(this.move.to, change.refundId);
      }
      return super.transition(change);
    }
  }

  it('pending cancelled by someone else first -> refund_not_cancellable, no second event', async () => {
    const refund = insertRefund(app, orgA, { status: 'pending' });
    const store = new InterferingStore(app, { to: 'cancelled' });
    const error = await cancelError(serviceWith(registry(accepts()), store), callerA, refund.id);
    expect(error.code).toBe('refund_not_cancellable');
    expect(error.message).toBe("Refund cannot be cancelled — status is 'cancelled'");
    expect(rawEvents(app, refund.id)).toHaveLength(1);
  });

  it('pending submitted meanwhile -> the cancellation goes to the processor', async () => {
    const processor = accepts();
    const refund = insertRefund(app, orgA, { status: 'pending' });
    const store = new InterferingStore(app, { to: 'processing' });
    const cancelled = await serviceWith(registry(processor), store).cancel(callerA, refund.id);
    expect(processor.calls).toHaveLength(1);
    expect(cancelled.status).toBe('cancelled');
    expect(rawEvents(app, refund.id).at(-1)).toMatchObject({ from_status: 'processing', to_status: 'cancelled' });
  });
});
