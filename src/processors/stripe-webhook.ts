/**
 * What a Stripe webhook delivery says, read the way Stripe's library reads it: the signature is
 * checked on the raw bytes (any re-serialisation would break it) before anything in the body is
 * parsed or trusted. The HTTP route only moves bytes in and the answer out; what an event means
 * for a refund is the service's business (RefundService.applyProcessorReport).
 */
import type Stripe from 'stripe';
import { errors, RefundKitError } from '../domain/errors.js';
import type { ProcessorWebhookEvent, WebhookReader } from '../domain/ports.js';
import { mapStripeStatus, REFUND_ID_METADATA_KEY } from './stripe.js';

/** How old a signature may be, in seconds: Stripe's own default. Older ones are replays. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** The longest event id or type webhook_events holds; Stripe's are far shorter. */
const MAX_EVENT_FIELD = 255;

/** The refund events whose object is a refund; every other type is acknowledged and ignored. */
const REFUND_EVENT_TYPES: ReadonlySet<string> = new Set([
  'refund.created',
  'refund.updated',
  'refund.failed',
  'charge.refund.updated',
]);

export type StripeWebhookEvent = ProcessorWebhookEvent;

type Webhooks = typeof Stripe.webhooks;
let webhooks: Promise<Webhooks> | undefined;

/** The stripe package is loaded on the first delivery, not at start. */
function loadWebhooks(): Promise<Webhooks> {
  webhooks ??= import('stripe').then(({ default: StripeClient }) => StripeClient.webhooks);
  return webhooks;
}

/**
 * Verifies a delivery against the endpoint's signing secret and reads it. Whatever the sender got
 * wrong (no body, a signature that does not match or is stale, a body that is not an event) is a
 * validation_error whose message says which; anything else is ours and is thrown as it is.
 */
export function stripeWebhookReader(secret: string): WebhookReader {
  return (raw, signature) => readStripeWebhook(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), signature, secret);
}

export async function readStripeWebhook(raw: Buffer, signature: string, secret: string): Promise<StripeWebhookEvent> {
  if (raw.length === 0) throw errors.validation('Webhook body is empty');
  const stripeWebhooks = await loadWebhooks();
  let event: Stripe.Event;
  try {
    event = stripeWebhooks.constructEvent(raw, signature, secret, SIGNATURE_TOLERANCE_SECONDS);
  } catch (error) {
    const message = signatureMessage(error);
    if (message === null) throw error;
    throw new RefundKitError('validation_error', message, { cause: error });
  }
  // Stripe's library verifies and parses the body decoded with a loss (U+FFFD for bytes that are
  // not UTF-8). Stripe sends UTF-8 only, so such bytes are refused rather than applied changed;
  // after the signature check, so that an unsigned sender learns nothing but that.
  if (!isUtf8(raw)) throw errors.validation('Webhook body is not valid UTF-8');
  // Signed by Stripe, so well formed; checked all the same before it is used as a key (the JSON
  // null verifies too, and webhook_events keeps at most 255 characters of an id or a type).
  const keys = eventKeys(event);
  if (keys === null) throw errors.validation('Webhook event has no id or type');
  if (keys.id.length > MAX_EVENT_FIELD || keys.type.length > MAX_EVENT_FIELD) {
    throw errors.validation(`Webhook event id and type must be at most ${MAX_EVENT_FIELD} characters`);
  }
  return { ...keys, refund: refundOf(keys.type, event) };
}

/** Fatal: a byte sequence that is not UTF-8 throws rather than becoming U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function isUtf8(raw: Uint8Array): boolean {
  try {
    return typeof UTF8.decode(raw) === 'string';
  } catch {
    return false;
  }
}

function eventKeys(value: unknown): { id: string; type: string } | null {
  if (typeof value !== 'object' || value === null || !('id' in value) || !('type' in value)) return null;
  const { id, type } = value;
  if (typeof id !== 'string' || typeof type !== 'string' || id === '' || type === '') return null;
  return { id, type };
}

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
function refundOf(type: string, event: Stripe.Event): StripeWebhookEvent['refund'] {
  if (!REFUND_EVENT_TYPES.has(type)) return null;
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
  return { externalRefundId: object.id, status: mapStripeStatus(status), refundId: typeof ours === 'string' ? ours : null };
}
