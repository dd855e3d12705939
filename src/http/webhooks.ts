/**
 * POST /webhooks/stripe. The delivery's raw bytes go to the Stripe processor's reader, which
 * checks the signature before anything is trusted. A delivery is at least once and may come late
 * or out of order, so each event id is handled once (a replay changes nothing) and the refund's
 * status is read again from Stripe rather than taken from the event (applyProcessorReport).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../domain/errors.js';
import type { Clock, ProcessorWebhookEvent, WebhookReader } from '../domain/ports.js';
import type { RefundService } from '../domain/refund-service.js';
import type { Logger } from '../logger.js';
import { readBody } from './body.js';
import { hideContentType } from './content-type.js';
import { methodNotAllowed } from './respond.js';
import type { WebhookEventLog, WebhookOutcome } from './ports.js';

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';
/** The processor whose deliveries the route takes: its name in the registry and in webhook_events. */
const STRIPE_PROCESSOR = 'stripe';

interface StripeWebhookDeps {
  service: RefundService;
  events: WebhookEventLog;
  /** Reads Stripe's deliveries with the endpoint's signing secret; undefined when none is set. */
  read: WebhookReader | undefined;
  /** A read-only server records no delivery: refused, it is not lost (Stripe retries for three days). */
  readOnly: boolean;
  maxBodyBytes: number;
  clock: Clock;
  logger: Logger;
}

interface WebhookAnswer {
  eventId: string;
  type: string;
  /**
   * `discrepancy`: Stripe holds money moving for a refund we hold as cancelled or failed. It is
   * recorded (kept as `unchanged` in webhook_events) and acknowledged: a retry would not change it.
   */
  outcome: WebhookOutcome | 'duplicate' | 'discrepancy';
  refundId: string | null;
}

export function registerStripeWebhook(app: FastifyInstance, deps: StripeWebhookDeps): void {
  app.post(STRIPE_WEBHOOK_PATH, { onRequest: hideContentType }, async (request: FastifyRequest, reply: FastifyReply) => {
    if (deps.readOnly) {
      throw methodNotAllowed(
        'POST',
        '',
        'This server is read-only (REFUNDKIT_READ_ONLY=1): it records no webhook deliveries; send them to a server without it',
      );
    }
    const { read } = deps;
    // Refused before the body is read when there is no secret to check it with.
    if (read === undefined) {
      throw errors.processorNotConfigured(
        STRIPE_PROCESSOR,
        "set STRIPE_WEBHOOK_SECRET to the webhook endpoint's signing secret (whsec_…) and restart the server",
      );
    }
    // The raw bytes: the signature is over them, any re-serialisation would break it.
    const raw = await readBody(request.raw, deps.maxBodyBytes);
    const header = request.raw.headers['stripe-signature'];
    if (typeof header !== 'string' || header === '') {
      throw errors.validation('Missing Stripe-Signature header: webhook deliveries must be signed by Stripe');
    }
    const event = await read(raw, header);
    return reply.header('cache-control', 'no-store').send({ data: await apply(deps, event) });
  });
}

async function apply(deps: StripeWebhookDeps, event: ProcessorWebhookEvent): Promise<WebhookAnswer> {
  const { events, logger } = deps;
  // Claimed before it is applied: two deliveries of one event at the same moment (to two
  // processes, or twice to this one) each read the refund from Stripe, and the status may move
  // in between, so both would change it. The first claim applies it; the others are duplicates.
  // Should the process die between claim and apply, Stripe's retry is a duplicate, and the
  // status sync reads the refund from Stripe all the same: the change is late, not lost.
  const claimed = await events.record({
    source: STRIPE_PROCESSOR,
    eventId: event.id,
    type: event.type,
    refundId: null,
    outcome: 'ignored',
    receivedAt: deps.clock.now().toISOString(),
  });
  if (!claimed) {
    const seen = await events.find(STRIPE_PROCESSOR, event.id);
    logger.debug('stripe webhook replayed', { eventId: event.id, type: event.type });
    return { eventId: event.id, type: event.type, outcome: 'duplicate', refundId: seen?.refundId ?? null };
  }
  let outcome: WebhookOutcome = 'ignored';
  let discrepancy = false;
  let refundId: string | null = null;
  const { refund } = event;
  if (refund !== null) {
    let applied: Awaited<ReturnType<RefundService['applyProcessorReport']>>;
    try {
      applied = await deps.service.applyProcessorReport({
        processor: STRIPE_PROCESSOR,
        externalRefundId: refund.externalRefundId,
        status: refund.status,
        source: `stripe webhook ${event.type} ${event.id}`,
        ...(refund.refundId === null ? {} : { refundId: refund.refundId }),
      });
    } catch (error) {
      // Not handled after all (refund_busy included: a refund of ours not linked yet), so that
      // Stripe's retry, which the error answer asks for, finds it unclaimed.
      await events.release(STRIPE_PROCESSOR, event.id);
      throw error;
    }
    if (applied !== null) {
      refundId = applied.refund.id;
      outcome = applied.changed ? 'applied' : 'unchanged';
      discrepancy = applied.discrepancy;
      await events.settle(STRIPE_PROCESSOR, event.id, outcome, refundId);
    }
  }
  const answered = discrepancy ? 'discrepancy' : outcome;
  logger.info('stripe webhook', { eventId: event.id, type: event.type, outcome: answered, refundId });
  return { eventId: event.id, type: event.type, outcome: answered, refundId };
}
