/**
 * A real issuer (the idp test fixture: SQLite, keys, HTTP on an ephemeral loopback port) and a
 * real app A on another ephemeral port, registered with each other as the demo seeding does.
 */
import { registerResource } from '@tessera/idp';
import { createCookieJarClient, type CookieJarClient } from '@tessera/shared/testing';
import { PASSWORD } from '../../../../idp/test/support/fixture.js';
import { submitSignIn } from '../../../../idp/test/support/browser.js';
import { registerAppA, startAppWorld, useWorld, type AppWorld } from '../../../../idp/test/support/relying-party.js';
import { createApp, openApp, type AppADeps, type OpenApp } from '../../src/app.js';
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

/** The issuer, app A's registration and configuration, and the socket app A is to serve on. */
async function prepareWorld(options: WorldOptions) {
  const { serve, fx, ...world } = await startAppWorld();
  const { app } = world;

  const { store, clock } = world.issuer.issuer.ctx;
  await registerResource({ store, clock }, { id: app, name: 'App A API' });
  const secret = await registerAppA(world.issuer, app, {
    backchannelLogoutUri: `${app}/backchannel-logout`,
    resources: [app],
    // As the demo seed registers app A: its pages may sign in through FedCM.
    fedcmOrigins: [app],
  });

  const config = loadConfig({
    APP_A_URL: app,
    TESSERA_ISSUER: world.idp,
    APP_A_CLIENT_SECRET: secret,
    ...options.appEnv,
  });
  const alice = { sub: fx.alice.sub, email: 'alice@example.com', name: 'Alice Liddell' };
  return { world, serve, config, alice };
}

export async function startWorld(deps: AppADeps = {}, options: WorldOptions = {}): Promise<World> {
  const { world, serve, config, alice } = await prepareWorld(options);
  const sessions = deps.sessions ?? createMemorySessionStore({ clock: { now: () => Date.now() } });
  serve(createApp(config, { log: silentLogger, ...deps, sessions }).fetch);
  return { ...world, config, sessions, alice };
}

export interface WorldOnDatabase extends Omit<World, 'sessions'> {
  /** Stops app A (its database closed, nothing of it left in memory) and starts it again on the same database. */
  restart(): Promise<void>;
}

/** A world whose app A runs as main.ts runs it: openApp on the database `database` (APP_A_DATABASE). */
export async function startWorldOnDatabase(database: string): Promise<WorldOnDatabase> {
  const { world, serve, config, alice } = await prepareWorld({ appEnv: { APP_A_DATABASE: database } });
  let running: OpenApp | undefined = await openApp(config, { log: silentLogger });
  serve((request) => (running ? running.app.fetch(request) : new Response('app A is stopped', { status: 503 })));
  return {
    ...world,
    config,
    alice,
    async restart() {
      const stopping = running;
      running = undefined;
      await stopping?.close();
      running = await openApp(config, { log: silentLogger });
    },
    async stop() {
      await running?.close();
      await world.stop();
    },
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
  world: Omit<World, 'sessions'>,
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
export const sessionCookie = (world: Pick<World, 'app'>, jar: CookieJarClient): string | undefined =>
  jar.cookie(world.app, 'app_a_session');

/** GET /api/me through the jar: the status and the JSON. */
export async function me(
  world: Pick<World, 'app'>,
  jar: CookieJarClient,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await jar.fetch(`${world.app}/api/me`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** The text of the element with this id in a page of app A (they hold text only), unescaped. */
export function textOf(page: string, id: string): string | undefined {
  const match = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(page);
  return match?.[1]?.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!);
}
