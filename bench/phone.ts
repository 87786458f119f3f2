// Micro-benchmark: normalizePhone (fast path first) vs normalizePhoneSlow (libphonenumber-js parse).
// Run: npx tsx bench/phone.ts
import { normalizePhone, normalizePhoneSlow, type CountryCode } from '../src/phone.ts';

const CALLS = 1_000_000;
const WARMUP = 200_000;
const COUNTRY: CountryCode = 'IL';

// A pool of common spellings of random numbers, so no single string is hot in any cache.
function commonSpellings(count: number): string[] {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const digits = (n: number) => Array.from({ length: n }, () => rand(10)).join('');
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const mobile = rand(3) > 0;
    const area = mobile ? `5${rand(10)}` : String([2, 3, 4, 8, 9][rand(5)]);
    const a = digits(3);
    const b = digits(4);
    const spellings = [
      `0${area}${a}${b}`,
      `0${area}-${a}-${b}`,
      `0${area} ${a} ${b}`,
      `(0${area}) ${a}.${b}`,
      `+972${area}${a}${b}`,
      `+972 ${area}-${a}-${b}`,
      `972${area}${a}${b}`,
      `9720${area}${a}${b}`,
      `+972 0${area}-${a}-${b}`,
      `00972${area}${a}${b}`,
    ];
    out.push(spellings[rand(spellings.length)]!);
  }
  return out;
}

// Spellings the fast path leaves to the library: the cost of trying it first.
const UNCOMMON = ['1-800-123-456', '*6789', '050-1234567 ext. 12', '+44 20 7946 0958', 'n/a', '0123456789', '501234567'];

function bench(name: string, fn: (s: string, c: CountryCode) => string, inputs: readonly string[]): void {
  let sink = 0;
  const mask = inputs.length - 1; // inputs.length is a power of two
  for (let i = 0; i < WARMUP; i++) sink += fn(inputs[i & mask]!, COUNTRY).length;
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) sink += fn(inputs[i & mask]!, COUNTRY).length;
  const ns = Number(process.hrtime.bigint() - start);
  console.log(`${name.padEnd(44)} ${(ns / CALLS).toFixed(1).padStart(8)} ns/op   (${(ns / 1e6).toFixed(0)} ms / ${CALLS.toLocaleString('en-US')} calls, sink ${sink})`);
}

const common = commonSpellings(4096);
const uncommon = Array.from({ length: 1024 }, (_, i) => UNCOMMON[i % UNCOMMON.length]!);

console.log(`node ${process.version}, country ${COUNTRY}`);
bench('normalizePhoneSlow  (common spellings)', normalizePhoneSlow, common);
bench('normalizePhone      (common spellings)', normalizePhone, common);
bench('normalizePhoneSlow  (fallback spellings)', normalizePhoneSlow, uncommon);
bench('normalizePhone      (fallback spellings)', normalizePhone, uncommon);
