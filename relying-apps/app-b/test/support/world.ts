/**
 * A real issuer (the idp test fixture: SQLite, keys, HTTP on an ephemeral loopback port) and a
 * real app B server on another ephemeral port, registered as the demo seeding does. App A is
 * registered too (without a server), so tests can hold tokens for another API.
 */
import { registerClient, registerResource } from '@tessera/idp';
import { createCookieJarClient, type CookieJarClient } from '@tessera/shared/testing';
import { signInAndRedeem } from '../../../../idp/test/support/browser.js';
import type { RunningIssuer } from '../../../../idp/test/support/fixture.js';
import { registerAppA, startAppWorld, useWorld, type AppWorld } from '../../../../idp/test/support/relying-party.js';
import { createApp, openApp, type AppBDeps, type OpenApp } from '../../src/app.js';
import { bundleBrowserApp } from '../../src/bundle.js';
import { loadConfig, type AppBConfig } from '../../src/config.js';
import { silentLogger } from '@tessera/shared';

export { eventually } from '@tessera/shared/testing';

/** App A's URL in these tests: only a resource and a client at the issuer, nothing listens there. */
export const APP_A = 'http://app-a.localhost:4001';

export interface World extends Omit<AppWorld, 'serve' | 'fx'> {
  config: AppBConfig;
  appASecret: string;
  alice: { sub: string };
}

export interface SignedIn {
  accessToken: string;
  idToken: string;
  /** Present when the client may refresh (app B's is registered so, as in the demo). */
  refreshToken?: string;
  /** The browser that signed in: it holds the issuer's session cookie. */
  jar: CookieJarClient;
}

export interface WorldOptions {
  /** Register app B's back-channel logout URI at the issuer (default true). */
  backchannelLogout?: boolean;
  /** Extra issuer environment (TESSERA_STATUS_LIST_TTL, say). */
  issuerEnv?: Record<string, string>;
  /** Extra app B environment (APP_B_STATUS_LIST, say). */
  appEnv?: Record<string, string>;
}

/**
 * Registers app B at `appB` as scripts/src/seed-demo.ts registers the demo's (a public client that
 * may refresh), with or without its back-channel logout URI.
 */
export async function registerAppB(
  issuer: RunningIssuer,
  appB: string,
  options: { backchannelLogout: boolean },
): Promise<void> {
  const { store, clock } = issuer.issuer.ctx;
  await registerClient(
    { store, clock },
    {
      id: 'app-b',
      name: 'App B',
      type: 'public',
      party: 'first',
      redirectUris: [`${appB}/`],
      postLogoutRedirectUris: [`${appB}/`],
      backchannelLogoutUri: options.backchannelLogout ? `${appB}/backchannel-logout` : null,
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      resources: [appB],
      grantTypes: ['refresh_token'],
    },
  );
}

/** The issuer, app B's registration and configuration, and the socket app B is to serve on. */
async function prepareWorld(options: WorldOptions) {
  const { serve, fx, ...world } = await startAppWorld(options.issuerEnv ? { issuerEnv: options.issuerEnv } : {});
  const { app } = world;

  const { store, clock } = world.issuer.issuer.ctx;
  await registerResource({ store, clock }, { id: app, name: 'App B API' });
  await registerResource({ store, clock }, { id: APP_A, name: 'App A API' });
  await registerAppB(world.issuer, app, { backchannelLogout: options.backchannelLogout !== false });
  // App A may also ask for tokens for app B's API (the API takes any token issued for it), or
  // exchange its own for one, as in the demo.
  const secret = await registerAppA(world.issuer, APP_A, { resources: [APP_A, app], exchangeTargets: [app] });

  const config = loadConfig({ APP_B_URL: app, TESSERA_ISSUER: world.idp, ...options.appEnv });
  return { world: { ...world, config, appASecret: secret, alice: { sub: fx.alice.sub } }, serve };
}

export async function startWorld(deps: AppBDeps = {}, options: WorldOptions = {}): Promise<World> {
  const { world, serve } = await prepareWorld(options);
  serve(createApp(world.config, { log: silentLogger, ...deps }).fetch);
  return world;
}

export interface WorldOnDatabase extends World {
  /** Stops app B (its database closed, nothing of it left in memory) and starts it again on the same database. */
  restart(): Promise<void>;
}

/** A world whose app B runs as main.ts runs it: openApp on the database `database` (APP_B_DATABASE). */
export async function startWorldOnDatabase(database: string, options: WorldOptions = {}): Promise<WorldOnDatabase> {
  const { world, serve } = await prepareWorld({
    ...options,
    appEnv: { ...options.appEnv, APP_B_DATABASE: database },
  });
  // Built once: the browser code is no state of app B.
  const browserBundle = bundleBrowserApp();
  const open = () => openApp(world.config, { log: silentLogger, browserBundle });
  let running: OpenApp | undefined = await open();
  serve((request) => (running ? running.app.fetch(request) : new Response('app B is stopped', { status: 503 })));
  return {
    ...world,
    async restart() {
      const stopping = running;
      running = undefined;
      await stopping?.close();
      running = await open();
    },
    async stop() {
      await running?.close();
      await world.stop();
    },
  };
}

/** A world for the tests of the enclosing file or `describe` (see `useWorld`). */
export const useAppB = (deps: AppBDeps = {}, options: WorldOptions = {}): World =>
  useWorld(() => startWorld(deps, options));

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
