/**
 * The refund as the API reference defines it, and the status machine every adapter obeys.
 */

export const REFUND_STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/** Who asked for a refund. The adapter decides this, never the caller. */
export const INITIATORS = ['api', 'dashboard', 'mcp'] as const;
export type Initiator = (typeof INITIATORS)[number];

/**
 * Who moved a refund from one status to another. Besides the three initiators, `system` covers
 * changes nobody asked for directly: a submission by the dispatcher, a status read back from the
 * processor, a webhook.
 */
export const ACTORS = [...INITIATORS, 'system'] as const;
export type Actor = (typeof ACTORS)[number];

export type RefundMetadata = Record<string, string>;

/**
 * Why a refund is made: a closed list, kept verbatim in our record. The reference's own examples
 * (product_defective, duplicate_charge) are here; processors get their nearest reason, if any.
 */
export const REFUND_REASONS = [
  'duplicate_charge',
  'fraudulent',
  'requested_by_customer',
  'product_defective',
  'product_not_received',
  'other',
] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

export interface Refund {
  id: string;
  organizationId: string;
  externalRefundId: string | null;
  transactionId: string;
  amount: number;
  currency: string;
  reason: string;
  status: RefundStatus;
  processor: string;
  metadata: RefundMetadata | null;
  initiatedBy: Initiator;
  createdAt: string;
  updatedAt: string;
}

/**
 * Legal moves. `completed → failed` exists because a card refund that succeeded can still fail
 * later (the processor reports it afterwards); nothing ever leaves `failed` or `cancelled`.
 */
const TRANSITIONS: Readonly<Record<RefundStatus, readonly RefundStatus[]>> = {
  pending: ['processing', 'completed', 'failed', 'cancelled'],
  processing: ['completed', 'failed', 'cancelled'],
  completed: ['failed'],
  failed: [],
  cancelled: [],
};

export function canTransition(from: RefundStatus, to: RefundStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function allowedTransitions(from: RefundStatus): readonly RefundStatus[] {
  return TRANSITIONS[from];
}

/** Pending refunds are cancelled locally; processing ones need the processor's agreement. */
export function isCancellable(status: RefundStatus): boolean {
  return status === 'pending' || status === 'processing';
}

export function isRefundStatus(value: string): value is RefundStatus {
  return (REFUND_STATUSES as readonly string[]).includes(value);
}

export function isInitiator(value: string): value is Initiator {
  return (INITIATORS as readonly string[]).includes(value);
}

export function isActor(value: string): value is Actor {
  return (ACTORS as readonly string[]).includes(value);
}
