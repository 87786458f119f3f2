// Text in legacy encodings. Israeli PHP/MySQL systems often send windows-1255 bytes, percent-encoded in
// URLs or raw in form bodies. A declared charset is honoured for bodies; undeclared bytes that are not
// valid UTF-8 (query or body) are read as CRM_LEGACY_CHARSET (telephony-api.md, Legacy realities).
// Bytes that are text in neither stay U+FFFD here, and set_data refuses such a value as a field error:
// U+FFFD is never stored silently.
import type { Params } from './params.ts';

export interface Charsets {
  /** Text of `bytes`: in `declared` when given, else UTF-8 when valid, else the legacy charset. */
  decode(bytes: Uint8Array, declared?: string): string;
  /** The pairs of a query string or form body (`+` is a space, `%XX` a byte), each decoded as above. */
  addForm(p: Params, raw: string | Buffer, declared?: string): void;
}

/** Characters that make a query string need more than URLSearchParams (which reads escapes as UTF-8 only). */
const NON_ASCII = /%[89a-f]|[^\x00-\x7f]/i;

export function createCharsets(legacyCharset: string): Charsets {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const decoders = new Map<string, TextDecoder>();
  const decoderOf = (label: string) => {
    let d = decoders.get(label);
    if (!d) {
      d = new TextDecoder(label);
      decoders.set(label, d);
    }
    return d;
  };
  const legacy = decoderOf(legacyCharset);

  function decode(bytes: Uint8Array, declared?: string): string {
    if (declared !== undefined) {
      try {
        return decoderOf(declared).decode(bytes);
      } catch {
        // An unknown label: as if none was declared.
      }
    }
    try {
      return utf8.decode(bytes);
    } catch {
      return legacy.decode(bytes);
    }
  }

  /** The bytes a form component stands for: `+` a space, `%XX` a byte, other characters as sent. */
  function bytesOf(component: string): Uint8Array {
    // A raw byte of the request line arrives as one character up to U+00FF; a JS caller may give more.
    const raw = /[^\x00-\xff]/.test(component) ? Buffer.from(component, 'utf8') : Buffer.from(component, 'latin1');
    const out = Buffer.allocUnsafe(raw.length);
    let n = 0;
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i]!;
      if (c === 0x2b) out[n++] = 0x20;
      else if (c === 0x25 && isHex(raw[i + 1]) && isHex(raw[i + 2])) {
        out[n++] = parseInt(String.fromCharCode(raw[i + 1]!, raw[i + 2]!), 16);
        i += 2;
      } else out[n++] = c;
    }
    return out.subarray(0, n);
  }

  return {
    decode,
    addForm(p, raw, declared) {
      if (typeof raw === 'string' && declared === undefined && !NON_ASCII.test(raw)) {
        // The common case, ASCII only: URLSearchParams reads it exactly.
        for (const [k, v] of new URLSearchParams(raw)) p.set(k, v);
        return;
      }
      const text = typeof raw === 'string' ? raw : raw.toString('latin1');
      for (const pair of text.split('&')) {
        if (pair === '') continue;
        const eq = pair.indexOf('=');
        const name = decode(bytesOf(eq === -1 ? pair : pair.slice(0, eq)), declared);
        p.set(name, eq === -1 ? '' : decode(bytesOf(pair.slice(eq + 1)), declared));
      }
    },
  };
}

const isHex = (c: number | undefined) => c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));

/** The charset parameter of a Content-Type header, lower-cased; undefined when none. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const m = contentType === undefined ? null : /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return m ? m[1]!.toLowerCase() : undefined;
}
