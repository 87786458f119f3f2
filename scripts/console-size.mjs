// Prints what the console ships: the JavaScript and CSS that index.html loads, raw and gzip-compressed
// (level 9, what a reverse proxy's gzip would send), against the 300 KB budget (console.md "Fast").
//   node scripts/console-size.mjs          (builds dist/console first)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildConsole } from './build-console.mjs';

export const BUDGET = 300 * 1024;

/** Sizes of the assets a built console's index.html names. */
export function consoleSizes(dir) {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const files = [...html.matchAll(/\/app\/assets\/([\w.-]+\.(?:js|css))/g)].map((m) => m[1]);
  return files.map((name) => {
    const body = readFileSync(join(dir, 'assets', name));
    return { name, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length };
  });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const { outdir } = await buildConsole();
  const sizes = consoleSizes(outdir);
  for (const s of sizes) console.log(`${s.name.padEnd(28)} ${String(s.bytes).padStart(8)} B  ${String(s.gzip).padStart(7)} B gzip`);
  const total = sizes.reduce((n, s) => n + s.gzip, 0);
  console.log(`total JS+CSS gzip: ${(total / 1024).toFixed(1)} KB of ${BUDGET / 1024} KB budget`);
  if (total > BUDGET) process.exitCode = 1;
}
