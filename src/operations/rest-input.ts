/**
 * Pieces of REST input shared by several operations' bindings. Their messages are the REST API's
 * own (the path parameter is `id` there, `refundId` in the MCP tools).
 */
import { z } from 'zod';
import { parseInput, refundIdSchema } from '../domain/schemas.js';
import type { RestRequestParts } from './operation.js';

const pathIdSchema = z.object({ id: refundIdSchema('id') });

/** The refund id of a `/v1/refunds/:refundId…` path, refused with the REST message naming `id`. */
export function pathRefundId(request: RestRequestParts): string {
  return parseInput(pathIdSchema, { id: request.params.refundId }).id;
}
