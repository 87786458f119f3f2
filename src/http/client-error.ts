// Answers to requests Node's HTTP parser refuses (headers or URL over the 16 KiB limit: 431; a malformed
// request line or header: 400) before any handler sees them, so the path is unknown: the URL may be cut
// anywhere across TCP packets. The caller gives the body (app.ts: both the telephony envelope and the
// admin API's error object at once). The raw packet is never logged: it holds the URL, and the URL may
// hold an authkey.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ErrorCode } from '../errors.ts';

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

export function createClientErrorHandler(bodyOf: (slug: ErrorCode, message: string) => object) {
  return function clientErrorHandler(this: FastifyInstance, err: Error & { code?: string }, socket: Duplex) {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, slug, message]: [number, ErrorCode, string] =
      err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'header_too_large', 'The URL or headers are too large (at most 16 KiB)'] :
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request_timeout', 'The request took too long to arrive'] :
      [400, 'invalid_input', 'Malformed HTTP request'];
    this.log.debug({ code: err.code, status }, 'client error');
    const body = JSON.stringify(bodyOf(slug, message));
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

/**
 * An HTTP/1.1 request without Host (RFC 9112 §3.2: a 400). Node would answer it with a bare empty 400
 * before any handler; the server turns that off (app.ts) and asks this instead, so the client gets a body
 * it can parse. True when it answered.
 */
export function answerMissingHost(req: IncomingMessage, res: ServerResponse, bodyOf: (slug: ErrorCode, message: string) => object): boolean {
  if (req.headers.host !== undefined || req.httpVersionMajor !== 1 || req.httpVersionMinor !== 1) return false;
  const body = JSON.stringify(bodyOf('invalid_input', 'An HTTP/1.1 request needs a Host header'));
  res.writeHead(400, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-content-type-options': 'nosniff', connection: 'close' });
  res.end(body);
  return true;
}
