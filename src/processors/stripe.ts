/**
 * Stripe, through the official `stripe` package. The package is loaded on first use, not at
 * start, so a server that never touches Stripe (or has not yet) starts without paying for it.
 *
 * Every create carries an idempotency key derived from our refund id, and the refund carries our
 * id in its metadata: a retry within Stripe's idempotency window replays the first answer, and a
 * retry after it (or after a crash) finds the first refund by listing the charge's refunds.
 */
import type Stripe from 'stripe';
import { errors } from '../domain/errors.js';
import type { CallOptions, CancelOutcome, ProcessorStatus, RefundProcessor, SubmitOutcome } from '../domain/ports.js';
import type { Refund, RefundReason, RefundStatus } from '../domain/refund.js';

export const STRIPE_PROCESSOR = 'stripe';

export interface StripeProcessorOptions {
  secretKey: string;
  /** Another base URL (e.g. http://127.0.0.1:12111): how tests reach a Stripe imitation. */
  apiBase?: string | undefined;
  timeoutMs: number;
  maxNetworkRetries: number;
}

/** Our metadata keys on every Stripe refund. */
export const REFUND_ID_METADATA_KEY = 'refundkit_refund_id';
export const REASON_METADATA_KEY = 'refundkit_reason';

/** Stripe's own reasons where ours fit; the rest go without one (ours is kept in metadata). */
const STRIPE_REASONS: Partial<Record<RefundReason, Stripe.RefundCreateParams.Reason>> = {
  duplicate_charge: 'duplicate',
  fraudulent: 'fraudulent',
  requested_by_customer: 'requested_by_customer',
};

/** Never report completed for a status we do not know: unknown means still processing. */
export function mapStripeStatus(status: string | null | undefined): RefundStatus {
  switch (status) {
    case 'succeeded':
      return 'completed';
    case 'failed':
      return 'failed';
    case 'canceled':
      return 'cancelled';
    default:
      return 'processing';
  }
}

/**
 * The least time after an unanswered request during which Stripe may still execute it, whatever
 * our client's timeout. Nothing documents how late Stripe may act on a request it received; its
 * own libraries wait 80 s for an answer (stripe-node's default timeout), so Stripe answers within
 * that in the worst case it designs for, and twice that is the margin we take. The window must
 * not shrink with a short client timeout (STRIPE_TIMEOUT_MS=300 once let a cancel at 1 s record
 * "never received" for a refund Stripe executed at 2.5 s): it is the server's lateness, not ours.
 */
export const STRIPE_LATE_EXECUTION_FLOOR_MS = 160_000;

/** Allowed for the SDK's own pause before each retry (0.5 s, then 1 s, with jitter). */
const RETRY_PAUSE_ALLOWANCE_MS = 1_000;

export function stripeIdempotencyKey(refundId: string): string {
  return `refundkit:${refundId}:create`;
}

interface StripeErrorLike {
  type: string;
  code?: string | undefined;
  statusCode?: number | undefined;
  message: string;
}

function asStripeError(error: unknown): StripeErrorLike | null {
  if (!(error instanceof Error) || !('type' in error) || typeof error.type !== 'string') return null;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const statusCode = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : undefined;
  return { type: error.type, code, statusCode, message: error.message };
}

/**
 * Stripe said no for good: the request was understood and refused (unknown charge, already
 * refunded, disputed, amount too large, card error). Anything else (network, timeout, 5xx, 429,
 * auth, idempotency mix-ups) is an outage: nothing is decided and the refund stays as it was.
 */
function isRejection(error: StripeErrorLike): boolean {
  return error.type === 'StripeInvalidRequestError' || error.type === 'StripeCardError';
}

function describe(error: StripeErrorLike): string {
  return error.code === undefined ? error.message : `${error.code}: ${error.message}`;
}

/** What is left of a caller's time, handed out request by request. */
interface Budget {
  /** Options for the next request; throws when no time is left. */
  next(): Stripe.RequestOptions;
  /** The rest, for a call made on the way (a read-back after a refused cancel). */
  remaining(): CallOptions;
}

