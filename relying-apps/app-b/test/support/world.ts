/**
 * A real issuer (the idp test fixture: SQLite, keys, HTTP on an ephemeral loopback port) and a
 * real app B server on another ephemeral port, registered as the demo seeding does. App A is
 * registered too (without a server), so tests can hold tokens for another API.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { registerClient, registerResource } from '@tessera/idp';
import { createCookieJarClient, type CookieJarClient } from '@tessera/shared/testing';
import { seed, startIssuer, type RunningIssuer } from '../../../../idp/test/support/fixture.js';
import { signInAndRedeem } from '../../../../idp/test/support/browser.js';
import { createApp, type AppBDeps } from '../../src/app.js';
import { loadConfig, type AppBConfig } from '../../src/config.js';
import { silentLogger } from '@tessera/shared';

/** App A's URL in these tests: only a resource and a client at the issuer, nothing listens there. */
export const APP_A = 'http://app-a.localhost:4001';

export interface World {
  issuer: RunningIssuer;
  idp: string;
  /** App B's URL (its origin), also its resource identifier. */
  app: string;
  config: AppBConfig;
  appASecret: string;
  alice: { sub: string };
  stop(): Promise<void>;
}

export interface SignedIn {
  accessToken: string;
  idToken: string;
  /** Present when the client may refresh (app B's is registered so, as in the demo). */
  refreshToken?: string;
  /** The browser that signed in: it holds the issuer's session cookie. */
  jar: CookieJarClient;
}

async function listen(): Promise<{ server: Server; url: string }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export interface WorldOptions {
  /** Register app B's back-channel logout URI at the issuer (default true). */
  backchannelLogout?: boolean;
  /** Extra issuer environment (TESSERA_STATUS_LIST_TTL, say). */
  issuerEnv?: Record<string, string>;
  /** Extra app B environment (APP_B_STATUS_LIST, say). */
  appEnv?: Record<string, string>;
}

export async function startWorld(deps: AppBDeps = {}, options: WorldOptions = {}): Promise<World> {
  const issuer = await startIssuer({
    ...(options.issuerEnv ? { env: options.issuerEnv } : {}),
    issuer: {
      // The test app listens on 127.0.0.1, which the global fetch reaches as it is.
      fetch: (url, init) => fetch(url, init),
      backchannel: { baseDelayMs: 100, maxAttempts: 3, timeoutMs: 2000 },
    },
  });
  const seeded = await seed(issuer);
  const { server, url: app } = await listen();

  const { store, clock } = issuer.issuer.ctx;
  await registerResource({ store, clock }, { id: app, name: 'App B API' });
  await registerResource({ store, clock }, { id: APP_A, name: 'App A API' });
  // As scripts/src/seed-demo.ts registers the demo's app B, with the test's URL.
  await registerClient(
    { store, clock },
    {
      id: 'app-b',
      name: 'App B',
      type: 'public',
      party: 'first',
      redirectUris: [`${app}/`],
      postLogoutRedirectUris: [`${app}/`],
      backchannelLogoutUri: options.backchannelLogout === false ? null : `${app}/backchannel-logout`,
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      resources: [app],
      grantTypes: ['refresh_token'],
    },
  );
  // App A may also ask for tokens for app B's API: the API takes any token issued for it.
  const { secret } = await registerClient(
    { store, clock },
    {
      id: 'app-a',
      name: 'App A',
      type: 'confidential',
      party: 'first',
      redirectUris: [`${APP_A}/callback`],
      postLogoutRedirectUris: [`${APP_A}/`],
      scopes: ['openid', 'profile', 'email'],
      resources: [APP_A, app],
    },
  );

  const config = loadConfig({ APP_B_URL: app, TESSERA_ISSUER: issuer.url, ...options.appEnv });
  const hono = createApp(config, { log: silentLogger, ...deps });
  server.on('request', getRequestListener(hono.fetch));

  return {
    issuer,
    idp: issuer.url,
    app,
    config,
    appASecret: secret!,
    alice: { sub: seeded.alice.sub },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await issuer.cleanup();
    },
  };
}

/** Alice signs in as app B's browser code would (public client, PKCE), for app B's API. */
export async function signInToAppB(world: World, jar: CookieJarClient = createCookieJarClient()): Promise<SignedIn> {
  const { tokens } = await signInAndRedeem(
    world.idp,
    { clientId: 'app-b', redirectUri: `${world.app}/`, extra: { resource: world.app } },
    jar,
  );
  return {
    accessToken: tokens.access_token as string,
    idToken: tokens.id_token as string,
    jar,
    ...(typeof tokens.refresh_token === 'string' ? { refreshToken: tokens.refresh_token } : {}),
  };
}

/** Alice signs in to app A (confidential client) for the API `resource`. */
export async function signInToAppA(world: World, resource: string): Promise<SignedIn> {
  const jar = createCookieJarClient();
  const { tokens } = await signInAndRedeem(
    world.idp,
    {
      clientId: 'app-a',
      redirectUri: `${APP_A}/callback`,
      extra: { resource },
      auth: { id: 'app-a', secret: world.appASecret },
    },
    jar,
  );
  return { accessToken: tokens.access_token as string, idToken: tokens.id_token as string, jar };
}

/** GET /api/me with a bearer token (or none). */
export function callMe(world: World, accessToken?: string): Promise<Response> {
  return fetch(
    `${world.app}/api/me`,
    accessToken === undefined ? {} : { headers: { authorization: `Bearer ${accessToken}` } },
  );
}

/** Polls `check` until it holds (back-channel delivery is asynchronous), or fails after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
