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
import { createApp, type AppBDeps } from '../../src/app.js';
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

export async function startWorld(deps: AppBDeps = {}, options: WorldOptions = {}): Promise<World> {
  const { serve, fx, ...world } = await startAppWorld(options.issuerEnv ? { issuerEnv: options.issuerEnv } : {});
  const { app } = world;

  const { store, clock } = world.issuer.issuer.ctx;
  await registerResource({ store, clock }, { id: app, name: 'App B API' });
  await registerResource({ store, clock }, { id: APP_A, name: 'App A API' });
  await registerAppB(world.issuer, app, { backchannelLogout: options.backchannelLogout !== false });
  // App A may also ask for tokens for app B's API: the API takes any token issued for it.
  const secret = await registerAppA(world.issuer, APP_A, { resources: [APP_A, app] });

  const config = loadConfig({ APP_B_URL: app, TESSERA_ISSUER: world.idp, ...options.appEnv });
  serve(createApp(config, { log: silentLogger, ...deps }).fetch);

  return { ...world, config, appASecret: secret, alice: { sub: fx.alice.sub } };
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
