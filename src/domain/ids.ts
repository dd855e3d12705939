/**
 * Identifiers: a prefix that says what the id names, then random lowercase letters and digits
 * from the operating system's CSPRNG (e.g. ref_abc123def456).
 */
import { randomInt } from 'node:crypto';

const LOWER_ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomString(length: number, alphabet: string = LOWER_ALPHANUMERIC): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += alphabet.charAt(randomInt(alphabet.length));
  return out;
}

export const newRefundId = (): string => `ref_${randomString(12)}`;
export const newOrganizationId = (): string => `org_${randomString(12)}`;
export const newApiKeyId = (): string => `key_${randomString(12)}`;
export const newApprovalId = (): string => `apr_${randomString(12)}`;

/** 32 base-62 characters: about 190 bits, far past guessing. */
export const newApiKeySecret = (mode: 'live' | 'test'): string => `rk_${mode}_${randomString(32, ALPHANUMERIC)}`;

export const API_KEY_PATTERN = /^rk_(live|test)_[A-Za-z0-9]{24,64}$/;
export const newOperatorId = (): string => `op_${randomString(12)}`;
