import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../src/domain/errors.js';
import { HTTP_STATUS, RETRY_AFTER_SECONDS } from '../../src/http/errors.js';

describe('HTTP status of each error code', () => {
  it('covers exactly the closed list of codes, each with a 4xx or 5xx status', () => {
    expect(Object.keys(HTTP_STATUS).sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, status] of Object.entries(HTTP_STATUS)) {
      expect(status >= 400 && status <= 599, `${code} -> ${status}`).toBe(true);
    }
  });

  it('gives the reference codes the reference statuses', () => {
    expect(HTTP_STATUS.validation_error).toBe(400);
    expect(HTTP_STATUS.invalid_api_key).toBe(401);
    expect(HTTP_STATUS.not_found).toBe(404);
    expect(HTTP_STATUS.refund_not_cancellable).toBe(409);
  });

  it('gives the transport codes the status their name says', () => {
    expect(HTTP_STATUS.route_not_found).toBe(404);
    expect(HTTP_STATUS.method_not_allowed).toBe(405);
    expect(HTTP_STATUS.payload_too_large).toBe(413);
    expect(HTTP_STATUS.unsupported_media_type).toBe(415);
    expect(HTTP_STATUS.host_not_allowed).toBe(403);
    expect(HTTP_STATUS.internal_error).toBe(500);
  });

  it('faults of the caller are 4xx, faults of the server or its processor 5xx', () => {
    const serverSide: ErrorCode[] = ['internal_error', 'processor_unavailable', 'processor_not_configured'];
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      expect(HTTP_STATUS[code] >= 500, code).toBe(serverSide.includes(code));
    }
  });

  it('says Retry-After only for the codes worth retrying', () => {
    for (const code of Object.keys(RETRY_AFTER_SECONDS) as ErrorCode[]) {
      expect(ERROR_CODES[code].retryable, code).toBe(true);
    }
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      if (ERROR_CODES[code].retryable) expect(RETRY_AFTER_SECONDS[code], code).toBeGreaterThan(0);
    }
  });
});
