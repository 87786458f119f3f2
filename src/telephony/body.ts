// A POST body's parameters, added over the query's (a body value wins, as in PHP's $_REQUEST). The
// carrier hands over the body as it can read it: a byte stream, or (Fastify) multipart parts.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { multipartRefusal, tooLong } from './limits.ts';
import { charsetOf, type Charsets } from './charset.ts';
import { addJsonObject, type Params } from './params.ts';
import { TransportRefusal } from './refusal.ts';

export type MultipartPart =
  | { type: 'field'; fieldname: string; value: unknown; valueTruncated: boolean }
  | { type: 'file'; fieldname: string; file: Readable };

export type Body =
  | { kind: 'stream'; stream: Readable }
  | { kind: 'multipart'; parts(): AsyncIterable<MultipartPart> };

/** The media type of a Content-Type header, lower-cased, without parameters; '' when absent. */
export function mediaTypeOf(header: string | undefined): string {
  if (header === undefined) return '';
  const semi = header.indexOf(';');
  return (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
}

/** A multipart POST: read by Fastify's @fastify/multipart (routes.ts), not by the fast path. */
export function isMultipartPost(req: { method?: string | undefined; headers: IncomingHttpHeaders }): boolean {
  return req.method === 'POST' && mediaTypeOf(req.headers['content-type']).startsWith('multipart/');
}

export async function readBody(p: Params, headers: IncomingHttpHeaders, body: Body, limit: number, charsets: Charsets): Promise<void> {
  const encoding = headers['content-encoding'];
  // A compressed body would be read as garbage (and its key as a wrong key): refused before any key is read.
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity' && encoding.trim() !== '') {
    throw new TransportRefusal(415, 'Unsupported content encoding');
  }
  const declared = charsetOf(headers['content-type']);
  if (body.kind === 'multipart') return readMultipart(p, body, limit, charsets);
  if (Number(headers['content-length']) > limit) {
    body.stream.resume();
    throw new TransportRefusal(413, 'Request body too large');
  }
  const type = mediaTypeOf(headers['content-type']);
  if (type === 'application/x-www-form-urlencoded') {
    charsets.addForm(p, await readAll(body.stream, limit), declared);
  } else if (type === 'application/json') {
    const text = charsets.decode(await readAll(body.stream, limit), declared).trim();
    if (text === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TransportRefusal(400, 'The JSON body is not a JSON object');
    addJsonObject(p, parsed as Record<string, unknown>);
  } else {
    // No content type, text/plain or any other type: PHP's $_REQUEST ignores such a body, and so do we
    // (telephony-api.md, Legacy realities): the query alone answers.
    body.stream.resume();
  }
}

/** The whole body, refused with 413 past `limit` bytes (by Content-Length before reading, or while reading). */
async function readAll(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > limit) {
      stream.resume();
      throw new TransportRefusal(413, 'Request body too large');
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks, size);
}

async function readMultipart(p: Params, body: Extract<Body, { kind: 'multipart' }>, limit: number, charsets: Charsets) {
  // Multipart is streamed past Fastify's body limit, so its fields are counted against it here.
  let bytes = 0;
  try {
    for await (const part of body.parts()) {
      if (part.type === 'field') {
        if (part.valueTruncated) throw tooLong(part.fieldname);
        const value = textOf(part.value, charsets);
        bytes += Buffer.byteLength(value) + part.fieldname.length;
        if (bytes > limit) throw multipartRefusal({ statusCode: 413 });
        p.set(textOf(part.fieldname, charsets), value);
      } else {
        part.file.resume();
        p.setMalformed(part.fieldname);
      }
    }
  } catch (err) {
    throw multipartRefusal(err);
  }
}

/**
 * A multipart value: busboy hands undeclared parts over byte for byte (routes.ts registers it with
 * defCharset latin1), so they are decoded here like any other body; a part with its own charset comes
 * decoded by busboy.
 */
function textOf(value: unknown, charsets: Charsets): string {
  const s = typeof value === 'string' ? value : String(value);
  return /[\x80-\xff]/.test(s) && !/[^\x00-\xff]/.test(s) ? charsets.decode(Buffer.from(s, 'latin1')) : s;
}
