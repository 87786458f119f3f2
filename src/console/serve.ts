// The web console's files at {BASE}/app/: the hashed assets from dist/console/assets (immutable, by
// @fastify/static), and index.html for the console's own addresses (/app/, /app/login, /app/pop,
// /app/customers/:id, /app/search, …) so that a link a PBX opens lands on the app, which then routes.
// The bundle is built by scripts/build-console.mjs (`npm run build`, `npm start`, and the tests).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { errorBody } from '../errors.ts';

/**
 * The console loads only its own files: no inline script or style, no other host, no framing. The
 * API calls go to the same origin (connect-src 'self').
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/**
 * Where the built console is: next to the bundled server (dist/server.js → dist/console), or, running
 * from src/ under tsx, the project's dist/console.
 */
export function consoleDir(): string {
  const candidates = [new URL('./console/', import.meta.url), new URL('../../dist/console/', import.meta.url)].map((u) => fileURLToPath(u));
  return candidates.find((d) => existsSync(`${d}index.html`)) ?? candidates[candidates.length - 1]!;
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export async function consoleRoutes(app: FastifyInstance, { config, dir = consoleDir() }: { config: Config; dir?: string }) {
  const base = config.basePath;
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (_request, reply) => {
      reply.header('content-security-policy', CONSOLE_CSP);
    });

    // @fastify/swagger-ui registers @fastify/static too: no reply decorators here, so both can live.
    await scope.register(fastifyStatic, {
      root: `${dir}assets`,
      prefix: `${base}/app/assets/`,
      decorateReply: false,
      index: false,
      // The build writes .br and .gz beside each file (scripts/build-console.mjs).
      preCompressed: true,
      // Names carry the content's hash: a new build has new names.
      maxAge: '365d',
      immutable: true,
    });

    // Read once the file exists; until then (a checkout never built) every page says how to build it.
    let page: string | undefined;
    const indexHtml = () => {
      if (page !== undefined) return page;
      const file = `${dir}index.html`;
      if (!existsSync(file)) return undefined;
      page = readFileSync(file, 'utf8').replaceAll('%BASE%', escapeAttr(base)).replaceAll('%TZ%', escapeAttr(config.timezone)).replaceAll('%COUNTRY%', escapeAttr(config.defaultCountry));
      return page;
    };
    const serveIndex = async (_request: unknown, reply: import('fastify').FastifyReply) => {
      const html = indexHtml();
      if (html === undefined) return reply.code(503).send(errorBody('internal', 'The console is not built: run `npm run build`'));
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
    };
    // Pages, not API operations: left out of the OpenAPI document.
    scope.get(`${base}/app/`, { schema: { hide: true } }, serveIndex);
    scope.get(`${base}/app/*`, { schema: { hide: true } }, serveIndex);
  });
}
