/** The browser app: its page, its script, its stylesheet, and the settings it reads. */
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { matchesIfNoneMatch } from '@tessera/shared';
import { renderPage } from '@tessera/shared/node';
import type { AppContext } from '../context.js';
import { shell, STYLESHEET } from '../shell.js';

/** What the browser code needs to know; nothing secret (app B is a public client). */
export interface BrowserConfig {
  issuer: string;
  clientId: string;
  appUrl: string;
  /** The leeway of the ID token's time checks, in the browser (APP_B_CLOCK_TOLERANCE_SEC). */
  clockToleranceSec: number;
}

export function staticRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  const browserConfig: BrowserConfig = {
    issuer: ctx.config.issuer,
    clientId: ctx.config.clientId,
    appUrl: ctx.config.appUrl,
    clockToleranceSec: ctx.config.clockToleranceSec,
  };
  // Revalidated on every load (cheap with the ETag): a restarted server's new bundle is picked up at once.
  const bundle = ctx.browserBundle.then((code) => ({
    code,
    etag: `"${createHash('sha256').update(code).digest('base64url')}"`,
  }));
  bundle.catch(() => {}); // reported where it is awaited; not an unhandled rejection meanwhile

  // no-store: on the way back from the issuer this URL carries the authorization code.
  app.get('/', (c) => renderPage(c, () => shell(), 200, { 'Cache-Control': 'no-store' }));

  app.get('/app.js', async function browserApp(c) {
    const { code, etag } = await bundle;
    const headers = { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache', ETag: etag };
    if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
    return c.body(code, 200, headers);
  });

  app.get('/app.css', (c) =>
    c.body(STYLESHEET, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }),
  );
  // Browsers ask for it on every first visit; an empty answer keeps their consoles free of 404s.
  app.get('/favicon.ico', (c) => c.body(null, 204, { 'Cache-Control': 'public, max-age=86400' }));
  app.get('/config.json', (c) => c.json(browserConfig, 200, { 'Cache-Control': 'no-cache' }));
  return app;
}
