// Builds the web console (src/console/web, React 19 + TypeScript) into <outdir>/ with esbuild: one
// JavaScript and one CSS file, named by content hash so a browser may cache them for a year, and an
// index.html template naming them. The server (src/console/serve.ts) fills the template's %BASE% and
// %TZ% when it serves it. Plain JavaScript, so `npm start`'s build and the tests can both call it.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The default output directory: dist/console, where the server looks first. */
export const CONSOLE_DIST = join(root, 'dist', 'console');

/**
 * Builds the console into outdir (default dist/console) and answers the names of its assets.
 * Safe to run while a server reads outdir: the hashed assets never change content, and index.html is
 * replaced in one rename.
 */
export async function buildConsole(outdir = CONSOLE_DIST) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { console: 'src/console/web/main.tsx' },
    outdir: join(outdir, 'assets'),
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome111', 'firefox111', 'safari16'],
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
    write: false,
  });
  // Each file lands by rename: a server serving outdir (a test, while another test builds) never reads
  // a half-written file.
  mkdirSync(join(outdir, 'assets'), { recursive: true });
  for (const f of result.outputFiles) {
    writeAtomically(f.path, f.contents);
    // Compressed once here, served as they are (@fastify/static preCompressed): 250 KB of JS goes out as ~77 KB.
    if (/\.(js|css)$/.test(f.path)) {
      writeAtomically(`${f.path}.gz`, gzipSync(f.contents, { level: 9 }));
      writeAtomically(`${f.path}.br`, brotliCompressSync(f.contents, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    }
  }
  const outputs = result.outputFiles.map((f) => basename(f.path));
  const js = outputs.find((p) => p.endsWith('.js'));
  const css = outputs.find((p) => p.endsWith('.css'));
  if (!js || !css) throw new Error(`console build produced ${outputs.join(', ')}`);
  const template = readFileSync(join(root, 'src/console/web/index.html'), 'utf8')
    .replace('%JS%', `%BASE%/app/assets/${js}`)
    .replace('%CSS%', `%BASE%/app/assets/${css}`);
  writeAtomically(join(outdir, 'index.html'), template);
  return { js, css, outdir };
}

function writeAtomically(path, contents) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { js, css, outdir } = await buildConsole(process.argv[2]);
  console.log(`console built into ${outdir}: ${js}, ${css}`);
}
