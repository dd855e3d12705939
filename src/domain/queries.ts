/**
 * Reading refunds: one by id, a page of them, and one read fresh from its processor.
 */
import { asRefundKitError, errors } from './errors.js';
import type { Caller, RefundContext } from './context.js';
import { graceFor, processorShare, within } from './deadline.js';
import type { ListFilter, RefundProcessor } from './ports.js';
import { applyProcessorStatus, withDetail } from './processor-status.js';
import type { Refund } from './refund.js';
import type { ListQuery } from './schemas.js';

export interface RefundPage {
  refunds: Refund[];
  limit: number;
  offset: number;
  /** The offset of the next page, or null when this page is the last. */
  nextOffset: number | null;
}

/** Bounds the memory of refunds read on request; past it, the oldest are simply read again. */
const MAX_REMEMBERED_READS = 10_000;

export async function getRefund(ctx: RefundContext, caller: Caller, refundId: string): Promise<Refund> {
  const refund = await ctx.store.findById(caller.organizationId, refundId);
  if (refund === null) throw errors.notFound();
  return refund;
}

export async function listRefunds(ctx: RefundContext, caller: Caller, query: ListQuery): Promise<RefundPage> {
  const filter: ListFilter = {};
  if (query.status !== undefined) filter.status = query.status;
  if (query.processor !== undefined) filter.processor = query.processor;
  // One extra row tells whether another page exists without a COUNT over the whole table.
  const rows = await ctx.store.list(caller.organizationId, filter, { limit: query.limit + 1, offset: query.offset });
  const hasMore = rows.length > query.limit;
  return {
    refunds: hasMore ? rows.slice(0, query.limit) : rows,
    limit: query.limit,
    offset: query.offset,
    nextOffset: hasMore ? query.offset + query.limit : null,
  };
}

/**
 * get, with a processing refund's status first read from its processor when this process has
 * not read it for refreshAfterMs: an agent watching a refund settle sees what the processor
 * says now, not what the last background read left (up to syncIntervalMs old), with no webhook
 * endpoint needed. The read is one short try (refreshTimeoutMs, and within the call deadline)
 * and never fails the call: on any fault the stored refund is answered as it stands, and the
 * background loop reads it later.
 *
 * One per process: it remembers which refunds it read, and shares a read in progress.
 */
export class FreshReads {
  /** When this process last read a processing refund's status on a caller's behalf (epoch ms). */
  private readonly readOnRequest = new Map<string, number>();
  /** Reads in progress, so that callers asking about one refund at once share one read. */
  private readonly reading = new Map<string, Promise<void>>();

  constructor(private readonly ctx: RefundContext) {}

  async get(caller: Caller, refundId: string): Promise<Refund> {
    const { ctx } = this;
    const refund = await getRefund(ctx, caller, refundId);
    if (refund.status !== 'processing' || refund.externalRefundId === null || ctx.settings.refreshAfterMs <= 0) return refund;
    let read = this.reading.get(refund.id);
    if (read === undefined) {
      const lastRead = this.readOnRequest.get(refund.id);
      if (lastRead !== undefined && ctx.clock.now().getTime() - lastRead < ctx.settings.refreshAfterMs) return refund;
      const found = ctx.processors.lookup(refund.processor);
      if (!found.ok) return refund;
      read = this.readOnBehalf(refund, found.processor).finally(() => this.reading.delete(refund.id));
      this.reading.set(refund.id, read);
    }
    await read;
    return getRefund(ctx, caller, refundId);
  }

  private async readOnBehalf(refund: Refund, processor: RefundProcessor): Promise<void> {
    const { ctx } = this;
    if (this.readOnRequest.size >= MAX_REMEMBERED_READS) this.readOnRequest.clear();
    this.readOnRequest.set(refund.id, ctx.clock.now().getTime());
    const { refreshTimeoutMs, callDeadlineMs } = ctx.settings;
    const timeoutMs = Math.min(refreshTimeoutMs, processorShare(callDeadlineMs));
    try {
      // The processor bounds its own request; the race bounds one that does not answer at all.
      const read = await within(processor.retrieve(refund, { timeoutMs }), Math.min(timeoutMs + graceFor(timeoutMs), callDeadlineMs));
      if (!read.done) throw errors.processorUnavailable(refund.processor);
      const remote = read.value;
      // An unchanged status writes nothing: a read on request must stay a read.
      if (remote.status !== refund.status) {
        const detail = withDetail(`status read from ${refund.processor} on request`, remote.detail);
        await applyProcessorStatus(ctx, refund, remote.status, detail);
      }
    } catch (error) {
      ctx.report('status read on request failed; answering with the stored status', {
        refundId: refund.id,
        error: asRefundKitError(error).message,
      });
    }
  }
}
