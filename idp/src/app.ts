/** The issuer's HTTP application: routes composed, one root error handler. */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { OAuthError } from '@tessera/shared';
import type { IssuerContext } from './context.js';
import { LIMITS } from './http/params.js';
import { accountRoutes } from './routes/account.js';
import { authorizeRoutes } from './routes/authorize.js';
import { consentRoutes } from './routes/consent.js';
import { homeRoutes } from './routes/home.js';
import { logoutRoutes } from './routes/logout.js';
import { revocationRoutes } from './routes/revocation.js';
import { metadataRoutes } from './routes/metadata.js';
import { signInRoutes } from './routes/sign-in.js';
import { tokenRoutes } from './routes/token.js';
import { userinfoRoutes } from './routes/userinfo.js';
import type { Env } from './routes/web.js';
import { errorPage } from './views/pages.js';

const wantsHtml = (accept: string | undefined) => !!accept && accept.includes('text/html');

export function createApp(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();

  app.use('*', async function securityHeaders(c, next) {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    if (c.res.headers.get('content-type')?.startsWith('text/html')) {
      c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'");
      c.header('X-Frame-Options', 'DENY');
    }
  });

  app.use(
    '*',
    bodyLimit({
      maxSize: LIMITS.bodyBytes,
      onError: (c) => c.json({ error: 'invalid_request', error_description: 'the request body is too large' }, 413),
    }),
  );

  for (const routes of [metadataRoutes, authorizeRoutes, signInRoutes, consentRoutes, tokenRoutes, revocationRoutes, userinfoRoutes, logoutRoutes, accountRoutes, homeRoutes]) {
    app.route('/', routes(ctx));
  }

  app.notFound((c) =>
    wantsHtml(c.req.header('accept'))
      ? c.html(errorPage('Not found', 'not_found', 'There is no page at this address.'), 404)
      : c.json({ error: 'not_found' }, 404),
  );

  // Anything that escaped a route: a bad request if it is ours, else server_error, never a stack trace.
  app.onError((err, c) => {
    if (err instanceof OAuthError && err.status < 500) {
      c.header('Cache-Control', 'no-store');
      return wantsHtml(c.req.header('accept'))
        ? c.html(errorPage('Bad request', err.error, err.description), err.status as 400)
        : c.json(err.toJSON(), err.status as 400);
    }
    ctx.log.error('unhandled', { path: c.req.path, error: err instanceof Error ? err.stack : String(err) });
    return wantsHtml(c.req.header('accept'))
      ? c.html(errorPage('Something went wrong', 'server_error', 'The server could not complete this request.'), 500)
      : c.json({ error: 'server_error', error_description: 'the server could not complete this request' }, 500);
  });

  return app;
}
