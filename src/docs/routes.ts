// GET {BASE}/openapi.json and GET {BASE}/docs, outside the admin token: the description of an API is
// not a secret, and a client must be able to read it before it has a token.
import type { FastifyInstance } from 'fastify';
import { docsPage } from './page.ts';

export async function docsRoutes(app: FastifyInstance, { base }: { base: string }) {
  const page = docsPage(`${base}/openapi.json`);

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/docs', { schema: { hide: true } }, async (_request, reply) =>
    reply.header('content-type', 'text/html; charset=utf-8').header('content-security-policy', page.csp).header('cache-control', 'no-cache').send(page.html),
  );
}
