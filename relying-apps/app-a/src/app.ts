/**
 * App A: a server-rendered relying party (OIDC confidential client). It signs people in through
 * Tessera, then keeps its own server-side session: the browser holds an opaque cookie, never a
 * token.
 */
import { Hono } from 'hono';
import {
  MalformedRequestError,
  createClockSkewMonitor,
  createIssuerClient,
  createMemoryJtiStore,
  observingIssuerClock,
  type FetchLike,
  type JtiStore,
} from '@tessera/shared';
import {
  createLogger,
  createLoopbackFetch,
  html,
  renderPage,
  requestLimits,
  securityHeaders,
  withNodeSignatures,
} from '@tessera/shared/node';
import { systemClock, type Clock } from '@tessera/shared';
import { openRelyingPartyStore } from '@tessera/shared/store';
import type { AppAConfig } from './config.js';
import type { AppContext } from './context.js';
import { cookieNames } from './http/cookies.js';
import { describeError, type Logger } from '@tessera/shared';
import { backchannelLogoutRoutes } from './routes/backchannel-logout.js';
import { callbackRoutes } from './routes/callback.js';
import { fedcmRoutes } from './routes/fedcm.js';
import { homeRoutes } from './routes/home.js';
import { loginRoutes } from './routes/login.js';
import { logoutRoutes } from './routes/logout.js';
import { meRoutes } from './routes/me.js';
import { securityRoutes } from './routes/security.js';
import { createMemoryLoginTransactionStore, type LoginTransactionStore } from './sessions/login-transactions.js';
import { createMemorySessionStore, type SessionStore } from './sessions/session-store.js';
import { FEDCM_SCRIPT } from './views/fedcm-script.js';
import { STYLESHEET, page } from './views/page.js';
import { problemPage } from './views/pages.js';

/** What createApp can be given instead of its defaults (tests, other deployments). */
export interface AppADeps {
  /**
   * Server-side HTTP to the issuer. Default: a fetch that resolves `*.localhost` to loopback, as
   * browsers do (RFC 6761 §6.3), which Node's own fetch does not.
   */
  fetch?: FetchLike;
  clock?: Clock;
  log?: Logger;
  sessions?: SessionStore;
  loginTransactions?: LoginTransactionStore;
  jtiStore?: JtiStore;
}

/** Largest request body read (the biggest legitimate one is a logout token form). */
const MAX_BODY_BYTES = 16 * 1024;

/**
 * Builds app A's HTTP application.
 *
 * @example
 * ```ts
 * const app = createApp(loadConfig());
 * serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 4001 });
 * ```
 */
