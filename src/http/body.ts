/**
 * Request bodies: read as bytes with a size limit (declared or streamed), then taken as JSON by
 * the routes that want JSON. The size is checked before the type, and an empty body is no body
 * whatever its type, so Fastify's own content-type parsing is kept out of the way (server.ts).
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
    // Not read at all: the answer closes the connection (see the error handler).
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

/** True for application/json and the +json types, whatever the parameters (charset). */
function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const semicolon = header.indexOf(';');
  const type = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * A body read by readBody as JSON, or undefined when there is none. A body must come as JSON:
 * another content type is unsupported_media_type, text that does not parse is validation_error.
 */
export function jsonBody(raw: Buffer | undefined, contentType: string | undefined): unknown {
  if (raw === undefined || raw.length === 0) return undefined;
  if (!isJsonContentType(contentType)) {
    throw new RefundKitError('unsupported_media_type', `Content-Type must be application/json, not '${clip(contentType ?? 'none', 100)}'`);
  }
  const text = raw.toString('utf8');
  // JSON's own whitespace only: String#trim would also take a no-break space or a BOM for nothing.
  if (/^[ \t\r\n]*$/.test(text)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw errors.validation('Request body is not valid JSON');
  }
}
