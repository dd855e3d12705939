/**
 * Several processes share one database, and not every one has every processor (a server without
 * STRIPE_SECRET_KEY beside one with it). Background work is only ever taken by a process that has
 * the refund's processor: the others neither claim, reschedule nor mark it, and another
 * processor's backlog never keeps a process from its own refunds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ProcessorStatus, RefundProcessor, SubmitOutcome } from '../../src/domain/ports.js';
import type { Refund, RefundStatus } from '../../src/domain/refund.js';
import { RefundService, type Caller } from '../../src/domain/refund-service.js';
import type { CreateRefundInput } from '../../src/domain/schemas.js';
import { StaticProcessorRegistry } from '../../src/processors/registry.js';
import { cleanupAll, createOrg, createTestApp, FakeClock, insertRefund, settingsWith } from '../support/fixtures.js';

/** A processor that records what it is asked and always succeeds. */
class RecordingProcessor implements RefundProcessor {
  submits: string[] = [];
  retrieves: string[] = [];
  settleTo: RefundStatus = 'completed';

  constructor(readonly name: string) {}

  submit(refund: Refund): Promise<SubmitOutcome> {
    this.submits.push(refund.id);
    return Promise.resolve({ kind: 'submitted', externalRefundId: `${this.name}_re_${refund.id.slice(4)}`, status: 'processing' });
  }
  retrieve(refund: Refund): Promise<ProcessorStatus> {
    this.retrieves.push(refund.id);
    return Promise.resolve({ status: this.settleTo });
  }
  cancel(): Promise<{ accepted: true }> {
    return Promise.resolve({ accepted: true });
  }
  findSubmitted(): Promise<null> {
    return Promise.resolve(null);
  }
}

const HINTS = { stripe: 'set STRIPE_SECRET_KEY' };

function world() {
  const app = createTestApp();
  const org = createOrg(app);
  const clock = new FakeClock();
  const caller: Caller = { organizationId: org.id, actor: 'mcp' };
  /** One process: a service over the shared store with these processors only. */
  const processWith = (...processors: RefundProcessor[]): RefundService =>
    new RefundService({
      store: app.refunds,
      processors: new StaticProcessorRegistry(processors, HINTS, processors[0]?.name),
      clock,
      settings: settingsWith({ syncIntervalMs: 60_000 }),
    });
  const at = (seconds: number): string => new Date(clock.ms + seconds * 1000).toISOString();
  let n = 0;
  /** A pending refund of `processor` that has been due since `dueFor` seconds. */
  const duePending = (processor: string, dueFor: number): string => {
    n += 1;
    const id = `ref_due${String(n).padStart(9, '0')}`;
    insertRefund(app, org.id, { id, transactionId: `ch_${processor}_${n}`, amount: 1000 + n, reason: 'other', processor, createdAt: at(-dueFor) });
    app.db.prepare('UPDATE refunds SET next_attempt_at = ? WHERE id = ?').run(at(-dueFor), id);
    return id;
  };
  /** A processing refund of `processor` whose status read has been due since `dueFor` seconds. */
  const dueProcessing = (processor: string, dueFor: number): string => {
    const refund = insertRefund(app, org.id, { status: 'processing', processor });
    app.db.prepare('UPDATE refunds SET next_sync_at = ? WHERE id = ?').run(at(-dueFor), refund.id);
    return refund.id;
  };
  /** Every column of the refunds and every event, to prove a pass changed nothing of theirs. */
  const rows = (ids: readonly string[]): unknown => ({
    refunds: ids.map((id) => app.db.prepare('SELECT * FROM refunds WHERE id = ?').get(id)),
    events: ids.map((id) => app.db.prepare('SELECT * FROM refund_events WHERE refund_id = ? ORDER BY id').all(id)),
  });
  return { app, org, clock, caller, processWith, duePending, dueProcessing, rows };
}

afterEach(() => cleanupAll());

describe('a process without a processor leaves that processor’s refunds exactly as they are', () => {
  it('submitDue: no claim, attempt, error or new schedule for them; its own are submitted behind their backlog', async () => {
    const w = world();
    const stripeDue = Array.from({ length: 8 }, (_, i) => w.duePending('stripe', 100 - i));
    const own = w.duePending('sandbox', 1);
    const before = w.rows(stripeDue);
    const sandbox = new RecordingProcessor('sandbox');
    // A pass of 5: were the 8 older stripe refunds selected, the sandbox one would not fit.
    expect(await w.processWith(sandbox).submitDue(5)).toBe(1);
    expect(sandbox.submits).toEqual([own]);
    expect(w.rows(stripeDue)).toEqual(before);
  });

  it('syncDue: their next status read stays when it was; its own is read behind their backlog', async () => {
    const w = world();
    const stripeDue = Array.from({ length: 8 }, (_, i) => w.dueProcessing('stripe', 100 - i));
    const own = w.dueProcessing('sandbox', 1);
    const before = w.rows(stripeDue);
    const sandbox = new RecordingProcessor('sandbox');
    expect(await w.processWith(sandbox).syncDue(5)).toEqual({ synced: 1, changed: 1 });
    expect(sandbox.retrieves).toEqual([own]);
    expect(w.rows(stripeDue)).toEqual(before);
  });

  it('so the process that has the processor submits and reads them at once, each in one attempt', async () => {
    const w = world();
    const pending = [w.duePending('stripe', 10), w.duePending('stripe', 9)];
    const processing = [w.dueProcessing('stripe', 10), w.dueProcessing('stripe', 9)];
    await w.processWith(new RecordingProcessor('sandbox')).runPass();
    const stripe = new RecordingProcessor('stripe');
    expect(await w.processWith(stripe, new RecordingProcessor('sandbox')).runPass()).toEqual({ submitted: 2, synced: 2, changed: 2 });
    expect(stripe.submits.sort()).toEqual([...pending].sort());
    expect(stripe.retrieves.sort()).toEqual([...processing].sort());
    for (const id of pending) {
      expect(w.app.db.prepare('SELECT status, attempts, last_error FROM refunds WHERE id = ?').get(id)).toEqual({
        status: 'processing',
        attempts: 1,
        last_error: null,
      });
    }
  });

  it('a refund created where its processor is missing goes back as it was: due, no attempt, no error; a cancel stays local', async () => {
    const w = world();
    const input: CreateRefundInput = { transactionId: 'ch_created_here', amount: 2500, currency: 'usd', reason: 'other' };
    // A registry whose default processor is not configured: config refuses it, but the service
    // must still never leave a mark on a refund it cannot submit.
    const without = new RefundService({
      store: w.app.refunds,
      processors: new StaticProcessorRegistry([new RecordingProcessor('sandbox')], HINTS, 'stripe'),
      clock: w.clock,
      settings: settingsWith(),
    });
    const created = await without.create(w.caller, input);
    expect(created.status).toBe('pending');
    const row = (): unknown =>
      w.app.db
        .prepare('SELECT attempts, last_error, claim_token, in_doubt_until, next_attempt_at FROM refunds WHERE id = ?')
        .get(created.id);
    expect(row()).toEqual({ attempts: 0, last_error: null, claim_token: null, in_doubt_until: null, next_attempt_at: created.createdAt });

    const stripe = new RecordingProcessor('stripe');
    expect(await w.processWith(stripe).submitDue()).toBe(1);
    expect(stripe.submits).toEqual([created.id]);

    const another = await without.create(w.caller, { ...input, transactionId: 'ch_cancelled_here' });
    expect((await without.cancel(w.caller, another.id)).status).toBe('cancelled');
  });
});
