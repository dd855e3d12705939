import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, cookieName, csrfRefusal, isHttps, parseCookies, serializeCookie, tokensMatch } from '../../src/web/security.js';

const SELF = 'http://127.0.0.1:3000';
const TOKEN = 'a'.repeat(43);

describe('the CSRF check', () => {
  it('accepts a same-origin post with the session token', () => {
    expect(csrfRefusal({ origin: SELF, fetchSite: 'same-origin', self: SELF }, TOKEN, TOKEN)).toBeNull();
    // Old browsers send neither header: the token alone decides.
    expect(csrfRefusal({ origin: undefined, fetchSite: undefined, self: SELF }, TOKEN, TOKEN)).toBeNull();
  });

  it('refuses a post from another site or origin even with the right token', () => {
    expect(csrfRefusal({ origin: 'http://127.0.0.1:4000', fetchSite: 'same-site', self: SELF }, TOKEN, TOKEN)).toContain('another site');
    expect(csrfRefusal({ origin: 'https://evil.example', fetchSite: 'cross-site', self: SELF }, TOKEN, TOKEN)).toContain('another site');
    expect(csrfRefusal({ origin: 'https://evil.example', fetchSite: undefined, self: SELF }, TOKEN, TOKEN)).toContain('another origin');
    expect(csrfRefusal({ origin: 'null', fetchSite: undefined, self: SELF }, TOKEN, TOKEN)).toContain('another origin');
  });

  it('refuses a missing, wrong or empty token', () => {
    const same = { origin: SELF, fetchSite: 'same-origin', self: SELF };
    expect(csrfRefusal(same, TOKEN, undefined)).toContain('CSRF token');
    expect(csrfRefusal(same, TOKEN, 'b'.repeat(43))).toContain('CSRF token');
    expect(csrfRefusal(same, TOKEN, TOKEN.slice(1))).toContain('CSRF token');
    expect(csrfRefusal(same, '', '')).toContain('CSRF token');
    expect(tokensMatch(TOKEN, TOKEN)).toBe(true);
  });
});

describe('cookies and headers', () => {
  it('a session cookie is HttpOnly and SameSite; over HTTPS also Secure with the __Host- prefix', () => {
    expect(serializeCookie(cookieName('rk_session', false), 'abc', { https: false, maxAgeSeconds: 60 })).toBe('rk_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60');
    expect(serializeCookie(cookieName('rk_session', true), 'abc', { https: true, maxAgeSeconds: 60 })).toBe('__Host-rk_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure');
    expect(isHttps('http', 'https')).toBe(true);
    expect(isHttps('https', undefined)).toBe(true);
    expect(isHttps('http', undefined)).toBe(false);
  });

  it('parses cookies, skipping malformed values and keeping the first of a name', () => {
    const cookies = parseCookies('a=1; rk_session=abc_DEF-9; rk_session=second; bad=<x>; =nameless');
    expect(cookies.get('rk_session')).toBe('abc_DEF-9');
    expect(cookies.get('a')).toBe('1');
    expect(cookies.has('bad')).toBe(false);
  });

  it('the CSP allows no script and no inline style', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('script-src');
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
  });
});
