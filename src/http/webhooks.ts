/**
 * POST /webhooks/stripe. Stripe signs each delivery with the endpoint's secret; the signature is
 * checked on the raw bytes (any re-serialisation would break it) before anything is parsed or
 * trusted. A delivery is at least once and may come late or out of order, so each event id is
 * handled once (a replay changes nothing) and the refund's status is read again from Stripe
 * rather than taken from the event (see RefundService.applyProcessorReport).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Stripe from 'stripe';
import { errors, RefundKitError } from '../domain/errors.js';
import type { RefundService } from '../domain/refund-service.js';
import type { Clock } from '../domain/ports.js';
import type { Logger } from '../logger.js';
import { mapStripeStatus, REFUND_ID_METADATA_KEY, STRIPE_PROCESSOR } from '../processors/stripe.js';
import type { SqliteWebhookEventStore, WebhookOutcome } from '../store/sqlite/webhook-event-store.js';
import { readBody, utf8Text } from './body.js';
import { sendData } from './respond.js';

/** The refund events whose object is a refund; every other type is acknowledged and ignored. */
const REFUND_EVENT_TYPES: ReadonlySet<string> = new Set([
  'refund.created',
  'refund.updated',
  'refund.failed',
  'charge.refund.updated',
]);

/** How old a signature may be, in seconds: Stripe's own default. Older ones are replays. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

interface StripeWebhookDeps {
  service: RefundService;
  events: SqliteWebhookEventStore;
  secret: string | undefined;
  maxBodyBytes: number;
  clock: Clock;
  logger: Logger;
}

type Webhooks = typeof Stripe.webhooks;
let webhooks: Promise<Webhooks> | undefined;

/** The stripe package is loaded on the first delivery, not at start. */
function loadWebhooks(): Promise<Webhooks> {
  webhooks ??= import('stripe').then(({ default: StripeClient }) => StripeClient.webhooks);
  return webhooks;
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

export class StripeWebhookRoute {
  constructor(private readonly deps: StripeWebhookDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { secret } = this.deps;
    if (secret === undefined) {
      throw errors.processorNotConfigured(
        STRIPE_PROCESSOR,
        "set STRIPE_WEBHOOK_SECRET to the webhook endpoint's signing secret (whsec_…) and restart the server",
      );
    }
    const raw = await readBody(req, this.deps.maxBodyBytes);
    const header = req.headers['stripe-signature'];
    if (typeof header !== 'string' || header === '') {
      throw errors.validation('Missing Stripe-Signature header: webhook deliveries must be signed by Stripe');
    }
    const event = await verify(raw, header, secret);
    sendData(res, await this.apply(event));
  }

  private async apply(event: Stripe.Event): Promise<WebhookAnswer> {
    // Claimed before it is applied: two deliveries of one event at the same moment (to two
    // processes, or twice to this one) each read the refund from Stripe, and the status may move
    // in between, so both would change it. The first claim applies it; the others are duplicates.
    // Should the process die between claim and apply, Stripe's retry is a duplicate, and the
    // status sync reads the refund from Stripe all the same: the change is late, not lost.
    const claimed = await this.deps.events.record({
      source: STRIPE_PROCESSOR,
      eventId: event.id,
      type: event.type,
      refundId: null,
      outcome: 'ignored',
      receivedAt: this.deps.clock.now().toISOString(),
    });
    if (!claimed) {
      const seen = await this.deps.events.find(STRIPE_PROCESSOR, event.id);
      this.deps.logger.debug('stripe webhook replayed', { eventId: event.id, type: event.type });
      return { eventId: event.id, type: event.type, outcome: 'duplicate', refundId: seen?.refundId ?? null };
    }
    let outcome: WebhookOutcome = 'ignored';
    let discrepancy = false;
    let refundId: string | null = null;
    const refund = refundOf(event);
    if (refund !== null) {
      let applied: Awaited<ReturnType<RefundService['applyProcessorReport']>>;
      try {
        applied = await this.deps.service.applyProcessorReport({
          processor: STRIPE_PROCESSOR,
          externalRefundId: refund.id,
          status: mapStripeStatus(refund.status),
          source: `stripe webhook ${event.type} ${event.id}`,
          ...(refund.ours === null ? {} : { refundId: refund.ours }),
        });
      } catch (error) {
        // Not handled after all (refund_busy included: a refund of ours not linked yet), so that
        // Stripe's retry, which the error answer asks for, finds it unclaimed.
        await this.deps.events.release(STRIPE_PROCESSOR, event.id);
        throw error;
      }
      if (applied !== null) {
        refundId = applied.refund.id;
        outcome = applied.changed ? 'applied' : 'unchanged';
        discrepancy = applied.discrepancy;
        await this.deps.events.settle(STRIPE_PROCESSOR, event.id, outcome, refundId);
      }
    }
    const answered = discrepancy ? 'discrepancy' : outcome;
    this.deps.logger.info('stripe webhook', { eventId: event.id, type: event.type, outcome: answered, refundId });
    return { eventId: event.id, type: event.type, outcome: answered, refundId };
  }
}

async function verify(raw: Buffer, header: string, secret: string): Promise<Stripe.Event> {
  if (raw.length === 0) throw errors.validation('Webhook body is empty');
  const webhooks = await loadWebhooks();
  let event: Stripe.Event;
  try {
    event = webhooks.constructEvent(raw, header, secret, SIGNATURE_TOLERANCE_SECONDS);
  } catch (error) {
    // A signature that does not verify, or a signed body that is not JSON, is the sender's fault;
    // anything else is ours and stays an internal error.
    const message = signatureMessage(error);
    if (message === null) throw error;
    throw new RefundKitError('validation_error', message, { cause: error });
  }
  // Stripe's library verifies and parses the body decoded with a loss (U+FFFD for bytes that are
  // not UTF-8). Stripe sends UTF-8 only, so such bytes are refused rather than applied changed;
  // after the signature check, so that an unsigned sender learns nothing but that.
  if (utf8Text(raw) === null) throw errors.validation('Webhook body is not valid UTF-8');
  // Signed by Stripe, so well formed; checked all the same before it is used as a key (the JSON
  // null verifies too, and webhook_events keeps at most 255 characters of an id or a type).
  const keys = eventKeys(event);
  if (keys === null) throw errors.validation('Webhook event has no id or type');
  if (keys.id.length > MAX_EVENT_FIELD || keys.type.length > MAX_EVENT_FIELD) {
    throw errors.validation(`Webhook event id and type must be at most ${MAX_EVENT_FIELD} characters`);
  }
  return event;
}

function eventKeys(value: unknown): { id: string; type: string } | null {
  if (typeof value !== 'object' || value === null || !('id' in value) || !('type' in value)) return null;
  const { id, type } = value;
  if (typeof id !== 'string' || typeof type !== 'string' || id === '' || type === '') return null;
  return { id, type };
}

/** The longest event id or type webhook_events holds; Stripe's are far shorter. */
const MAX_EVENT_FIELD = 255;

/** What the sender is told when constructEvent refused its delivery; null for a fault of ours. */
function signatureMessage(error: unknown): string | null {
  if (error instanceof SyntaxError) return 'Webhook body is not a JSON event';
  // A thin event notification (v2) verifies, then the library refuses to build a webhook event of it.
  if (error instanceof Error && /thin event notification/i.test(error.message)) {
    return 'Webhook body is a thin event notification (v2): this endpoint takes snapshot events';
  }
  if (!(error instanceof Error && 'type' in error && error.type === 'StripeSignatureVerificationError')) return null;
  const text = error.message;
  if (/tolerance/i.test(text)) {
    return `Stripe-Signature is older than ${SIGNATURE_TOLERANCE_SECONDS} seconds: a stale or replayed delivery`;
  }
  if (/unable to extract|no signatures found with expected scheme/i.test(text)) {
    return 'Stripe-Signature header is malformed: expected t=…,v1=…';
  }
  return 'Stripe-Signature does not match the body for STRIPE_WEBHOOK_SECRET';
}

/** The refund an event is about, for the refund event types, with our id when it carries one. */
function refundOf(event: Stripe.Event): { id: string; status: string | null; ours: string | null } | null {
  if (!REFUND_EVENT_TYPES.has(event.type)) return null;
  // Typed as always there, but a signed body is only as well formed as its sender made it.
  const data: unknown = event.data;
  if (typeof data !== 'object' || data === null || !('object' in data)) return null;
  const object: unknown = data.object;
  if (typeof object !== 'object' || object === null) return null;
  if (!('object' in object) || object.object !== 'refund') return null;
  if (!('id' in object) || typeof object.id !== 'string') return null;
  const status = 'status' in object && typeof object.status === 'string' ? object.status : null;
  const metadata: unknown = 'metadata' in object ? object.metadata : null;
  const ours =
    typeof metadata === 'object' && metadata !== null && REFUND_ID_METADATA_KEY in metadata
      ? metadata[REFUND_ID_METADATA_KEY]
      : null;
  return { id: object.id, status, ours: typeof ours === 'string' ? ours : null };
}
