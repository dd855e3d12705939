/**
 * The RefundStore contract: what any adapter (SQLite today, another database later) must do, told
 * through the port alone. Run by each adapter's test file with its own factory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RefundDraft, RefundStore } from '../../../src/domain/ports.js';
import type { Refund, RefundStatus } from '../../../src/domain/refund.js';
import { refundFixture, type StoreFactory, type StoreHarness } from './harness.js';

export function refundStoreContract(factory: StoreFactory): void {
  describe('RefundStore contract', () => {
    let stores: StoreHarness;
    let refunds: RefundStore;
    let org: string;
    let other: string;

    beforeEach(async () => {
      stores = await factory();
      refunds = stores.refunds;
      org = (await stores.organizations.create('Org')).id;
      other = (await stores.organizations.create('Other')).id;
    });
    afterEach(() => stores.close());

    const seed = (organizationId: string, overrides: Parameters<typeof refundFixture>[1] = {}) =>
      refunds.insert(refundFixture(organizationId, overrides));

    describe('insert', () => {
      it('stores the refund as given and writes a creation event', async () => {
        const refund = await seed(org, {
          status: 'pending',
          metadata: { orderId: 'order_1', note: 'ünïcödé ✓' },
          initiatedBy: 'dashboard',
          createdAt: '2026-02-02T02:02:02.000Z',
          updatedAt: '2026-02-02T02:02:02.000Z',
        });
        expect(await refunds.findById(org, refund.id)).toEqual(refund);
        expect(refund.metadata).toEqual({ orderId: 'order_1', note: 'ünïcödé ✓' });
        expect(refund.externalRefundId).toBeNull();
        const events = await refunds.events(org, refund.id);
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({
          refundId: refund.id,
          organizationId: org,
          from: null,
          to: 'pending',
          initiatedBy: 'dashboard',
          createdAt: '2026-02-02T02:02:02.000Z',
          detail: null,
        });
      });

      it('null metadata stays null', async () => {
        const refund = await seed(org, { metadata: null });
        expect((await refunds.findById(org, refund.id))?.metadata).toBeNull();
      });

      it('takes an explicit actor and detail for the creation event', async () => {
        const refund = await refunds.insert(refundFixture(org, { processor: 'stripe' }), { actor: 'system', detail: 'imported' });
        expect((await refunds.events(org, refund.id))[0]).toMatchObject({ initiatedBy: 'system', detail: 'imported' });
      });

      it('with a history, writes the creation event as pending and each step after it', async () => {
        const refund = await refunds.insert(refundFixture(org, { status: 'completed', updatedAt: '2026-03-03T00:02:00.000Z' }), {
          history: [
            { to: 'processing', actor: 'system', at: '2026-03-03T00:01:00.000Z', detail: 'submitted' },
            { to: 'completed', actor: 'system', at: '2026-03-03T00:02:00.000Z' },
          ],
        });
        const events = await refunds.events(org, refund.id);
        expect(events.map((e) => [e.from, e.to, e.createdAt, e.detail])).toEqual([
          [null, 'pending', refund.createdAt, null],
          ['pending', 'processing', '2026-03-03T00:01:00.000Z', 'submitted'],
          ['processing', 'completed', '2026-03-03T00:02:00.000Z', null],
        ]);
      });

      it('refuses a history with an illegal move, or that does not end in the status, writing nothing', async () => {
        const illegal = refundFixture(org, { status: 'pending' });
        const back = [
          { to: 'processing' as const, actor: 'system' as const, at: illegal.createdAt },
          { to: 'pending' as const, actor: 'system' as const, at: illegal.createdAt },
        ];
        await expect(refunds.insert(illegal, { history: back })).rejects.toThrow(/illegal/);
        const short = refundFixture(org, { status: 'completed' });
        await expect(refunds.insert(short, { history: [{ to: 'processing', actor: 'system', at: short.createdAt }] })).rejects.toThrow();
        expect(await refunds.findById(org, illegal.id)).toBeNull();
        expect(await refunds.findById(org, short.id)).toBeNull();
      });

      it('a rejected insert leaves no event behind', async () => {
        await expect(seed(org, { id: 'ref_badbadbadbad', amount: -1 })).rejects.toThrow();
        expect(await refunds.events(org, 'ref_badbadbadbad')).toEqual([]);
      });

      it('without a history, the creation event is in the status given', async () => {
        const refund = await seed(org, { status: 'completed' });
        expect((await refunds.events(org, refund.id)).map((e) => [e.from, e.to])).toEqual([[null, 'completed']]);
      });

      it('a history that stops short says where it ends and what the refund says', async () => {
        const short = refundFixture(org, { status: 'completed' });
        await expect(refunds.insert(short, { history: [{ to: 'processing', actor: 'system', at: short.createdAt }] })).rejects.toThrow(
          `refund ${short.id}: its history ends in processing, not completed`,
        );
      });
    });

    describe('create', () => {
      const draft = (over: Partial<RefundDraft> = {}): RefundDraft => ({
        id: refundFixture(org).id,
        organizationId: org,
        transactionId: 'ch_create',
        amount: 1000,
        currency: 'usd',
        reason: 'other',
        processor: 'sandbox',
        metadata: null,
        initiatedBy: 'mcp',
        createdAt: '2026-05-05T05:00:00.000Z',
        submitAt: '2026-05-05T05:00:00.000Z',
        idempotencyKey: null,
        requestFingerprint: null,
        ...over,
      });

      it('inserts a pending refund with its creation event', async () => {
        const result = await refunds.create(draft());
        expect(result.created).toBe(true);
        expect(result.refund).toMatchObject({ status: 'pending', initiatedBy: 'mcp', externalRefundId: null });
        expect((await refunds.events(org, result.refund.id)).map((e) => e.to)).toEqual(['pending']);
      });

      it('under a key the organization used already, returns that refund and its fingerprint, creating nothing', async () => {
        const first = await refunds.create(draft({ idempotencyKey: 'k1', requestFingerprint: 'f1' }));
        const again = await refunds.create(draft({ idempotencyKey: 'k1', requestFingerprint: 'f2', amount: 5 }));
        expect(again).toEqual({ created: false, refund: first.refund, fingerprint: 'f1' });
        expect(await refunds.list(org, {}, { limit: 10, offset: 0 })).toHaveLength(1);
        // Keys are the organization's own.
        expect((await refunds.create(draft({ organizationId: other, idempotencyKey: 'k1' }))).created).toBe(true);
      });

      it('the creation event says when submission is due, or that the refund is held until cancelled', async () => {
        const due = await refunds.create(draft({ submitAt: '2026-05-05T05:01:00.000Z' }));
        const held = await refunds.create(draft({ submitAt: null }));
        expect((await refunds.events(org, due.refund.id)).map((e) => e.detail)).toEqual(['created; submission due at 2026-05-05T05:01:00.000Z']);
        expect((await refunds.events(org, held.refund.id)).map((e) => e.detail)).toEqual(['created; held until cancelled']);
      });

      it("keeps the caller's metadata and the key that created the refund", async () => {
        const keyId = (await stores.apiKeys.create(org, 'test')).record.id;
        const result = await refunds.create(draft({ metadata: { orderId: 'order_9', note: 'ünïcödé' }, createdByKeyId: keyId }));
        expect(result.refund.metadata).toEqual({ orderId: 'order_9', note: 'ünïcödé' });
        expect((await refunds.findById(org, result.refund.id))?.metadata).toEqual({ orderId: 'order_9', note: 'ünïcödé' });
        expect(await stores.guardrails.refundCreator(org, result.refund.id)).toBe(keyId);
      });
    });

    describe('findById', () => {
      it('is scoped to the organization', async () => {
        const refund = await seed(org);
        expect(await refunds.findById(org, refund.id)).not.toBeNull();
        expect(await refunds.findById(other, refund.id)).toBeNull();
        expect(await refunds.findById(org, 'ref_nonexistent00')).toBeNull();
      });
    });

    describe('findByExternalId', () => {
      it('finds a refund of any organization by processor and processor id, and only that', async () => {
        const a = await seed(org, { status: 'processing', processor: 'stripe', externalRefundId: 're_A' });
        const b = await seed(other, { status: 'completed', processor: 'stripe', externalRefundId: 're_B' });
        await seed(other, { status: 'processing', processor: 'sandbox', externalRefundId: 're_C' });
        expect(await refunds.findByExternalId('stripe', 're_A')).toEqual(a);
        expect(await refunds.findByExternalId('stripe', 're_B')).toEqual(b);
        expect(await refunds.findByExternalId('stripe', 're_C')).toBeNull();
        expect(await refunds.findByExternalId('sandbox', 're_A')).toBeNull();
        expect(await refunds.findByExternalId('stripe', 're_missing')).toBeNull();
      });
    });

    describe('transition', () => {
      const change = (refundId: string, from: RefundStatus, to: RefundStatus, organizationId = org) => ({
        organizationId,
        refundId,
        from,
        to,
        actor: 'mcp' as const,
        at: '2026-05-05T05:05:05.000Z',
        detail: 'why',
      });
      const statusOf = async (id: string, organizationId = org) => (await refunds.findById(organizationId, id))?.status;

      it('moves the status, stamps updated_at and appends the event', async () => {
        const refund = await seed(org, { status: 'pending' });
        const moved = await refunds.transition(change(refund.id, 'pending', 'cancelled'));
        expect(moved).toMatchObject({ id: refund.id, status: 'cancelled', updatedAt: '2026-05-05T05:05:05.000Z' });
        expect(moved?.createdAt).toBe(refund.createdAt);
        const events = await refunds.events(org, refund.id);
        expect(events).toHaveLength(2);
        expect(events[1]).toMatchObject({
          from: 'pending',
          to: 'cancelled',
          initiatedBy: 'mcp',
          createdAt: '2026-05-05T05:05:05.000Z',
          detail: 'why',
        });
      });

      it('is conditional: a wrong `from` returns null, changes nothing and writes no event', async () => {
        const refund = await seed(org, { status: 'processing' });
        expect(await refunds.transition(change(refund.id, 'pending', 'cancelled'))).toBeNull();
        expect(await refunds.findById(org, refund.id)).toEqual(refund);
        expect(await refunds.events(org, refund.id)).toHaveLength(1);
      });

      it('the second of two identical transitions loses', async () => {
        const refund = await seed(org, { status: 'pending' });
        expect(await refunds.transition(change(refund.id, 'pending', 'cancelled'))).not.toBeNull();
        expect(await refunds.transition(change(refund.id, 'pending', 'cancelled'))).toBeNull();
        expect(await refunds.events(org, refund.id)).toHaveLength(2);
      });

      it('of two racing at once, exactly one wins', async () => {
        const refund = await seed(org, { status: 'pending' });
        const second = await stores.another();
        const results = await Promise.all([
          refunds.transition(change(refund.id, 'pending', 'cancelled')),
          second.refunds.transition(change(refund.id, 'pending', 'cancelled')),
        ]);
        expect(results.filter((r) => r !== null)).toHaveLength(1);
        expect(await refunds.events(org, refund.id)).toHaveLength(2);
      });

      it("another organization's refund is not moved", async () => {
        const refund = await seed(org, { status: 'pending' });
        expect(await refunds.transition(change(refund.id, 'pending', 'cancelled', other))).toBeNull();
        expect(await statusOf(refund.id)).toBe('pending');
        expect(await refunds.events(org, refund.id)).toHaveLength(1);
      });

      it('an unknown refund returns null', async () => {
        expect(await refunds.transition(change('ref_nosuchrefund', 'pending', 'cancelled'))).toBeNull();
      });

      it.each([
        ['cancelled', 'pending'],
        ['failed', 'completed'],
        ['completed', 'processing'],
        ['processing', 'pending'],
      ] as const)('an illegal move %s -> %s rejects before touching the row', async (from, to) => {
        const refund = await seed(org, { status: from });
        await expect(refunds.transition(change(refund.id, from, to))).rejects.toThrow(/illegal/);
        expect(await statusOf(refund.id)).toBe(from);
        expect(await refunds.events(org, refund.id)).toHaveLength(1);
      });

      it('sets externalRefundId when given and keeps it otherwise', async () => {
        const refund = await seed(org, { status: 'pending', externalRefundId: null });
        const submitted = await refunds.transition({ ...change(refund.id, 'pending', 'processing'), externalRefundId: 're_abc' });
        expect(submitted?.externalRefundId).toBe('re_abc');
        const completed = await refunds.transition(change(refund.id, 'processing', 'completed'));
        expect(completed?.externalRefundId).toBe('re_abc');
      });

      it('a null detail is stored as null', async () => {
        const refund = await seed(org, { status: 'pending' });
        await refunds.transition({ ...change(refund.id, 'pending', 'processing'), detail: null });
        expect((await refunds.events(org, refund.id))[1]!.detail).toBeNull();
      });

      it('an illegal move rejects even when the refund is not in `from` (it is not a lost race)', async () => {
        const refund = await seed(org, { status: 'pending' });
        await expect(refunds.transition(change(refund.id, 'cancelled', 'pending'))).rejects.toThrow('illegal refund status transition cancelled -> pending');
        expect(await refunds.events(org, refund.id)).toHaveLength(1);
      });

      it('neverSubmitted moves only a refund for which no attempt was ever started', async () => {
        const T0 = '2026-05-05T05:00:00.000Z';
        const created = async (): Promise<string> =>
          (
            await refunds.create({
              id: refundFixture(org).id, organizationId: org, transactionId: 'ch_never', amount: 1000, currency: 'usd', reason: 'other',
              processor: 'stripe', metadata: null, initiatedBy: 'mcp', createdAt: T0, submitAt: T0, idempotencyKey: null, requestFingerprint: null,
            })
          ).refund.id;
        const tried = await created();
        const untouched = await created();
        await refunds.claimForSubmission(tried, 'a', T0, '2026-05-05T05:01:00.000Z');
        await refunds.releaseClaim(tried, 'a', { retryAt: '2026-05-05T05:00:30.000Z', inDoubtUntil: '2026-05-05T05:00:40.000Z' });
        expect(await refunds.transition({ ...change(tried, 'pending', 'cancelled'), neverSubmitted: true })).toBeNull();
        expect(await statusOf(tried)).toBe('pending');
        expect(await refunds.events(org, tried)).toHaveLength(1);
        expect((await refunds.transition({ ...change(untouched, 'pending', 'cancelled'), neverSubmitted: true }))?.status).toBe('cancelled');
      });

      it('keeps the sync schedule unless the change sets it, and null stops it', async () => {
        const refund = await seed(org, { status: 'pending', processor: 'stripe' });
        await refunds.transition({ ...change(refund.id, 'pending', 'processing'), externalRefundId: 're_sync', nextSyncAt: '2026-05-05T06:00:00.000Z' });
        await refunds.transition(change(refund.id, 'processing', 'completed'));
        expect(await refunds.dueForSync('2026-05-05T06:00:00.000Z', 10, ['stripe'])).toEqual([{ organizationId: org, id: refund.id }]);
        await refunds.transition({ ...change(refund.id, 'completed', 'failed'), nextSyncAt: null });
        expect(await refunds.dueForSync('2026-05-09T00:00:00.000Z', 10, ['stripe'])).toEqual([]);
      });
    });

    describe('list', () => {
      it('is newest first with ties on created_at broken by id (descending)', async () => {
        const at = '2026-03-03T03:03:03.000Z';
        const ids = ['ref_bbbbbbbbbbbb', 'ref_aaaaaaaaaaaa', 'ref_cccccccccccc'];
        for (const id of ids) await seed(org, { id, createdAt: at, updatedAt: at });
        const newer = await seed(org, { createdAt: '2026-03-04T00:00:00.000Z', updatedAt: '2026-03-04T00:00:00.000Z' });
        const older = await seed(org, { createdAt: '2026-03-02T00:00:00.000Z', updatedAt: '2026-03-02T00:00:00.000Z' });
        const listed = (await refunds.list(org, {}, { limit: 10, offset: 0 })).map((r) => r.id);
        expect(listed).toEqual([newer.id, 'ref_cccccccccccc', 'ref_bbbbbbbbbbbb', 'ref_aaaaaaaaaaaa', older.id]);
      });

      it('pages are disjoint and cover everything, even with equal timestamps', async () => {
        const at = '2026-03-03T03:03:03.000Z';
        const all: string[] = [];
        for (let i = 0; i < 9; i += 1) all.push((await seed(org, { createdAt: at, updatedAt: at })).id);
        const seen: string[] = [];
        for (let offset = 0; offset < 9; offset += 4) {
          seen.push(...(await refunds.list(org, {}, { limit: 4, offset })).map((r) => r.id));
        }
        expect(seen).toHaveLength(9);
        expect([...seen].sort()).toEqual([...all].sort());
      });

      it('returns full refunds, filtered and scoped', async () => {
        const mine = await seed(org, { status: 'failed', processor: 'stripe', metadata: { k: 'v' } });
        await seed(org, { status: 'failed', processor: 'sandbox' });
        await seed(other, { status: 'failed', processor: 'stripe' });
        expect(await refunds.list(org, { status: 'failed', processor: 'stripe' }, { limit: 10, offset: 0 })).toEqual([mine]);
        expect(await refunds.list(other, {}, { limit: 10, offset: 0 })).toHaveLength(1);
      });

      // Both stores read pages from offset 5,000 on through a deferred join (ids chosen in the
      // index, then their rows read): the rows on both sides of that switch must be exactly the
      // ones at the offset asked (a `+ 1` there once went unnoticed).
      it('deep pages hold exactly the rows at the offset asked, for every filter, on both sides of offset 5,000', async () => {
        const start = Date.parse('2025-01-01T00:00:00.000Z');
        const mine: Refund[] = [];
        // 6,200 of org's (timestamps shared by threes, ids not in creation order) and 60 of other's.
        const drafts = [
          ...Array.from({ length: 6_200 }, (_, i) => {
            const at = new Date(start + Math.floor(i / 3) * 1000).toISOString();
            return refundFixture(org, {
              id: `ref_d${String((i * 7_919) % 6_200).padStart(11, '0')}`,
              status: i % 10 === 0 ? 'completed' : 'pending',
              processor: i % 12 === 0 ? 'sandbox' : 'stripe',
              createdAt: at,
              updatedAt: at,
            });
          }),
          ...Array.from({ length: 60 }, (_, i) => refundFixture(other, { createdAt: new Date(start + i * 100_000).toISOString() })),
        ];
        // In parallel batches: one at a time is slow over a network connection.
        for (let i = 0; i < drafts.length; i += 50) {
          const inserted = await Promise.all(drafts.slice(i, i + 50).map((draft) => refunds.insert(draft)));
          mine.push(...inserted.filter((refund) => refund.organizationId === org));
        }
        const newestFirst = (a: Refund, b: Refund): number =>
          a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1;
        const filters = [{}, { status: 'pending' as const }, { processor: 'stripe' }, { status: 'pending' as const, processor: 'stripe' }];
        for (const filter of filters) {
          const expected = mine
            .filter((r) => (filter.status === undefined || r.status === filter.status) && (filter.processor === undefined || r.processor === filter.processor))
            .sort(newestFirst);
          expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(5_100);
          for (const offset of [4_990, 4_999, 5_000, 5_001, 5_074, expected.length - 10, expected.length]) {
            const page = await refunds.list(org, filter, { limit: 26, offset });
            // Whole refunds, as inserted: not only the right ids.
            expect(page, `${JSON.stringify(filter)} at ${offset}`).toEqual(expected.slice(offset, offset + 26));
          }
        }
      }, 120_000);
    });

    describe('claims, and the doubt an unanswered attempt leaves', () => {
      const T0 = '2026-05-05T05:00:00.000Z';
      const at = (seconds: number): string => new Date(Date.parse(T0) + seconds * 1000).toISOString();
      let counter = 0;
      async function duePending(): Promise<string> {
        counter += 1;
        const id = `ref_claim${String(counter).padStart(7, '0')}`;
        await refunds.create({
          id,
          organizationId: org,
          transactionId: 'ch_claims',
          amount: 1000,
          currency: 'usd',
          reason: 'other',
          processor: 'stripe',
          metadata: null,
          initiatedBy: 'mcp',
          createdAt: T0,
          submitAt: T0,
          idempotencyKey: null,
          requestFingerprint: null,
        });
        return id;
      }

      it('one claim at a time: a second claimant gets null until the lease runs out', async () => {
        const id = await duePending();
        expect(await refunds.claimForSubmission(id, 'a', at(0), at(60))).toMatchObject({ token: 'a', attempt: 1 });
        expect(await refunds.claimForSubmission(id, 'b', at(1), at(61))).toBeNull();
        expect(await refunds.claimForCancel(id, 'c', at(1), at(61), at(1))).toBeNull();
        expect(await refunds.submissionState(id, at(1))).toEqual({ attempts: 1, claimed: true, inDoubtUntil: null, lapsedClaimExpiredAt: null });
        expect(await refunds.claimForSubmission(id, 'b', at(61), at(121))).toMatchObject({ token: 'b', attempt: 2 });
      });

      it('of two claiming at once through two connections, exactly one gets it', async () => {
        const id = await duePending();
        const second = await stores.another();
        const claims = await Promise.all([
          refunds.claimForSubmission(id, 'a', at(0), at(60)),
          second.refunds.claimForSubmission(id, 'b', at(0), at(60)),
        ]);
        expect(claims.filter((c) => c !== null)).toHaveLength(1);
      });

      it('due lists: a due pending refund until claimed; a processing one once its sync is due', async () => {
        const id = await duePending();
        expect(await refunds.dueForSubmission(at(0), 10, ['stripe'])).toEqual([{ organizationId: org, id }]);
        // Only the processors asked for: a process never takes work it cannot do.
        expect(await refunds.dueForSubmission(at(0), 10, ['sandbox'])).toEqual([]);
        expect(await refunds.dueForSubmission(at(0), 10, [])).toEqual([]);
        await refunds.claimForSubmission(id, 'a', at(0), at(60));
        expect(await refunds.dueForSubmission(at(1), 10, ['stripe'])).toEqual([]);
        await refunds.transition({
          organizationId: org, refundId: id, from: 'pending', to: 'processing', actor: 'system', at: at(2),
          externalRefundId: 're_due', claimToken: 'a', nextSyncAt: at(30),
        });
        expect(await refunds.dueForSync(at(29), 10, ['stripe'])).toEqual([]);
        expect(await refunds.dueForSync(at(30), 10, ['stripe'])).toEqual([{ organizationId: org, id }]);
        expect(await refunds.dueForSync(at(30), 10, ['sandbox'])).toEqual([]);
        await refunds.scheduleSync(id, null);
        expect(await refunds.dueForSync(at(99), 10, ['stripe'])).toEqual([]);
      });

      it('a release with inDoubtUntil records it; a cancel cannot claim until it has passed, a retry can', async () => {
        const id = await duePending();
        await refunds.claimForSubmission(id, 'a', at(0), at(60));
        await refunds.releaseClaim(id, 'a', { retryAt: at(5), error: 'timed out', inDoubtUntil: at(40) });
        expect(await refunds.submissionState(id, at(10))).toEqual({ attempts: 1, claimed: false, inDoubtUntil: at(40), lapsedClaimExpiredAt: null });
        expect(await refunds.claimForCancel(id, 'c', at(39), at(99), at(39))).toBeNull();
        // The dispatcher's retry carries the same idempotency key, so it may go ahead during the doubt.
        expect(await refunds.claimForSubmission(id, 'r', at(10), at(70))).toMatchObject({ attempt: 2 });
        await refunds.releaseClaim(id, 'r', { retryAt: at(25), error: 'timed out again', inDoubtUntil: at(50) });
        expect(await refunds.claimForCancel(id, 'c', at(49), at(109), at(49))).toBeNull();
        expect(await refunds.claimForCancel(id, 'c', at(50), at(110), at(50))).not.toBeNull();
      });

      it('a release without inDoubtUntil keeps the doubt an earlier attempt left', async () => {
        const id = await duePending();
        await refunds.claimForSubmission(id, 'a', at(0), at(60));
        await refunds.releaseClaim(id, 'a', { retryAt: at(1), inDoubtUntil: at(40) });
        await refunds.claimForSubmission(id, 'b', at(1), at(61));
        await refunds.releaseClaim(id, 'b', { retryAt: at(2), error: 'not configured' });
        expect((await refunds.submissionState(id, at(2)))?.inDoubtUntil).toBe(at(40));
      });

      it('a release by a token that no longer holds the claim changes nothing', async () => {
        const id = await duePending();
        await refunds.claimForSubmission(id, 'a', at(0), at(60));
        await refunds.releaseClaim(id, 'stale', { retryAt: at(1), inDoubtUntil: at(40) });
        expect(await refunds.submissionState(id, at(1))).toEqual({ attempts: 1, claimed: true, inDoubtUntil: null, lapsedClaimExpiredAt: null });
      });

      it('a lapsed claim (its holder died) is reported, and a cancel may only take it once lapsedBefore is past its end', async () => {
        const id = await duePending();
        await refunds.claimForSubmission(id, 'dead', at(0), at(60));
        expect(await refunds.submissionState(id, at(61))).toEqual({ attempts: 1, claimed: false, inDoubtUntil: null, lapsedClaimExpiredAt: at(60) });
        expect(await refunds.claimForCancel(id, 'c', at(61), at(121), at(21))).toBeNull();
        expect(await refunds.claimForCancel(id, 'c', at(101), at(161), at(61))).not.toBeNull();
      });

      it('a release with retryAt puts the next attempt off until then', async () => {
        const id = await duePending();
        await refunds.claimForSubmission(id, 'a', at(0), at(60));
        await refunds.releaseClaim(id, 'a', { retryAt: at(100), error: 'timed out' });
        expect(await refunds.dueForSubmission(at(99), 10, ['stripe'])).toEqual([]);
        expect(await refunds.claimForSubmission(id, 'b', at(99), at(159))).toBeNull();
        expect(await refunds.dueForSubmission(at(100), 10, ['stripe'])).toEqual([{ organizationId: org, id }]);
      });

      it('a release after an attempt that sent nothing takes the attempt back', async () => {
        const id = await duePending();
        await refunds.claimForSubmission(id, 'a', at(0), at(60));
        await refunds.releaseClaim(id, 'a', { retryAt: at(5), sentNothing: true });
        expect(await refunds.submissionState(id, at(1))).toEqual({ attempts: 0, claimed: false, inDoubtUntil: null, lapsedClaimExpiredAt: null });
        expect(await refunds.claimForSubmission(id, 'b', at(5), at(65))).toMatchObject({ attempt: 1 });
      });

      it('the submission state of an unknown refund is null', async () => {
        expect(await refunds.submissionState('ref_nosuchrefund', at(0))).toBeNull();
      });
    });
  });
}