export function createApp(config: AppAConfig, deps: AppADeps = {}): Hono {
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? createLogger('app-a');
  // Every answer of the issuer says what its clock reads (its Date header): a difference is logged
  // before it grows past the leeway and sign-ins start failing.
  const clockSkew = createClockSkewMonitor({ log, now: () => clock.now(), toleranceSec: config.clockToleranceSec });
  const fetch = observingIssuerClock(deps.fetch ?? createLoopbackFetch(), config.issuer, clockSkew);
  const ctx: AppContext = {
    config,
    clock,
    fetch,
    clockSkew,
    log,
    issuer: createIssuerClient({
      issuer: config.issuer,
      fetch,
      now: () => clock.now(),
      // Server-side: signatures checked with node:crypto, several times cheaper than Web Crypto here.
      wrapKeySet: withNodeSignatures,
    }),
    sessions: deps.sessions ?? createMemorySessionStore({ clock }),
    loginTransactions: deps.loginTransactions ?? createMemoryLoginTransactionStore({ clock }),
    // Logout tokens live 2 minutes at Tessera; the store keeps each jti until its token expires.
    jtiStore: deps.jtiStore ?? createMemoryJtiStore({ now: () => clock.now() }),
    cookies: cookieNames(config.appUrl),
  };

  const app = new Hono();
  // App A's pages load only its own stylesheet and FedCM script, and what carries the nonce. The
  // script talks to app A and the issuer (the browser's FedCM fetches of the issuer's config are
  // checked against connect-src too). Forms post to app A, and the sign-out form's redirect goes on
  // to the issuer's end-session endpoint (CSP Level 3 §6.5.1).
  const issuerOrigin = new URL(config.issuer).origin;
  app.use(
    '*',
    securityHeaders({
      page: {
        styleSources: ["'self'"],
        scriptSources: ["'self'"],
        connectSources: ["'self'", issuerOrigin],
        formActions: ["'self'", issuerOrigin],
      },
    }),
  );
  app.use('*', requestLimits({ bodyBytes: MAX_BODY_BYTES }));

  // Browsers ask for it on every first visit; an empty answer keeps their consoles free of 404s.
  app.get('/favicon.ico', (c) => c.body(null, 204, { 'Cache-Control': 'public, max-age=86400' }));
  app.get('/styles.css', (c) =>
    c.body(STYLESHEET, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }),
  );
  app.get('/fedcm.js', (c) =>
    c.body(FEDCM_SCRIPT, 200, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=3600',
    }),
  );
  for (const routes of [
    homeRoutes,
    loginRoutes,
    fedcmRoutes,
    securityRoutes,
    callbackRoutes,
    logoutRoutes,
    meRoutes,
    backchannelLogoutRoutes,
  ]) {
    app.route('/', routes(ctx));
  }

  app.notFound((c) =>
    c.req.path.startsWith('/api/')
      ? c.json({ error: 'not_found' }, 404)
      : renderPage(
          c,
          () =>
            page(
              'Not found',
              html`<h1>Not found</h1><p>There is no page at this address.</p><p><a href="/">Back to App A</a></p>`,
            ),
          404,
        ),
  );
  app.onError((error, c) => {
    const forScripts =
      c.req.path.startsWith('/api/') || c.req.path.startsWith('/fedcm/') || c.req.path === '/backchannel-logout';
    // Malformed input is the client's: a 4xx with a standard error, in the form the caller reads.
    if (error instanceof MalformedRequestError) {
      c.header('Cache-Control', 'no-store');
      return forScripts
        ? c.json(error.toJSON(), error.status)
        : renderPage(
            c,
            () => problemPage('Bad request', 'App A could not read this request.', error.error),
            error.status,
          );
    }
    // Whatever else escaped a route is a bug of ours: logged, answered without a stack trace.
    ctx.log.error('unhandled', { path: c.req.path, ...describeError(error), stack: error.stack });
    return forScripts
      ? c.json({ error: 'server_error' }, 500)
      : renderPage(
          c,
          () =>
            page(
              'Something went wrong',
              html`<h1>Something went wrong</h1>${[
                html`<p>App A could not complete this request.</p>`,
                html`<p><a href="/">Back to App A</a></p>`,
              ]}`,
            ),
          500,
        );
  });
  return app;
}

/** App A serving from its database: what a restart does not lose. */
export interface OpenApp {
  app: Hono;
  /** Closes the database (after the HTTP server has stopped). */
  close(): Promise<void>;
}

/**
 * Opens app A's database (`config.database`: a SQLite file or a `postgres://` URL, created and
 * migrated when needed) and builds the app on it: its sessions, login transactions and used
 * logout-token `jti`s are kept there, so a restart keeps people signed in and several processes of
 * app A may serve the same people. Expired rows are deleted in the background.
 *
 * @example
 * ```ts
 * const { app, close } = await openApp(loadConfig());
 * serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 4001 });
 * ```
 */
export async function openApp(
  config: AppAConfig,
  deps: Omit<AppADeps, 'sessions' | 'loginTransactions' | 'jtiStore'> = {},
): Promise<OpenApp> {
  const log = deps.log ?? createLogger('app-a');
  const store = await openRelyingPartyStore(config.database, {
    clock: deps.clock ?? systemClock,
    onSweepFailure: (error) => log.warn('store.sweep_failed', describeError(error)),
  });
  const app = createApp(config, {
    ...deps,
    log,
    sessions: store.sessions,
    loginTransactions: store.loginTransactions,
    jtiStore: store.jtis,
  });
  return { app, close: () => store.close() };
}
