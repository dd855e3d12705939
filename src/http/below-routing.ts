/**
 * Requests that never reach routing get the reference's error body too, where node:http's own
 * answer would be a bare status, or none at all: what its parser refuses (a control character in a
 * header, a request line that is not HTTP, headers past the size limit, a broken chunked body, one
 * too slow to arrive), an HTTP/1.1 request without Host, an Expect it does not meet, and CONNECT.
 * The connection closes after each.
 */
import { maxHeaderSize, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { RefundKitError } from '../domain/errors.js';
import { clip } from '../domain/schemas.js';
import type { Logger } from '../logger.js';
import { CONTENT_TYPE, errorJson } from './respond.js';

/** What node:http's parser refused, as our error and the status node:http itself would send. */
function parserRefusal(code: string | undefined): { status: number; refusal: RefundKitError } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, refusal: new RefundKitError('payload_too_large', `Request line and headers are larger than ${maxHeaderSize} bytes`) };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, refusal: new RefundKitError('payload_too_large', 'Request body has chunk extensions larger than this server accepts') };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, refusal: new RefundKitError('validation_error', 'Request was not received in time: send the whole request without pausing') };
    case 'HPE_INVALID_CHUNK_SIZE':
      return { status: 400, refusal: new RefundKitError('validation_error', 'Request body is not valid chunked transfer encoding') };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return {
        status: 400,
        refusal: new RefundKitError('validation_error', 'Request has an invalid Content-Length header, or one alongside Transfer-Encoding'),
      };
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return { status: 400, refusal: new RefundKitError('validation_error', 'Request has an invalid Transfer-Encoding header') };
    default:
      return { status: 400, refusal: new RefundKitError('validation_error', 'Request is not valid HTTP/1.1: a malformed request line or header') };
  }
}

/** A refusal below routing, whose status is not its code's usual one; the connection closes after it. */
function sendRefusal(res: ServerResponse, status: number, refusal: RefundKitError): void {
  const body = errorJson(refusal);
  res.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', connection: 'close' });
  res.end(body);
}

/** The same, written on a connection node:http has no response object for. */
function rawRefusal(status: number, refusal: RefundKitError, extraHeaders = ''): string {
  const body = errorJson(refusal);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: ${CONTENT_TYPE}\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n${extraHeaders}\r\n${body}`
  );
}

type Answering = WeakMap<object, { req: IncomingMessage; res: ServerResponse }>;

export function clientErrorHandler(logger: Logger, answering: Answering) {
  return (error: Error & { code?: string }, socket: Duplex): void => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const inFlight = answering.get(socket);
    // A response is under way on this connection. If its own request is the one that broke (in
    // its body) and nothing was sent yet, the refusal is that response; a request pipelined
    // behind a complete one must not write into another's answer.
    if (inFlight !== undefined && (inFlight.req.complete || inFlight.res.headersSent)) {
      socket.destroy();
      return;
    }
    logger.debug('http request refused by the HTTP parser', { code: error.code });
    const { status, refusal } = parserRefusal(error.code);
    if (inFlight !== undefined) {
      sendRefusal(inFlight.res, status, refusal);
      return;
    }
    socket.end(rawRefusal(status, refusal), () => socket.destroy());
  };
}

/**
 * An HTTP/1.1 request without Host (node:http's own check, turned off, answers a bare 400): true
 * when it was refused here.
 */
export function refuseWithoutHost(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.headers.host !== undefined || req.httpVersionMajor !== 1 || req.httpVersionMinor < 1) return false;
  sendRefusal(res, 400, new RefundKitError('validation_error', 'Request has no Host header: HTTP/1.1 requires one'));
  return true;
}

/** An Expect header other than 100-continue: node:http would answer a bare 417. */
export function checkExpectation(req: IncomingMessage, res: ServerResponse): void {
  const expect = clip(req.headers.expect ?? '', 100);
  sendRefusal(res, 417, new RefundKitError('validation_error', `Expect: ${expect} is not supported; only Expect: 100-continue is`));
}

/** CONNECT (a proxy tunnel): node:http would drop the connection without a word. */
export function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => socket.destroy());
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const refusal = new RefundKitError('method_not_allowed', 'Method CONNECT is not allowed: this server is not a proxy');
  socket.end(rawRefusal(405, refusal, 'allow: \r\n'), () => socket.destroy());
}
