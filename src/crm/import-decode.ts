// Bytes of an import → text, streamed. admin-api.md "Real files in and out":
//   a declared charset (HTTP content type, CLI --encoding) is honoured;
//   else a BOM decides: UTF-8 (EF BB BF), UTF-16 LE (FF FE) or BE (FE FF) — Excel's "Unicode text";
//   else the first bytes above ASCII decide: valid UTF-8 → UTF-8, otherwise CRM_LEGACY_CHARSET
//   (windows-1255 by default: Hebrew Excel's "CSV (Comma delimited)").
// Bytes that are not valid in the chosen charset become U+FFFD here; the readers refuse any row holding
// one (nothing is stored with U+FFFD silently), naming the charset that was used.
import { AppError } from '../errors.ts';

export interface DecodeOptions {
  /** Declared charset (content type or --encoding); undefined: detect. */
  charset?: string;
  /** CRM_LEGACY_CHARSET */
  legacyCharset: string;
}

/** Throws 415 when a declared charset is not one this Node can decode. */
export function decoderFor(label: string): TextDecoder {
  try {
    return new TextDecoder(label.trim().toLowerCase());
  } catch {
    throw new AppError('unsupported_media_type', `charset ${JSON.stringify(label)} is not supported (e.g. utf-8, utf-16le, windows-1255, iso-8859-8)`);
  }
}

/** The decoded text, chunk by chunk; `detected.encoding` names the charset once it is known. */
export async function* decodeChunks(chunks: AsyncIterable<Buffer>, opts: DecodeOptions, detected: { encoding?: string } = {}): AsyncGenerator<string> {
  let decoder: TextDecoder | undefined = opts.charset === undefined ? undefined : decoderFor(opts.charset);
  if (decoder) detected.encoding = decoder.encoding;
  let head: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    if (decoder) {
      const text = decoder.decode(chunk, { stream: true });
      if (text) yield text;
      continue;
    }
    // Undecided: wait for enough bytes to see a BOM, then for the first byte above ASCII.
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    if (head.length < 3) continue;
    decoder = byBom(head) ?? (hasHighByte(head) ? sniff(head, opts.legacyCharset) : undefined);
    if (!decoder) {
      // All ASCII so far: the same text in every candidate charset.
      yield head.toString('latin1');
      head = Buffer.alloc(0);
      continue;
    }
    detected.encoding = decoder.encoding;
    const text = decoder.decode(head, { stream: true });
    head = Buffer.alloc(0);
    if (text) yield text;
  }
  if (!decoder) {
    decoder = byBom(head) ?? (hasHighByte(head) ? sniff(head, opts.legacyCharset) : new TextDecoder('utf-8'));
    detected.encoding ??= decoder.encoding;
    const text = decoder.decode(head, { stream: true });
    if (text) yield text;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/**
 * The charset detection would choose for these first bytes, also when a charset was declared (the import
 * wizard shows both). All ASCII so far: utf-8 (the same text in every candidate).
 */
export function detectCharset(head: Buffer, legacyCharset: string): string {
  return (byBom(head) ?? (hasHighByte(head) ? sniff(head, legacyCharset) : new TextDecoder('utf-8'))).encoding;
}

function byBom(b: Buffer): TextDecoder | undefined {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return new TextDecoder('utf-8');
  if (b[0] === 0xff && b[1] === 0xfe) return new TextDecoder('utf-16le');
  if (b[0] === 0xfe && b[1] === 0xff) return new TextDecoder('utf-16be');
  return undefined;
}

function hasHighByte(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) return true;
  return false;
}

/** Valid UTF-8 from here on (a sequence cut at the chunk's end is fine) → UTF-8; else the legacy charset. */
function sniff(b: Buffer, legacy: string): TextDecoder {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b, { stream: true });
    return new TextDecoder('utf-8');
  } catch {
    return new TextDecoder(legacy);
  }
}

/** The charset parameter of a content type, if any. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return m ? m[1] : undefined;
}
