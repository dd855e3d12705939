/**
 * What an API key may do. A key carries scopes; an operation names the one it needs; an MCP
 * session lists only the tools its key may call. Keys made before scopes existed keep what they
 * could do then: read and write.
 */
export const SCOPES = {
  read: 'look up and list refunds, preview a refund, read its events',
  write: 'create and cancel refunds (within the agent policy)',
  approve: 'decide approval requests over REST (never one its own agent requested)',
  admin: 'set the agent policy and manage API keys over REST',
} as const;
export type Scope = keyof typeof SCOPES;

export const SCOPE_NAMES = Object.keys(SCOPES) as Scope[];

/** A new key's scopes when `keys create` is given none: what an agent needs, nothing more. */
export const DEFAULT_KEY_SCOPES: readonly Scope[] = ['read', 'write'];

export function isScope(value: string): value is Scope {
  return Object.hasOwn(SCOPES, value);
}

/**
 * Parses a comma-separated list (`read,write`). Unknown names are an error that lists the known
 * ones; the result is in the canonical order, without repeats.
 */
export function parseScopes(text: string): { ok: true; scopes: Scope[] } | { ok: false; message: string } {
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length === 0) return { ok: false, message: `Scopes must name at least one of: ${SCOPE_NAMES.join(', ')}` };
  const unknown = names.filter((name) => !isScope(name));
  if (unknown.length > 0) {
    return { ok: false, message: `Unknown scope '${unknown.join("', '")}': scopes are ${SCOPE_NAMES.join(', ')}` };
  }
  return { ok: true, scopes: SCOPE_NAMES.filter((scope) => names.includes(scope)) };
}

export function hasScope(scopes: readonly Scope[], needed: Scope): boolean {
  return scopes.includes(needed);
}
