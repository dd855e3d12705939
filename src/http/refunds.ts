/**
 * The REST routes of the reference: GET /v1/refunds/:id, GET /v1/refunds, POST
 * /v1/refunds/:id/cancel, and POST /v1/refunds (create). Each validates its input at the edge,
 * calls one service method as the key's organization acting as `api`, and answers `{"data": …}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { errors } from '../domain/errors.js';
import type { Caller, RefundService } from '../domain/refund-service.js';
import {
  clip,
  createRefundInputSchema,
  IDEMPOTENCY_KEY_PATTERN,
  listRefundsInputSchema,
  parseInput,
  refundIdSchema,
  toListQuery,
  type ListQuery,
} from '../domain/schemas.js';
import { readJsonBody } from './body.js';
import { sendData } from './respond.js';

const idSchema = z.object({ id: refundIdSchema('id') });
/** The MCP tool's fields; the idempotency key travels in a header here, as at Stripe. */
const createBodySchema = createRefundInputSchema.omit({ idempotencyKey: true });
const LIST_PARAMS = ['status', 'processor', 'limit', 'offset'] as const;
type ListParam = (typeof LIST_PARAMS)[number];

/** Query parameters as given, each at most once; anything not in `allowed` is refused. */
function parseQuery<K extends string>(query: string, allowed: readonly K[]): Partial<Record<K, string>> {
  const values: Partial<Record<K, string>> = {};
  if (query === '') return values;
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(query)) {
    if (!(allowed as readonly string[]).includes(name)) {
      throw errors.validation(
        allowed.length === 0
          ? `Unknown query parameter '${clip(name)}': this route takes none`
          : `Unknown query parameter '${clip(name)}'; allowed: ${allowed.join(', ')}`,
      );
    }
    if (seen.has(name)) throw errors.validation(`Query parameter '${name}' is given more than once`);
    seen.add(name);
    values[name as K] = value;
  }
  return values;
}

/**
 * A query-string integer: digits only (an optional minus, so that -1 gets the range message).
 * Anything else (10abc, 1e2, 1.5, '') goes to the schema as the text it is, and fails there with
 * the same message the MCP tool gives.
 */
function integerParam(raw: string): number | string {
  return /^-?\d{1,16}$/.test(raw) ? Number(raw) : raw;
}

function parseListQuery(query: string): ListQuery {
  const params = parseQuery<ListParam>(query, LIST_PARAMS);
  return toListQuery(
    parseInput(listRefundsInputSchema, {
      status: params.status,
      processor: params.processor,
      limit: params.limit === undefined ? undefined : integerParam(params.limit),
      offset: params.offset === undefined ? undefined : integerParam(params.offset),
    }),
  );
}

function parseRefundId(segment: string): string {
  let id = segment;
  if (segment.includes('%')) {
    try {
      id = decodeURIComponent(segment);
    } catch {
      // Left as sent: the schema refuses it with the rule.
    }
  }
  return parseInput(idSchema, { id }).id;
}

interface RefundRoutesDeps {
  service: RefundService;
  maxBodyBytes: number;
}

export class RefundRoutes {
  constructor(private readonly deps: RefundRoutesDeps) {}

  async get(res: ServerResponse, caller: Caller, idSegment: string, query: string): Promise<void> {
    parseQuery(query, []);
    sendData(res, await this.deps.service.get(caller, parseRefundId(idSegment)));
  }

  async list(res: ServerResponse, caller: Caller, query: string): Promise<void> {
    sendData(res, (await this.deps.service.list(caller, parseListQuery(query))).refunds);
  }

  async cancel(req: IncomingMessage, res: ServerResponse, caller: Caller, idSegment: string, query: string): Promise<void> {
    parseQuery(query, []);
    const id = parseRefundId(idSegment);
    const body = await readJsonBody(req, this.deps.maxBodyBytes);
    // "Send an empty JSON object or no body at all."
    if (body !== undefined) {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw errors.validation('Request body must be a JSON object ({}) or empty');
      }
      const [field] = Object.keys(body);
      if (field !== undefined) throw errors.validation(`Unknown field '${clip(field)}': cancel takes no parameters`);
    }
    sendData(res, await this.deps.service.cancel(caller, id));
  }

  async create(req: IncomingMessage, res: ServerResponse, caller: Caller, query: string): Promise<void> {
    parseQuery(query, []);
    const idempotencyKey = idempotencyKeyOf(req);
    const body = await readJsonBody(req, this.deps.maxBodyBytes);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw errors.validation('Request body must be a JSON object with transactionId, amount, reason and optionally currency and metadata');
    }
    if ('idempotencyKey' in body) {
      throw errors.validation("Send the idempotency key in the Idempotency-Key header, not as the body field 'idempotencyKey'");
    }
    const input = parseInput(createBodySchema, body);
    const refund = await this.deps.service.create(caller, idempotencyKey === undefined ? input : { ...input, idempotencyKey });
    sendData(res, refund);
  }
}

function idempotencyKeyOf(req: IncomingMessage): string | undefined {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  if (!IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw errors.validation("Idempotency-Key header must be 1 to 255 characters of letters, digits, '-', '_', ':' or '.'");
  }
  return value;
}
