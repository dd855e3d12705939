/**
 * The dashboard's browser-facing rules, pure so that each is unit-tested: the response headers
 * (a strict Content-Security-Policy: no script at all, styles only from our stylesheet), the
 * session cookie's attributes, and the CSRF check every form post passes.
 */
import { timingSafeEqual } from 'node:crypto';

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // Not no-referrer: under it Chromium posts forms with `Origin: null`, which the CSRF check must refuse.
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Pages hold an organization's refunds and a form's CSRF token: never kept by a cache.
  'cache-control': 'no-store',
};

/** Whether the browser reached us over HTTPS: directly, or through a proxy that says so. */
export function isHttps(protocol: string, forwardedProto: string | string[] | undefined): boolean {
  const forwarded = Array.isArray(forwardedProto) ? forwardedProto[0] : forwardedProto;
  return protocol === 'https' || forwarded?.split(',')[0]?.trim().toLowerCase() === 'https';
}

/**
 * Over HTTPS the cookie is Secure and carries the __Host- prefix (the browser then refuses it from
 * plain HTTP or another path or domain); over plain HTTP (127.0.0.1) it cannot be Secure.
 */
export function cookieName(base: string, https: boolean): string {
  return https ? `__Host-${base}` : base;
}

export function serializeCookie(name: string, value: string, options: { https: boolean; maxAgeSeconds: number }): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`];
  if (options.https) parts.push('Secure');
  return parts.join('; ');
}

/** The cookies of a request; a malformed pair is skipped, the first of two same names wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const pair of (header ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (!cookies.has(name) && /^[A-Za-z0-9_-]{1,200}$/.test(value)) cookies.set(name, value);
  }
  return cookies;
}

export function tokensMatch(expected: string, given: string | undefined): boolean {
  if (given === undefined || expected === '') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface PostOrigin {
  /** The Origin header, if any. */
  origin: string | undefined;
  /** Sec-Fetch-Site, if the browser sent it. */
  fetchSite: string | undefined;
  /** Where this server is, as the browser addressed it: `http://127.0.0.1:3000`. */
  self: string;
}

/**
 * A form post must come from one of our own pages: a browser that says where it comes from
 * (Origin, Sec-Fetch-Site) must say "here", and the form's token must match the session's. Either
 * check alone stops a forged cross-site form; both are kept because old browsers send neither
 * header and a token can leak through a bug elsewhere. Null when accepted, else why not.
 */
export function csrfRefusal(request: PostOrigin, expectedToken: string, givenToken: string | undefined): string | null {
  if (request.fetchSite !== undefined && request.fetchSite !== 'same-origin') return `a form posted from another site (Sec-Fetch-Site: ${request.fetchSite})`;
  if (request.origin !== undefined && request.origin !== request.self) return 'a form posted from another origin';
  if (!tokensMatch(expectedToken, givenToken)) return 'the form is stale or forged (its CSRF token does not match); reload the page and try again';
  return null;
}
