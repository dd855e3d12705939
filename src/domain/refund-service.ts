/**
 * The refund use cases. Adapters validate input at the edge, say who is acting, and call one
 * method here; every business rule lives in this class.
 */
import { errors } from './errors.js';
import type { Clock, ListFilter, ProcessorRegistry, RefundStore } from './ports.js';
import type { Actor, Refund } from './refund.js';
import type { ListQuery } from './schemas.js';

/** The caller as the adapter established it: which organization, acting through which channel. */
export interface Caller {
  organizationId: string;
  actor: Actor;
}

export interface RefundPage {
  refunds: Refund[];
  limit: number;
  offset: number;
  /** The offset of the next page, or null when this page is the last. */
  nextOffset: number | null;
}

export interface RefundServiceDeps {
  store: RefundStore;
  processors: ProcessorRegistry;
  clock: Clock;
}

export class RefundService {
  private readonly store: RefundStore;
  private readonly processors: ProcessorRegistry;
  private readonly clock: Clock;

  constructor(deps: RefundServiceDeps) {
    this.store = deps.store;
    this.processors = deps.processors;
    this.clock = deps.clock;
  }

  get(caller: Caller, refundId: string): Refund {
    const refund = this.store.findById(caller.organizationId, refundId);
    if (refund === null) throw errors.notFound();
    return refund;
  }

  list(caller: Caller, query: ListQuery): RefundPage {
    const filter: ListFilter = {};
    if (query.status !== undefined) filter.status = query.status;
    if (query.processor !== undefined) filter.processor = query.processor;
    // One extra row tells whether another page exists without a COUNT over the whole table.
    const rows = this.store.list(caller.organizationId, filter, { limit: query.limit + 1, offset: query.offset });
    const hasMore = rows.length > query.limit;
    return {
      refunds: hasMore ? rows.slice(0, query.limit) : rows,
      limit: query.limit,
      offset: query.offset,
      nextOffset: hasMore ? query.offset + query.limit : null,
    };
  }

  /**
   * Cancels a pending refund locally, or asks the processor to cancel a processing one. Every
   * write is conditional on the status we read, so when two callers race exactly one wins and
   * the other is told the status the winner left.
   */
  async cancel(caller: Caller, refundId: string): Promise<Refund> {
    const refund = this.get(caller, refundId);
    if (refund.status === 'pending') {
      const cancelled = this.store.transition({
        organizationId: caller.organizationId,
        refundId,
        from: 'pending',
        to: 'cancelled',
        actor: caller.actor,
        at: this.now(),
        detail: 'cancelled before submission to the processor',
      });
      if (cancelled !== null) return cancelled;
      // Lost a race. If the refund was submitted meanwhile, cancelling it is still possible.
      const current = this.get(caller, refundId);
      if (current.status === 'processing') return this.cancelAtProcessor(caller, current);
      throw errors.notCancellable(current.status);
    }
    if (refund.status === 'processing') return this.cancelAtProcessor(caller, refund);
    throw errors.notCancellable(refund.status);
  }

  private async cancelAtProcessor(caller: Caller, refund: Refund): Promise<Refund> {
    const found = this.processors.lookup(refund.processor);
    if (!found.ok) throw errors.processorNotConfigured(refund.processor, found.hint);
    const outcome = await found.processor.cancel(refund);
    if (outcome.accepted) {
      const cancelled = this.store.transition({
        organizationId: caller.organizationId,
        refundId: refund.id,
        from: 'processing',
        to: 'cancelled',
        actor: caller.actor,
        at: this.now(),
        detail: `cancellation accepted by ${refund.processor}`,
      });
      if (cancelled !== null) return cancelled;
      throw errors.notCancellable(this.get(caller, refund.id).status);
    }
    // Refused: record where the refund really stands, then tell the caller the truth.
    let status = refund.status;
    if (outcome.status !== refund.status) {
      const moved = this.store.transition({
        organizationId: caller.organizationId,
        refundId: refund.id,
        from: refund.status,
        to: outcome.status,
        actor: 'system',
        at: this.now(),
        detail: `${refund.processor} refused the cancellation: ${outcome.reason}`,
      });
      status = moved?.status ?? this.get(caller, refund.id).status;
    }
    throw errors.processorRefusedCancel(status);
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}