export class StripeProcessor implements RefundProcessor {
  readonly name = STRIPE_PROCESSOR;
  private client: Promise<Stripe> | undefined;

  constructor(private readonly options: StripeProcessorOptions) {}

  async submit(refund: Refund, attempt: number, options: CallOptions = {}): Promise<SubmitOutcome> {
    const budget = this.budget(options);
    const stripe = await this.stripe();
    try {
      if (attempt > 1) {
        const earlier = await this.findByMetadata(stripe, refund, budget);
        if (earlier !== null) {
          return {
            kind: 'submitted',
            externalRefundId: earlier.id,
            status: mapStripeStatus(earlier.status),
            detail: 'found the refund an interrupted attempt had created',
          };
        }
      }
      const currency = await this.transactionCurrency(stripe, refund.transactionId, budget);
      if (currency !== refund.currency) {
        return {
          kind: 'rejected',
          reason: `currency mismatch: ${refund.transactionId} was paid in ${currency}, the refund says ${refund.currency}`,
        };
      }
      const reason = STRIPE_REASONS[refund.reason as RefundReason];
      const created = await stripe.refunds.create(
        {
          ...(refund.transactionId.startsWith('pi_')
            ? { payment_intent: refund.transactionId }
            : { charge: refund.transactionId }),
          amount: refund.amount,
          ...(reason === undefined ? {} : { reason }),
          metadata: { ...refund.metadata, [REFUND_ID_METADATA_KEY]: refund.id, [REASON_METADATA_KEY]: refund.reason },
        },
        // Cut short like the reads when a caller waits: an abort only leaves the attempt in doubt,
        // which the idempotency key and the lookup before any retry make safe.
        { idempotencyKey: stripeIdempotencyKey(refund.id), ...budget.next() },
      );
      const detail = created.failure_reason == null ? `stripe status ${String(created.status)}` : `failure_reason ${created.failure_reason}`;
      return { kind: 'submitted', externalRefundId: created.id, status: mapStripeStatus(created.status), detail };
    } catch (error) {
      const stripeError = asStripeError(error);
      if (stripeError !== null && isRejection(stripeError)) return { kind: 'rejected', reason: describe(stripeError) };
      throw errors.processorUnavailable(this.name, { cause: error });
    }
  }

  async retrieve(refund: Refund, options: CallOptions = {}): Promise<ProcessorStatus> {
    const budget = this.budget(options);
    const stripe = await this.stripe();
    const externalId = this.externalId(refund);
    try {
      const remote = await stripe.refunds.retrieve(externalId, {}, budget.next());
      return {
        status: mapStripeStatus(remote.status),
        detail: remote.failure_reason == null ? `stripe status ${String(remote.status)}` : `stripe status ${String(remote.status)}, failure_reason ${remote.failure_reason}`,
      };
    } catch (error) {
      throw errors.processorUnavailable(this.name, { cause: error });
    }
  }

  async cancel(refund: Refund, options: CallOptions = {}): Promise<CancelOutcome> {
    const budget = this.budget(options);
    const stripe = await this.stripe();
    const externalId = this.externalId(refund);
    try {
      const cancelled = await stripe.refunds.cancel(externalId, {}, budget.next());
      const status = mapStripeStatus(cancelled.status);
      return status === 'cancelled'
        ? { accepted: true }
        : { accepted: false, status, reason: `stripe answered with status ${String(cancelled.status)}` };
    } catch (error) {
      const stripeError = asStripeError(error);
      if (stripeError === null || !isRejection(stripeError)) throw errors.processorUnavailable(this.name, { cause: error });
      // Stripe only cancels refunds awaiting customer action; read back what it holds instead.
      const current = await this.retrieve(refund, budget.remaining());
      return { accepted: false, status: current.status, reason: describe(stripeError) };
    }
  }

  async findSubmitted(refund: Refund, options: CallOptions = {}): Promise<{ externalRefundId: string; status: RefundStatus } | null> {
    const budget = this.budget(options);
    const stripe = await this.stripe();
    try {
      const found = await this.findByMetadata(stripe, refund, budget);
      return found === null ? null : { externalRefundId: found.id, status: mapStripeStatus(found.status) };
    } catch (error) {
      const stripeError = asStripeError(error);
      // An unknown charge cannot hold our refund.
      if (stripeError?.code === 'resource_missing') return null;
      throw errors.processorUnavailable(this.name, { cause: error });
    }
  }

