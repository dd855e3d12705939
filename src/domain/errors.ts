/**
 * The closed list of error codes. Every failure a caller can see is one of these, with the same
 * code and message whichever adapter (MCP, REST, CLI) reports it. The first four come from the
 * API reference; the rest exist because a failure needed its own code so that an agent can act
 * on it (retry later, fix configuration, pick a new idempotency key).
 */
export const ERROR_CODES = {
  validation_error: { retryable: false, summary: 'The input broke a rule. The message names the field and the rule (`Limit must be between 1 and 100`, `refundId must be a RefundKit refund id: …`, `Unknown field \'extra\'`). Fix the arguments and call again.' },
  invalid_api_key: { retryable: false, summary: 'The API key is missing, unknown or revoked. Over stdio, a key that is already unknown or revoked stops the server at start (exit 1, one line on stderr); a key revoked while a session is open gets this code at its next tool call. The operator must fix the key or `REFUNDKIT_DB_PATH`.' },
  not_found: { retryable: false, summary: 'No refund with that id exists for this organization (another organization\'s refund included). Check the id, or find the refund with `list_refunds`.' },
  refund_not_cancellable: {
    retryable: false,
    summary: 'The refund is `completed`, `failed` or `cancelled`, or its processor refused the cancellation. The message gives the status it has now. Do not retry. Tell the user the status.',
  },
  idempotency_conflict: {
    retryable: false,
    summary: 'The idempotency key was already used with different arguments (`create_refund`). Use a new key for a new refund. Do not reuse a key to "fix" a refund.',
  },
  refund_busy: {
    retryable: true,
    summary: 'The refund is being submitted to its processor at this moment, or its last submission went unanswered and may still take effect. Nothing changed. Retry after the seconds the message gives (a few seconds if it gives none).',
  },
  processor_not_configured: {
    retryable: false,
    summary: 'The refund\'s processor is not configured on this server, and nothing changed. The message says what the operator must set (e.g. `STRIPE_SECRET_KEY`). Report it to a human.',
  },
  processor_unavailable: {
    retryable: true,
    summary: 'The processor could not be reached or timed out, and nothing changed. Retry later.',
  },
  // The guardrails (issue 11): the organization's agent policy, key scopes, approval requests.
  policy_violation: {
    retryable: false,
    summary: 'The organization\'s agent policy refuses this refund or cancellation; nothing was created or changed. The message names the rule and the limit (`Refund of 50000 usd exceeds the agent limit of 20000 usd per refund`). Do not retry or split the refund to get around it: tell the user, who can ask an operator.',
  },
  forbidden: {
    retryable: false,
    summary: 'The API key lacks the scope this call needs (read, write, approve, admin), or the caller may not decide this approval (a key never decides one its own agent requested). Nothing changed.',
  },
  approval_not_open: {
    retryable: false,
    summary: 'The approval request was already approved, rejected or expired (or its refund is no longer pending), so it cannot be decided now. The message says what it is.',
  },
  confirmation_declined: {
    retryable: false,
    summary: 'The organization\'s policy asks the person at the MCP client to confirm this create or cancel, and they declined, dismissed the question or did not answer; nothing was created or changed. Do not retry unless the person asks for it again.',
  },
  // The HTTP transport's own failures (REST, webhooks, /mcp): the request never reached a use case.
  route_not_found: { retryable: false, summary: 'No HTTP route at that path; the message lists the routes.' },
  method_not_allowed: {
    retryable: false,
    summary: 'The route exists but not for that HTTP method (or the server is read-only); see the Allow header.',
  },
  unsupported_media_type: { retryable: false, summary: 'The request body must be JSON, sent with Content-Type: application/json.' },
  payload_too_large: { retryable: false, summary: 'The request body is larger than the server accepts.' },
  host_not_allowed: {
    retryable: false,
    summary: 'The Host or Origin header names a host this server does not serve (DNS-rebinding protection).',
  },
  internal_error: { retryable: false, summary: 'An unexpected fault. The message is only `Internal error`, and the details are in the server\'s stderr log. Nothing is reported as done. Do not assume the action happened: check with `get_refund`.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class RefundKitError extends Error {
  readonly code: ErrorCode;
  /** For a retryable error, when a retry can succeed, if known better than the code's default. */
  readonly retryAfterSeconds: number | undefined;

  /** `message` is shown to callers as is: it must never carry secrets or internals. */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options);
    this.name = 'RefundKitError';
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }
}

export const errors = {
  validation: (message: string) => new RefundKitError('validation_error', message),
  notFound: () => new RefundKitError('not_found', 'Refund not found'),
  invalidApiKey: () => new RefundKitError('invalid_api_key', 'Invalid API key'),
  notCancellable: (status: string) =>
    new RefundKitError('refund_not_cancellable', `Refund cannot be cancelled — status is '${status}'`),
  processorRefusedCancel: (status: string) =>
    new RefundKitError(
      'refund_not_cancellable',
      `Refund cannot be cancelled — the processor refused the cancellation; status is '${status}'`,
    ),
  idempotencyConflict: () =>
    new RefundKitError(
      'idempotency_conflict',
      'idempotencyKey was already used for a refund with different arguments; use a new key for a new refund',
    ),
  refundBusy: () =>
    new RefundKitError(
      'refund_busy',
      'Refund is being submitted to its processor at this moment; retry in a few seconds',
    ),
  refundInDoubt: (retryAfterSeconds: number) =>
    new RefundKitError(
      'refund_busy',
      `Refund's last submission to its processor went unanswered and may still take effect; retry in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}`,
      { retryAfterSeconds },
    ),
  processorNotConfigured: (processor: string, hint: string) =>
    new RefundKitError('processor_not_configured', `Processor '${processor}' is not configured: ${hint}`),
  processorUnavailable: (processor: string, options?: { cause?: unknown }) =>
    new RefundKitError(
      'processor_unavailable',
      `Processor '${processor}' could not be reached; the refund was not changed. Retry later.`,
      options,
    ),
  policyViolation: (message: string) => new RefundKitError('policy_violation', message),
  forbidden: (message: string) => new RefundKitError('forbidden', message),
  confirmationDeclined: (message: string) => new RefundKitError('confirmation_declined', message),
  approvalNotOpen: (message: string) => new RefundKitError('approval_not_open', message),
  approvalNotFound: () => new RefundKitError('not_found', 'Approval request not found'),
  internal: (options?: { cause?: unknown }) =>
    new RefundKitError('internal_error', 'Internal error', options),
} as const;

/** The reference's error body, shared by every transport. */
export interface ErrorBody {
  error: { message: string; code: ErrorCode };
}

export function toErrorBody(error: RefundKitError): ErrorBody {
  return { error: { message: error.message, code: error.code } };
}

/** Anything thrown that is not ours becomes an internal_error; its details stay in the log. */
export function asRefundKitError(error: unknown): RefundKitError {
  return error instanceof RefundKitError ? error : errors.internal({ cause: error });
}
