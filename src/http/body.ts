/**
 * Request bodies: read with a size limit (declared or streamed), and JSON only, in UTF-8 only.
 */
import type { IncomingMessage } from 'node:http';
import { errors, RefundKitError } from '../domain/errors.js';
import { clip } from '../domain/schemas.js';

function payloadTooLarge(limit: number): RefundKitError {
  return new RefundKitError('payload_too_large', `Request body is larger than ${limit} bytes`);
}

/** The raw bytes of the body; rejects with payload_too_large past `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    // Not read at all: the connection is closed after the answer (see sendError callers).
    return Promise.reject(payloadTooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        // Keep draining without storing, so that the answer can still be read by the client.
        req.resume();
        reject(payloadTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/** True for application/json and the +json types, whatever the parameters. */
function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const semicolon = header.indexOf(';');
  const type = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** The names UTF-8 goes by in a charset parameter, lowercased. */
const UTF8_LABELS: ReadonlySet<string> = new Set(['utf-8', 'utf8']);

/**
 * The first charset parameter of a Content-Type that is not UTF-8 (unquoted, as sent), or null
 * when there is none: `charset=utf-8`, `charset=UTF-8` and `charset="utf-8"` are all UTF-8.
 */
function foreignCharset(header: string): string | null {
  for (const parameter of header.split(';').slice(1)) {
    const equals = parameter.indexOf('=');
    if (equals === -1 || parameter.slice(0, equals).trim().toLowerCase() !== 'charset') continue;
    let value = parameter.slice(equals + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!UTF8_LABELS.has(value.toLowerCase())) return value;
  }
  return null;
}

/** Fatal: a byte sequence that is not UTF-8 throws rather than becoming U+FFFD. A BOM is kept (and is not JSON). */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as text, or null when they are not valid UTF-8. */
export function utf8Text(raw: Uint8Array): string | null {
  try {
    return UTF8.decode(raw);
  } catch {
    return null;
  }
}

/**
 * The body as JSON, or undefined when there is none. A body must come as JSON in UTF-8 (RFC 8259):
 * another content type or a charset other than UTF-8 is unsupported_media_type; bytes that are not
 * UTF-8, or text that does not parse, are validation_error. Nothing is ever decoded with a loss:
 * 'José' sent in latin1 would otherwise be stored as 'Jos\uFFFD'.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const raw = await readBody(req, limit);
  if (raw.length === 0) return undefined;
  const contentType = req.headers['content-type'];
  if (!isJsonContentType(contentType)) {
    throw new RefundKitError(
      'unsupported_media_type',
      `Content-Type must be application/json, not '${clip(contentType ?? 'none', 100)}'`,
    );
  }
  const charset = foreignCharset(contentType ?? '');
  if (charset !== null) {
    throw new RefundKitError(
      'unsupported_media_type',
      `Content-Type charset must be utf-8 (JSON is UTF-8), not '${clip(charset)}'`,
    );
  }
  const text = utf8Text(raw);
  if (text === null) throw errors.validation('Request body is not valid UTF-8');
  // JSON's own whitespace only: String#trim would also take a no-break space or a BOM for nothing.
  if (/^[ \t\r\n]*$/.test(text)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw errors.validation('Request body is not valid JSON');
  }
}
