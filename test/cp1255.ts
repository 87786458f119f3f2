// Text → windows-1255 bytes (Hebrew Excel's plain CSV), the inverse of Node's decoder over all 256 bytes:
// test files written the way a call center's Excel writes them.
export function cp1255(text: string): Buffer {
  const decoder = new TextDecoder('windows-1255');
  const table = new Map<string, number>();
  for (let b = 0; b < 256; b++) {
    const ch = decoder.decode(Uint8Array.of(b));
    if (ch !== '\uFFFD' && !table.has(ch)) table.set(ch, b);
  }
  const out: number[] = [];
  for (const ch of text) {
    const b = table.get(ch);
    if (b === undefined) throw new Error(`no windows-1255 byte for ${ch}`);
    out.push(b);
  }
  return Buffer.from(out);
}
