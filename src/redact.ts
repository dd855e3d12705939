/**
 * Credential masking, for every text that leaves the process or is kept: log lines, error bodies,
 * tool results and what the store writes. Pure and free of imports, so that the logger, the HTTP
 * layer and the store (which may not depend on the logger) all share the one rule.
 *
 * A secret is masked wherever it occurs: glued to other text (`x<key>`, `%20<key>`, `/v1/x<key>`)
 * and in its percent-encoded forms (`rk_live_%41bc…`, `rk%5Flive_…`, `%2541…` encoded twice),
 * since a request target or a query name reaches a log line as sent.
 */

/** Each kind of credential: its prefix (kept, to tell what was masked) and its body. */
const SECRET_PATTERNS: readonly RegExp[] = [
  // Our API keys (rk_live_/rk_test_, letters and digits) and Stripe's secret and restricted keys.
  /((?:sk|rk)_(?:live|test)_)[A-Za-z0-9_]{8,}/g,
  // Stripe webhook signing secrets.
  /(whsec_)[A-Za-z0-9+/=]{8,}/g,
  // The password of a PostgreSQL URL (REFUNDKIT_DATABASE_URL), which a driver error may quote.
  /(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s/]+(?=@)/g,
];

/** Percent-decoding is repeated this often at most: a key encoded three times is still found. */
const MAX_DECODE_PASSES = 4;

interface Span {
  from: number;
  to: number;
  prefix: string;
}

export function redact(text: string): string {
  if (!text.includes('%')) return mask(text, secretSpans(text), null);
  const decoded = decodeEscapes(text);
  // Every secret of the text as written is one of the decoded text too (a secret holds no '%', and
  // an escape cannot take its first character, which is no hex digit): nothing there, nothing here.
  const spans = secretSpans(decoded);
  if (spans.length === 0) return text;
  if (decoded === text) return mask(text, spans, null);
  // Only now is it worth building the map from decoded characters back to the text as written.
  return mask(text, spans, percentDecoded(text));
}

/** Replaces each span (of `view.text` when given, which maps it back to `text`) with its masked form. */
function mask(text: string, spans: readonly Span[], view: DecodedView | null): string {
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const span of spans) {
    const from = view === null ? span.from : (view.start[span.from] ?? span.from);
    const to = view === null ? span.to : (view.end[span.to - 1] ?? span.to);
    out += `${text.slice(at, from)}${span.prefix}…[redacted]`;
    at = to;
  }
  return out + text.slice(at);
}

/**
 * Every secret in `text`, each pattern searched on its own (a match of one kind must not hide the
 * start of another inside it), overlapping ones merged, in order.
 */
function secretSpans(text: string): Span[] {
  const found: Span[] = [];
  for (const pattern of SECRET_PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      found.push({ from: match.index, to: match.index + match[0].length, prefix: match[1] ?? '' });
    }
  }
  if (found.length <= 1) return found;
  found.sort((a, b) => a.from - b.from);
  const merged: Span[] = [];
  for (const span of found) {
    const last = merged.at(-1);
    if (last !== undefined && span.from <= last.to) last.to = Math.max(last.to, span.to);
    else merged.push({ ...span });
  }
  return merged;
}

const ASCII_ESCAPE = /%([0-7][0-9A-Fa-f])/g;

/** `text` with its ASCII percent-escapes decoded, repeatedly: the same text percentDecoded builds. */
function decodeEscapes(text: string): string {
  let out = text;
  for (let pass = 0; pass < MAX_DECODE_PASSES; pass += 1) {
    const next = out.replace(ASCII_ESCAPE, (_escape, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    if (next === out) break;
    out = next;
  }
  return out;
}

interface DecodedView {
  text: string;
  /** For each UTF-16 unit of `text`, where the characters it was decoded from begin and end. */
  start: number[];
  end: number[];
}

/**
 * `text` with its ASCII percent-escapes decoded as decodeEscapes does, and for each decoded unit
 * the range of `text` it came from. Escapes of bytes past 0x7f stay as they are: no credential
 * holds one.
 */
function percentDecoded(text: string): DecodedView {
  let units = text.split('');
  let start = units.map((_, i) => i);
  let end = units.map((_, i) => i + 1);
  for (let pass = 0; pass < MAX_DECODE_PASSES; pass += 1) {
    const nextUnits: string[] = [];
    const nextStart: number[] = [];
    const nextEnd: number[] = [];
    let decoded = false;
    for (let i = 0; i < units.length; i += 1) {
      const code = units[i] === '%' ? asciiEscape(units[i + 1], units[i + 2]) : -1;
      if (code >= 0) {
        nextUnits.push(String.fromCharCode(code));
        nextStart.push(start[i] ?? i);
        nextEnd.push(end[i + 2] ?? i + 3);
        i += 2;
        decoded = true;
      } else {
        nextUnits.push(units[i] ?? '');
        nextStart.push(start[i] ?? i);
        nextEnd.push(end[i] ?? i + 1);
      }
    }
    if (!decoded) break;
    units = nextUnits;
    start = nextStart;
    end = nextEnd;
  }
  return { text: units.join(''), start, end };
}

/** The byte two hex digits name, if it is ASCII; -1 otherwise. */
function asciiEscape(high: string | undefined, low: string | undefined): number {
  if (high === undefined || low === undefined || !/^[0-7][0-9A-Fa-f]$/.test(high + low)) return -1;
  return Number.parseInt(high + low, 16);
}
