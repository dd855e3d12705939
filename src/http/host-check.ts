/**
 * DNS-rebinding protection for /mcp: a web page on evil.example that gets its name resolved to
 * 127.0.0.1 can make a browser talk to a local server, but the browser still sends
 * `Host: evil.example` (and its Origin). Only the names this server was bound to, and those the
 * operator adds (REFUNDKIT_HTTP_ALLOWED_HOSTS), are answered.
 */

export interface HostRule {
  /** Lowercase; an IPv6 address in brackets, as in a Host header. */
  hostname: string;
  /** null: any port. */
  port: string | null;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);

/** A bind address that listens on every interface (0.0.0.0, ::). */
export function isWildcardHost(host: string): boolean {
  return WILDCARDS.has(host.toLowerCase());
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The names a server bound to `bindHost`:`port` answers to, plus `extra` (`name` or `name:port`). */
export function allowedHostRules(bindHost: string, port: number, extra: readonly string[]): HostRule[] {
  const host = bindHost.toLowerCase();
  const portText = String(port);
  const rules: HostRule[] = [];
  if (isLoopback(host) || WILDCARDS.has(host)) {
    // A wildcard bind serves other machines too, but under names only the operator knows: they
    // go in REFUNDKIT_HTTP_ALLOWED_HOSTS. Local clients keep working meanwhile.
    for (const name of LOOPBACK_NAMES) rules.push({ hostname: name, port: portText });
  } else {
    rules.push({ hostname: host.includes(':') && !host.startsWith('[') ? `[${host}]` : host, port: portText });
  }
  for (const entry of extra) {
    const parsed = parseHost(entry);
    if (parsed !== null) rules.push({ hostname: parsed.hostname, port: /:\d+$/.test(entry) ? parsed.port : null });
  }
  return rules;
}

function parseHost(value: string, defaultPort = '80'): { hostname: string; port: string } | null {
  try {
    const url = new URL(`http://${value}`);
    if (url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') return null;
    return { hostname: url.hostname.toLowerCase(), port: url.port === '' ? defaultPort : url.port };
  } catch {
    return null;
  }
}

function matches(rules: readonly HostRule[], hostname: string, port: string): boolean {
  return rules.some((rule) => rule.hostname === hostname && (rule.port === null || rule.port === port));
}

/** Whether a Host header names this server. A request without one is refused. */
export function isAllowedHost(header: string | undefined, rules: readonly HostRule[]): boolean {
  if (header === undefined || header === '') return false;
  const parsed = parseHost(header);
  return parsed !== null && matches(rules, parsed.hostname, parsed.port);
}

/** Whether an Origin header (sent by browsers) is one of this server's; none at all is fine. */
export function isAllowedOrigin(header: string | undefined, rules: readonly HostRule[]): boolean {
  if (header === undefined) return true;
  let url: URL;
  try {
    url = new URL(header);
  } catch {
    return false; // includes the opaque origin "null"
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  return matches(rules, url.hostname.toLowerCase(), port);
}
