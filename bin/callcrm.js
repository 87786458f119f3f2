#!/usr/bin/env node
// The CLI entry. It runs the build (dist/cli.js, made by `npm install` and `npm run build`) when that is
// at least as new as every source file, else the TypeScript sources through tsx: a checkout edited or
// pulled since its last build never runs stale code.
import { readdirSync, statSync } from 'node:fs';

const built = new URL('../dist/cli.js', import.meta.url);

function builtIsFresh() {
  let builtAt;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    return false;
  }
  const src = new URL('../src/', import.meta.url);
  for (const name of readdirSync(src, { recursive: true })) {
    if (statSync(new URL(name, src)).mtimeMs > builtAt) return false;
  }
  return statSync(new URL('../package.json', import.meta.url)).mtimeMs <= builtAt;
}

if (builtIsFresh()) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/index.ts');
}
