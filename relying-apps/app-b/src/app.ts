/**
 * App B: a browser app (OIDC public client: PKCE in the browser, tokens in memory) and the
 * stateless API it calls with `Authorization: Bearer <JWT>`. This server hands out the page and
 * its bundled script, verifies access tokens, and hears back-channel logouts.
 */
import { Hono } from 'hono';
import {
  MalformedRequestError,
  createClockSkewMonitor,
  createIssuerClient,
  createMemoryJtiStore,
  createStatusListChecker,
  observingIssuerClock,
  type FetchLike,
  type JtiStore,
} from '@tessera/shared';
import {
  createLogger,
  createLoopbackFetch,
  requestLimits,
  securityHeaders,
  withNodeSignatures,
} from '@tessera/shared/node';
import { bundleBrowserApp } from './bundle.js';
import { systemClock, type Clock } from '@tessera/shared';
import { openRelyingPartyStore } from '@tessera/shared/store';
import type { AppBConfig } from './config.js';
import type { AppContext } from './context.js';
import { describeError, type Logger } from '@tessera/shared';
import { createMemoryRevokedSessions, type RevokedSessions } from './revoked-sessions.js';
import { apiRoutes } from './routes/api.js';
import { backchannelLogoutRoutes } from './routes/backchannel-logout.js';
import { staticRoutes } from './routes/static.js';

/** What createApp can be given instead of its defaults (tests, other deployments). */
export interface AppBDeps {
  /**
   * Server-side HTTP to the issuer (discovery, JWKS). Default: a fetch that resolves
   * `*.localhost` to loopback, as browsers do (RFC 6761 §6.3), which Node's own fetch does not.
   */
  fetch?: FetchLike;
  clock?: Clock;
  log?: Logger;
  revoked?: RevokedSessions;
  jtiStore?: JtiStore;
  /** The bundled browser code; by default bundling starts when the app is created. */
  browserBundle?: Promise<string>;
}

/** Largest request body read (the biggest legitimate one is a logout token form). */
const MAX_BODY_BYTES = 16 * 1024;

/**
 * Builds app B's HTTP application.
 *
 * @example
 * ```ts
 * const config = loadConfig();
 * const app = createApp(config, { browserBundle: Promise.resolve(await bundleBrowserApp()) });
 * serve({ fetch: app.fetch, hostname: config.host, port: config.port });
 * ```
 */
export function createApp(config: AppBConfig, deps: AppBDeps = {}): Hono {
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? createLogger('app-b');
  // Every answer of the issuer says what its clock reads (its Date header): a difference is logged
  // before it grows past the leeway and the API starts refusing tokens.
  const clockSkew = createClockSkewMonitor({ log, now: () => clock.now(), toleranceSec: config.clockToleranceSec });
  const fetch = observingIssuerClock(deps.fetch ?? createLoopbackFetch(), config.issuer, clockSkew);
  const issuer = createIssuerClient({
    issuer: config.issuer,
    fetch,
    now: () => clock.now(),
    // Server-side: signatures checked with node:crypto, several times cheaper than Web Crypto here.
    wrapKeySet: withNodeSignatures,
  });
  const ctx: AppContext = {
    config,
    clock,
    log,
    clockSkew,
    issuer,
    ...(config.checkStatusList
      ? {
          statusLists: createStatusListChecker({
            issuer: config.issuer,
            keySet: issuer.keySet,
            fetch,
            now: () => clock.now(),
            log,
            clockToleranceSec: config.clockToleranceSec,
          }),
        }
      : {}),
    revoked: deps.revoked ?? createMemoryRevokedSessions({ clock, windowSec: config.revocationWindowSec }),
    jtiStore: deps.jtiStore ?? createMemoryJtiStore({ now: () => clock.now() }),
    browserBundle: deps.browserBundle ?? bundleBrowserApp(),
  };

  const app = new Hono();
  // The page runs only our own bundled script, which the shell marks with the nonce too: an injected
  // inline script has neither. It talks only to our API and the issuer (discovery, JWKS, token
  // endpoint), so an injected script could send tokens nowhere else. No forms: sign-in and
  // sign-out are navigations.
  const issuerOrigin = new URL(config.issuer).origin;
  app.use(
    '*',
    securityHeaders({
      page: {
        scriptSources: ["'self'"],
        connectSources: ["'self'", issuerOrigin],
        styleSources: ["'self'"],
        formActions: [],
      },
    }),
  );
  app.use('*', requestLimits({ bodyBytes: MAX_BODY_BYTES }));
  app.route('/', staticRoutes(ctx));
  app.route('/', apiRoutes(ctx));
  app.route('/', backchannelLogoutRoutes(ctx));

  app.notFound((c) => c.json({ error: 'not_found' }, 404));
  app.onError((error, c) => {
    // Malformed input is the client's: a 4xx with a standard error.
    if (error instanceof MalformedRequestError) {
      return c.json(error.toJSON(), error.status, {
        'Cache-Control': 'no-store',
      });
    }
    // Whatever else escaped a route is a bug of ours (or a bundle that did not build): logged, no stack trace out.
    ctx.log.error('unhandled', { path: c.req.path, ...describeError(error), stack: error.stack });
    return c.json({ error: 'server_error' }, 500);
  });
  return app;
}

/** App B serving from its database: what a restart does not lose. */
export interface OpenApp {
  app: Hono;
  /** Closes the database (after the HTTP server has stopped). */
  close(): Promise<void>;
}

/**
 * Opens app B's database (`config.database`: a SQLite file or a `postgres://` URL, created and
 * migrated when needed) and builds the app on it: the sessions the issuer ended and the used
 * logout-token `jti`s are kept there for the revocation window, so a restart keeps ended sessions
 * ended and every process of app B on the database refuses their tokens at once. Expired rows are
 * deleted in the background.
 *
 * @example
 * ```ts
 * const { app, close } = await openApp(loadConfig(), { browserBundle: Promise.resolve(await bundleBrowserApp()) });
 * serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 4002 });
 * ```
 */
export async function openApp(config: AppBConfig, deps: Omit<AppBDeps, 'revoked' | 'jtiStore'> = {}): Promise<OpenApp> {
  const log = deps.log ?? createLogger('app-b');
  const store = await openRelyingPartyStore(config.database, {
    clock: deps.clock ?? systemClock,
    revocationWindowSec: config.revocationWindowSec,
    onSweepFailure: (error) => log.warn('store.sweep_failed', describeError(error)),
  });
  const app = createApp(config, { ...deps, log, revoked: store.revokedSessions, jtiStore: store.jtis });
  return { app, close: () => store.close() };
}
