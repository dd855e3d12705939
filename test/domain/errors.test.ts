import { describe, expect, it } from 'vitest';
import {
  asRefundKitError,
  ERROR_CODES,
  errors,
  RefundKitError,
  toErrorBody,
} from '../../src/domain/errors.js';

describe('error codes', () => {
  // An exact list on purpose: adding or dropping a code should be a visible, reviewed change.
  it('is a closed list that includes every code of the reference', () => {
    expect(Object.keys(ERROR_CODES).sort()).toEqual(
      [
        'idempotency_conflict',
        'internal_error',
        'invalid_api_key',
        'not_found',
        'processor_not_configured',
        'processor_unavailable',
        'refund_busy',
        'refund_not_cancellable',
        'validation_error',
        // The guardrails' own.
        'policy_violation',
        'forbidden',
        'approval_not_open',
        'confirmation_declined',
        // The HTTP transport's own (src/http/errors.ts gives each its status).
        'route_not_found',
        'method_not_allowed',
        'unsupported_media_type',
        'payload_too_large',
        'host_not_allowed',
      ].sort(),
    );
    for (const info of Object.values(ERROR_CODES)) {
      expect(typeof info.retryable).toBe('boolean');
      expect(info.summary.length).toBeGreaterThan(10);
    }
  });

  it('the reference codes are not retryable as is; an outage is', () => {
    for (const code of ['validation_error', 'invalid_api_key', 'not_found', 'refund_not_cancellable', 'internal_error'] as const) {
      expect(ERROR_CODES[code].retryable, code).toBe(false);
    }
    expect(ERROR_CODES.processor_unavailable.retryable).toBe(true);
    expect(errors.processorUnavailable('stripe').retryable).toBe(true);
    expect(errors.notFound().retryable).toBe(false);
  });
});

describe('error factories carry the reference messages', () => {
  it.each([
    [errors.notFound(), 'not_found', 'Refund not found'],
    [errors.invalidApiKey(), 'invalid_api_key', 'Invalid API key'],
    [errors.notCancellable('completed'), 'refund_not_cancellable', "Refund cannot be cancelled — status is 'completed'"],
    [errors.validation('Limit must be between 1 and 100'), 'validation_error', 'Limit must be between 1 and 100'],
    [errors.internal(), 'internal_error', 'Internal error'],
  ])('%s', (error, code, message) => {
    expect(error).toBeInstanceOf(RefundKitError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    expect(error.name).toBe('RefundKitError');
  });

  it('processor errors name the processor and what to do', () => {
    const notConfigured = errors.processorNotConfigured('stripe', 'set STRIPE_SECRET_KEY');
    expect(notConfigured.code).toBe('processor_not_configured');
    expect(notConfigured.message).toBe("Processor 'stripe' is not configured: set STRIPE_SECRET_KEY");
    const unavailable = errors.processorUnavailable('stripe');
    expect(unavailable.code).toBe('processor_unavailable');
    expect(unavailable.message).toMatch(/^Processor 'stripe' could not be reached; the refund was not changed/);
    const refused = errors.processorRefusedCancel('completed');
    expect(refused.code).toBe('refund_not_cancellable');
    expect(refused.message).toContain('processor refused');
    expect(refused.message).toContain("status is 'completed'");
  });
});

describe('toErrorBody', () => {
  it('is the reference body, with nothing else', () => {
    const body = toErrorBody(errors.notCancellable('failed'));
    expect(body).toEqual({
      error: { message: "Refund cannot be cancelled — status is 'failed'", code: 'refund_not_cancellable' },
    });
    expect(JSON.stringify(body)).toBe(
      '{"error":{"message":"Refund cannot be cancelled — status is \'failed\'","code":"refund_not_cancellable"}}',
    );
  });

  it('does not leak the cause', () => {
    const error = errors.processorUnavailable('stripe', { cause: new Error('ECONNREFUSED 10.0.0.1 sk_live_secret') });
    expect(JSON.stringify(toErrorBody(error))).not.toContain('ECONNREFUSED');
  });
});

describe('asRefundKitError', () => {
  it('passes our own errors through unchanged', () => {
    const original = errors.notFound();
    expect(asRefundKitError(original)).toBe(original);
  });

  it.each([
    new Error('SQLITE_CORRUPT: database disk image is malformed at /secret/path.db'),
    new TypeError("Cannot read properties of undefined (reading 'x')"),
    'a thrown string with sk_live_abcdefgh',
    { message: 'object with message' },
    undefined,
    null,
  ])('wraps a foreign throw (%j) as internal_error without its message', (thrown) => {
    const wrapped = asRefundKitError(thrown);
    expect(wrapped).toBeInstanceOf(RefundKitError);
    expect(wrapped.code).toBe('internal_error');
    expect(wrapped.message).toBe('Internal error');
    expect(wrapped.cause).toBe(thrown);
    const body = JSON.stringify(toErrorBody(wrapped));
    expect(body).toBe('{"error":{"message":"Internal error","code":"internal_error"}}');
  });
});

describe('RefundKitError as logs and stack traces show it', () => {
  it('is named RefundKitError, so a logged error reads "RefundKitError: <message>"', () => {
    const error = errors.notFound();
    expect(error.name).toBe('RefundKitError');
    expect(String(error)).toBe('RefundKitError: Refund not found');
    expect(error.stack?.startsWith('RefundKitError: Refund not found\n')).toBe(true);
  });
});
