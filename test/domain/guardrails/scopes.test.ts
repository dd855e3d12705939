import { describe, expect, it } from 'vitest';
import { DEFAULT_KEY_SCOPES, hasScope, parseScopes } from '../../../src/domain/guardrails/scopes.js';

describe('parseScopes', () => {
  it('reads a comma-separated list into the canonical order without repeats', () => {
    expect(parseScopes('write, read,write')).toEqual({ ok: true, scopes: ['read', 'write'] });
    expect(parseScopes('admin,approve,read,write')).toEqual({ ok: true, scopes: ['read', 'write', 'approve', 'admin'] });
  });

  it('refuses unknown names and an empty list, listing the scopes there are', () => {
    expect(parseScopes('read,superuser')).toEqual({ ok: false, message: "Unknown scope 'superuser': scopes are read, write, approve, admin" });
    expect(parseScopes(' , ')).toEqual({ ok: false, message: 'Scopes must name at least one of: read, write, approve, admin' });
    expect(parseScopes('toString')).toMatchObject({ ok: false });
    expect(parseScopes('read,sudo,root')).toEqual({ ok: false, message: "Unknown scope 'sudo', 'root': scopes are read, write, approve, admin" });
  });
});

describe('hasScope', () => {
  it('a new key by default reads and writes but neither approves nor administers', () => {
    expect(hasScope(DEFAULT_KEY_SCOPES, 'read')).toBe(true);
    expect(hasScope(DEFAULT_KEY_SCOPES, 'write')).toBe(true);
    expect(hasScope(DEFAULT_KEY_SCOPES, 'approve')).toBe(false);
    expect(hasScope(DEFAULT_KEY_SCOPES, 'admin')).toBe(false);
  });
});
