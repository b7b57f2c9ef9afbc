/**
 * A real issuer (the idp test fixture: SQLite, keys, HTTP on an ephemeral loopback port) and a
 * real app B server on another ephemeral port, registered as the demo seeding does. App A is
 * registered too (without a server), so tests can hold tokens for another API.
 */
import { registerClient, registerResource } from '@tessera/idp';
import { createDPoPProver, exchangeCode, withDPoP, type DPoPProver } from '@tessera/shared';
import { createCookieJarClient, type CookieJarClient } from '@tessera/shared/testing';
import { browserFlow, signInAndRedeem } from '../../../../idp/test/support/browser.js';
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

/** App B's sign-in: its tokens are bound to the key of the page that signed in (RFC 9449). */
export interface SignedInToAppB extends SignedIn {
  dpop: DPoPProver;
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
  options: { backchannelLogout: boolean; dpopBound?: boolean },
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
      dpopBound: options.dpopBound ?? true,
      // As the demo seed registers app B: its page may sign in through FedCM.
      fedcmOrigins: [appB],
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

/** The challenge app B's API adds to its bearer refusals: it takes DPoP-bound tokens too (RFC 9449 §7.1). */
export const DPOP_ALGS = 'algs="ES256 ES384 EdDSA RS256 PS256"';
export const DPOP_CHALLENGE = `DPoP ${DPOP_ALGS}`;

/** The key each app B access token signed in here is bound to: callMe proves possession with it. */
const boundTo = new Map<string, DPoPProver>();

/** Records that `accessToken` is bound to `dpop` (a refreshed token, say): callMe then sends it with proofs. */
export function rememberBinding(accessToken: string, dpop: DPoPProver): void {
  boundTo.set(accessToken, dpop);
}

/**
 * Alice signs in as app B's browser code does: public client, PKCE, and the code redeemed with a
 * DPoP proof by a key of this sign-in's own, so the tokens are bound to it.
 */
export async function signInToAppB(
  world: World,
  jar: CookieJarClient = createCookieJarClient(),
): Promise<SignedInToAppB> {
  const redirectUri = `${world.app}/`;
  const flow = await browserFlow(
    world.idp,
    { clientId: 'app-b', redirectUri, extra: { resource: world.app } },
    { email: 'alice@example.com' },
    jar,
  );
  const dpop = await createDPoPProver();
  const tokens = await exchangeCode({
    tokenEndpoint: `${world.idp}/token`,
    clientId: 'app-b',
    code: flow.callback.searchParams.get('code') ?? '',
    codeVerifier: flow.verifier,
    redirectUri,
    resource: world.app,
    dpop,
  });
  rememberBinding(tokens.access_token, dpop);
  return {
    accessToken: tokens.access_token,
    idToken: tokens.id_token as string,
    jar: flow.jar,
    dpop,
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

/**
 * GET /api/me as its caller would: a token bound to a key (one signInToAppB or rememberBinding
 * knows) with `Authorization: DPoP` and a proof, any other as a bearer token, or none.
 */
export function callMe(world: World, accessToken?: string): Promise<Response> {
  return callAppBApi(world.app, accessToken);
}

/** GET `path` (/api/me by default) of the app B at `appB`, as {@link callMe}. */
export function callAppBApi(appB: string, accessToken?: string, path = '/api/me'): Promise<Response> {
  const url = `${appB}${path}`;
  if (accessToken === undefined) return fetch(url);
  const dpop = boundTo.get(accessToken);
  if (dpop !== undefined) return withDPoP(dpop, fetch)(url, { headers: { authorization: `DPoP ${accessToken}` } });
  return fetch(url, { headers: { authorization: `Bearer ${accessToken}` } });
}

/** GET /api/me with `Authorization: Bearer`, whatever the token is bound to. */
export function callMeWithBearer(world: World, accessToken: string): Promise<Response> {
  return fetch(`${world.app}/api/me`, { headers: { authorization: `Bearer ${accessToken}` } });
}
