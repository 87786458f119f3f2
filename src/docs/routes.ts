// GET {BASE}/openapi.json and the API documentation at {BASE}/docs, outside the admin token: the
// description of an API is not a secret, and a client must be able to read it before it has a token.
//
// The page is Swagger UI, served by @fastify/swagger-ui from the files inside its npm package: no CDN,
// nothing fetched from another host. The UI reads the document from {BASE}/docs/json (the same object
// as /openapi.json). Its own @fastify/static is registered inside the plugin's encapsulated context with
// decorateReply: false, so it claims no reply decorator (reply.sendFile stays free for the console).
import type { FastifyInstance } from 'fastify';
import swaggerUi from '@fastify/swagger-ui';
import { THEME_CSS, THEME_JS } from './theme.ts';

/**
 * The page's Content-Security-Policy, sent with the page and every file under /docs (replacing the
 * app's default, which allows nothing). Scripts and styles come from this server only: Swagger UI's page
 * has no inline script, and its stylesheets are files. The UI sets element styles through the DOM (which
 * CSP allows), never style attributes in markup, so style-src needs no 'unsafe-inline'
 * (test/docs-browser.test.ts records every CSP violation). data: images are the icons inside
 * swagger-ui.css. connect-src 'self': the document and "Try it out" calls go to this server only.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export async function docsRoutes(app: FastifyInstance, { base }: { base: string }) {
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // This plugin is registered under the base prefix; the page's links to its files must carry it.
    indexPrefix: base,
    staticCSP: DOCS_CSP,
    // The page is the API's own documentation: no bar to load another document by URL, no validator
    // badge (it would call a foreign host), deep links to operations (#/Telephony/get_data).
    uiConfig: {
      layout: 'BaseLayout',
      deepLinking: true,
      docExpansion: 'list',
      defaultModelsExpandDepth: -1,
      displayRequestDuration: true,
      filter: true,
      tryItOutEnabled: true,
      persistAuthorization: false,
      syntaxHighlight: { activate: true, theme: 'nord' },
    },
    validatorUrl: false,
    theme: { title: 'callcrm API', css: [{ filename: 'callcrm.css', content: THEME_CSS }], js: [{ filename: 'callcrm.js', content: THEME_JS }] },
  });
}