  /** What the charge captured (or the payment intent received); undefined when Stripe cannot say. */
  async chargedAmount(transactionId: string, options: CallOptions = {}): Promise<number | undefined> {
    const budget = this.budget(options);
    const stripe = await this.stripe();
    try {
      if (transactionId.startsWith('pi_')) return (await stripe.paymentIntents.retrieve(transactionId, {}, budget.next())).amount_received;
      return (await stripe.charges.retrieve(transactionId, {}, budget.next())).amount_captured;
    } catch {
      return undefined;
    }
  }

  private async findByMetadata(stripe: Stripe, refund: Refund, budget: Budget): Promise<Stripe.Refund | null> {
    const params: Stripe.RefundListParams = refund.transactionId.startsWith('pi_')
      ? { payment_intent: refund.transactionId, limit: 100 }
      : { charge: refund.transactionId, limit: 100 };
    // Page by page, so that each request gets what is left of the budget.
    let page = await stripe.refunds.list(params, budget.next());
    for (;;) {
      const ours = page.data.find((candidate) => candidate.metadata?.[REFUND_ID_METADATA_KEY] === refund.id);
      if (ours !== undefined) return ours;
      const last = page.data.at(-1);
      if (!page.has_more || last === undefined) return null;
      page = await stripe.refunds.list({ ...params, starting_after: last.id }, budget.next());
    }
  }

  private async transactionCurrency(stripe: Stripe, transactionId: string, budget: Budget): Promise<string> {
    const paid = transactionId.startsWith('pi_')
      ? await stripe.paymentIntents.retrieve(transactionId, {}, budget.next())
      : await stripe.charges.retrieve(transactionId, {}, budget.next());
    return paid.currency.toLowerCase();
  }

  /**
   * Per-request options for a call a caller waits on (`timeoutMs`): each request, with the SDK's
   * own retries, fits in what is left of it, so that the call ends by itself in time rather than
   * only being abandoned. Without it, the client's own timeout and retries apply.
   */
  private budget(options: CallOptions): Budget {
    const { timeoutMs } = options;
    if (timeoutMs === undefined) return { next: () => ({}), remaining: () => ({}) };
    const ends = Date.now() + timeoutMs;
    const left = (): number => ends - Date.now();
    return {
      next: () => {
        const ms = left();
        // Nothing is sent once the time is up: the caller hears processor_unavailable at once.
        if (ms <= 0) throw new Error(`no time left for a Stripe request (call deadline ${timeoutMs} ms)`);
        const timeout = Math.min(this.options.timeoutMs, ms);
        let retries = this.options.maxNetworkRetries;
        while (retries > 0 && (retries + 1) * timeout + retries * RETRY_PAUSE_ALLOWANCE_MS > ms) retries -= 1;
        return { timeout, maxNetworkRetries: retries };
      },
      remaining: () => ({ timeoutMs: Math.max(1, left()) }),
    };
  }

  private externalId(refund: Refund): string {
    if (refund.externalRefundId === null) throw errors.internal({ cause: new Error(`refund ${refund.id} has no Stripe id`) });
    return refund.externalRefundId;
  }

  private stripe(): Promise<Stripe> {
    this.client ??= import('stripe').then(({ default: StripeClient }) => {
      const base = this.options.apiBase === undefined ? undefined : new URL(this.options.apiBase);
      return new StripeClient(this.options.secretKey, {
        timeout: this.options.timeoutMs,
        maxNetworkRetries: this.options.maxNetworkRetries,
        appInfo: { name: 'refundkit-mcp' },
        ...(base === undefined
          ? {}
          : {
              host: base.hostname,
              port: base.port === '' ? (base.protocol === 'https:' ? 443 : 80) : Number(base.port),
              protocol: base.protocol === 'https:' ? 'https' : 'http',
            }),
      });
    });
    return this.client;
  }
}
