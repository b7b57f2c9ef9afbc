/**
 * A real issuer (the idp test fixture: SQLite, keys, HTTP on an ephemeral loopback port) and a
 * real app A on another ephemeral port, registered with each other as the demo seeding does.
 */
import { registerResource } from '@tessera/idp';
import { createCookieJarClient, type CookieJarClient } from '@tessera/shared/testing';
import { PASSWORD } from '../../../../idp/test/support/fixture.js';
import { submitSignIn } from '../../../../idp/test/support/browser.js';
import { registerAppA, startAppWorld, useWorld, type AppWorld } from '../../../../idp/test/support/relying-party.js';
import { createApp, type AppADeps } from '../../src/app.js';
import { loadConfig, type AppAConfig } from '../../src/config.js';
import { silentLogger } from '@tessera/shared';
import { createMemorySessionStore, type SessionStore } from '../../src/sessions/session-store.js';

export { eventually } from '@tessera/shared/testing';

export interface World extends Omit<AppWorld, 'serve' | 'fx'> {
  config: AppAConfig;
  /** App A's session store, so a test can look at what the server keeps. */
  sessions: SessionStore;
  alice: { sub: string; email: string; name: string };
}

export interface WorldOptions {
  /** Extra app A environment (APP_A_CLOCK_TOLERANCE_SEC, say). */
  appEnv?: Record<string, string>;
}

export async function startWorld(deps: AppADeps = {}, options: WorldOptions = {}): Promise<World> {
  const { serve, fx, ...world } = await startAppWorld();
  const { app } = world;

  const { store, clock } = world.issuer.issuer.ctx;
  await registerResource({ store, clock }, { id: app, name: 'App A API' });
  const secret = await registerAppA(world.issuer, app, {
    backchannelLogoutUri: `${app}/backchannel-logout`,
    resources: [app],
  });

  const config = loadConfig({
    APP_A_URL: app,
    TESSERA_ISSUER: world.idp,
    APP_A_CLIENT_SECRET: secret,
    ...options.appEnv,
  });
  const sessions = deps.sessions ?? createMemorySessionStore({ clock: { now: () => Date.now() } });
  serve(createApp(config, { log: silentLogger, ...deps, sessions }).fetch);

  return {
    ...world,
    config,
    sessions,
    alice: { sub: fx.alice.sub, email: 'alice@example.com', name: 'Alice Liddell' },
  };
}

/** A world for the tests of the enclosing file or `describe` (see `useWorld`). */
export const useAppA = (deps: AppADeps = {}, options: WorldOptions = {}): World =>
  useWorld(() => startWorld(deps, options));

/**
 * Signs alice in to app A as a browser would: app A `/login` → issuer (sign-in form when the
 * issuer has no session for this jar) → app A `/callback` → `/`. Returns the last response.
 */
export async function signIn(
  world: World,
  jar: CookieJarClient = createCookieJarClient(),
): Promise<{ jar: CookieJarClient; page: Response; hops: Response[] }> {
  const start = await jar.follow(`${world.app}/login`, {
    stopWhen: (u) => u.origin === world.idp && u.pathname === '/sign-in',
  });
  if (start.location === undefined) return { jar, page: start.last, hops: start.responses };
  const signedIn = await submitSignIn(jar, world.idp, start.location, world.alice.email, PASSWORD);
  const location = signedIn.headers.get('location');
  if (location === null) throw new Error(`the issuer did not accept the sign-in: ${signedIn.status}`);
  const back = await jar.follow(new URL(location, world.idp));
  return { jar, page: back.last, hops: [...start.responses, signedIn, ...back.responses] };
}

/** The session id cookie app A set in this jar. */
export const sessionCookie = (world: World, jar: CookieJarClient): string | undefined =>
  jar.cookie(world.app, 'app_a_session');

/** GET /api/me through the jar: the status and the JSON. */
export async function me(
  world: World,
  jar: CookieJarClient,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await jar.fetch(`${world.app}/api/me`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
