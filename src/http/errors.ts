/**
 * The one map from error code to HTTP status. Exhaustive on purpose: a code added to the closed
 * list in src/domain/errors.ts does not compile until it has a status here.
 */
import type { ErrorCode } from '../domain/errors.js';

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  // The reference's four.
  validation_error: 400,
  invalid_api_key: 401,
  not_found: 404,
  refund_not_cancellable: 409,
  // The key was used before with other arguments: 422, as the IETF Idempotency-Key draft says.
  idempotency_conflict: 422,
  // A submission holds the refund for a moment: a conflict with its current state, worth a retry.
  refund_busy: 409,
  // This server cannot serve the refund's processor until its operator configures it.
  processor_not_configured: 501,
  // The processor did not answer; nothing changed. 503 with Retry-After, as clients expect.
  processor_unavailable: 503,
  // The agent policy refuses the refund: the request was understood, and will not be done.
  policy_violation: 403,
  forbidden: 403,
  // The person at the MCP client said no: understood, and will not be done (REST never asks).
  confirmation_declined: 403,
  // The approval request is decided already: a conflict with its current state.
  approval_not_open: 409,
  route_not_found: 404,
  method_not_allowed: 405,
  unsupported_media_type: 415,
  payload_too_large: 413,
  host_not_allowed: 403,
  internal_error: 500,
};

/** Seconds a client should wait before retrying, for the codes that are worth retrying. */
export const RETRY_AFTER_SECONDS: Readonly<Partial<Record<ErrorCode, number>>> = {
  refund_busy: 2,
  processor_unavailable: 5,
};
