/**
 * The issuer's HTTP application: routes composed, each surface with its own error handler
 * (http/error-handlers.ts), and the root handler for whatever those leave.
 */
import { type Context, Hono } from 'hono';
import { routePath } from 'hono/route';
import { OAuthError, parseUrlencoded } from '@tessera/shared';
import { renderPage, requestLimits, securityHeaders } from '@tessera/shared/node';
import type { IssuerContext } from './context.js';
import { LIMITS, readParams } from './protocol/params.js';
import { accountRoutes } from './routes/account.js';
import { accountDeletionRoutes } from './routes/account-deletion.js';
import { passwordChangeRoutes } from './routes/password-change.js';
import { adminRoutes } from './routes/admin.js';
import { passkeyRoutes } from './routes/passkeys.js';
import { passwordResetRoutes } from './routes/password-reset.js';
import { deviceAuthorizationRoutes, devicePageRoutes } from './routes/device.js';
import { devMailRoutes } from './routes/dev-mail.js';
import { emailChangeRoutes } from './routes/email-change.js';
import { fedcmPictureRoutes } from './routes/fedcm-pictures.js';
import { fedcmRoutes } from './routes/fedcm.js';
import { authorizeRoutes } from './routes/authorize.js';
import { consentRoutes } from './routes/consent.js';
import { healthRoutes } from './routes/health.js';
import { homeRoutes } from './routes/home.js';
import { introspectionRoutes } from './routes/introspection.js';
import { logoutRoutes } from './routes/logout.js';
import { metadataRoutes } from './routes/metadata.js';
import { pushedAuthorizationRequestRoutes } from './routes/par.js';
import { revocationRoutes } from './routes/revocation.js';
import { secondFactorRoutes } from './routes/second-factor.js';
import { signInRoutes } from './routes/sign-in.js';
import { signUpRoutes } from './routes/sign-up.js';
import { statusListRoutes } from './routes/status-list.js';
import { tokenRoutes } from './routes/token.js';
import { userinfoRoutes } from './routes/userinfo.js';
import type { Env } from './http/env.js';
import { requestContext } from './http/request-context.js';
import { isStoreUnavailable } from './store/index.js';
import { errorPage } from './views/pages.js';

/**
 * The pattern of the last route that matched (`/token`, `/device/:code`…); a request no route
 * answered (only the catch-all middlewares matched) is `unmatched`.
 */
function routePattern(c: Context<Env>): string {
  const path = routePath(c, -1);
  return path === '*' || path === '/*' || path === '' ? 'unmatched' : path;
}

const wantsHtml = (accept: string | undefined) => !!accept && accept.includes('text/html');

export function createApp(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();

  // Every request is counted under the pattern of the route that answered it, so the metrics have
  // as many series as the issuer has routes, whatever paths clients send.
  app.use('*', async function countRequest(c, next) {
    const started = performance.now();
    await next();
    ctx.metrics.observeRequest(c.req.method, routePattern(c), c.res.status, (performance.now() - started) / 1000);
  });

  // The issuer's pages style themselves inline, and run no script but the one the page shell loads
  // with the response's nonce (the WebAuthn ceremonies: views/page-script.ts), which sends nothing
  // itself: its answers go in forms. Forms post to the issuer; a route whose form is answered with
  // a redirect to a client allows that origin for its own response (allowFormRedirectTo).
  app.use('*', securityHeaders({ page: { scriptSources: [], formActions: ["'self'"] } }));
  app.use(
    '*',
    requestLimits({
      bodyBytes: LIMITS.bodyBytes,
      // readParams applies the issuer's count and length limits; duplicates are each endpoint's to
      // judge (the authorization endpoint sends them back to a trusted redirect URI: RFC 6749 §4.1.2.1).
      readQuery: (query) => readParams(parseUrlencoded(query, { limits: false })),
    }),
  );

  for (const routes of [
    healthRoutes,
    metadataRoutes,
    fedcmRoutes,
    authorizeRoutes,
    signInRoutes,
    passwordResetRoutes,
    signUpRoutes,
    secondFactorRoutes,
    consentRoutes,
    tokenRoutes,
    pushedAuthorizationRequestRoutes,
    revocationRoutes,
    introspectionRoutes,
    statusListRoutes,
    userinfoRoutes,
    logoutRoutes,
    accountRoutes,
    passwordChangeRoutes,
    accountDeletionRoutes,
    emailChangeRoutes,
    passkeyRoutes,
    adminRoutes,
    deviceAuthorizationRoutes,
    devicePageRoutes,
    devMailRoutes,
    fedcmPictureRoutes,
    homeRoutes,
  ]) {
    app.route('/', routes(ctx));
  }

  app.notFound((c) =>
    wantsHtml(c.req.header('accept'))
      ? renderPage(c, () => errorPage('Not found', 'not_found', 'There is no page at this address.'), 404)
      : c.json({ error: 'not_found' }, 404),
  );

  // Anything no surface's handler answered: a bad request if it is ours, else server_error, never a stack trace.
  app.onError((err, c) => {
    if (err instanceof OAuthError && err.status < 500) {
      c.header('Cache-Control', 'no-store');
      return wantsHtml(c.req.header('accept'))
        ? renderPage(c, () => errorPage('Bad request', err.error, err.description), err.status)
        : c.json(err.toJSON(), err.status);
    }
    // The database cannot serve for now (unreachable, restarting, a lock held past its timeout):
    // that passes, so 503 with Retry-After (RFC 9110 §15.6.4) and OAuth's code for it (RFC 6749
    // §4.1.2.1) — never an answer from what this node remembers, which may be stale.
    if (isStoreUnavailable(err)) {
      ctx.metrics.databaseErrors.inc({ site: 'request' });
      requestContext(c, ctx).log.warn('store.unavailable', {
        path: c.req.path,
        error: err instanceof Error ? err.message : String(err),
      });
      c.header('Cache-Control', 'no-store');
      c.header('Retry-After', '1');
      return wantsHtml(c.req.header('accept'))
        ? renderPage(
            c,
            () => errorPage('Temporarily unavailable', 'temporarily_unavailable', 'Please try again in a moment.'),
            503,
          )
        : c.json({ error: 'temporarily_unavailable', error_description: 'try again in a moment' }, 503);
    }
    requestContext(c, ctx).log.error('unhandled', {
      path: c.req.path,
      error: err instanceof Error ? err.stack : String(err),
    });
    return wantsHtml(c.req.header('accept'))
      ? renderPage(
          c,
          () => errorPage('Something went wrong', 'server_error', 'The server could not complete this request.'),
          500,
        )
      : c.json({ error: 'server_error', error_description: 'the server could not complete this request' }, 500);
  });

  return app;
}
