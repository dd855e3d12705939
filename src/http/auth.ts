/**
 * Bearer API keys. The key decides the organization; who acts (api, mcp) is decided by the route.
 */
import type { IncomingMessage } from 'node:http';
import { RefundKitError, errors } from '../domain/errors.js';

export interface ApiKeyAuthenticator {
  /** The organization of a live key, or null for an unknown or revoked one. */
  authenticate(key: string): Promise<Identity | null>;
}

export interface Identity {
  organizationId: string;
  keyId: string;
}

/** What a 401 carries, so that clients know which scheme to use (RFC 6750). */
export const WWW_AUTHENTICATE = { 'www-authenticate': 'Bearer realm="refundkit"' } as const;

const BEARER = /^bearer +(\S+) *$/i;

export async function authenticate(req: IncomingMessage, keys: ApiKeyAuthenticator): Promise<Identity> {
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '') {
    throw new RefundKitError('invalid_api_key', 'Invalid API key: send it as Authorization: Bearer rk_live_…');
  }
  const match = BEARER.exec(header);
  const key = match?.[1];
  if (key === undefined) {
    throw new RefundKitError('invalid_api_key', "Invalid API key: the Authorization header must be 'Bearer ' followed by the key");
  }
  const identity = await keys.authenticate(key);
  // Unknown and revoked keys get the same answer: a caller learns nothing about other keys.
  if (identity === null) throw errors.invalidApiKey();
  return identity;
}
