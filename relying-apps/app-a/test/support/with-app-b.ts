/**
 * One issuer, app A and a real app B, registered with each other as the demo seeding does: app A
 * may exchange the person's access token for one for app B's API (RFC 8693). All three run on the
 * issuer's test clock, so a test can move time past an access token's life everywhere at once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { registerResource } from '@tessera/idp';
import { silentLogger } from '@tessera/shared';
import type { TestClock } from '../../../../idp/test/support/fixture.js';
import { registerAppA, startAppWorld } from '../../../../idp/test/support/relying-party.js';
import { createApp as createAppB } from '../../../app-b/src/app.js';
import { loadConfig as loadAppBConfig } from '../../../app-b/src/config.js';
import { registerAppB } from '../../../app-b/test/support/world.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createMemorySessionStore } from '../../src/sessions/session-store.js';
import type { World } from './world.js';

export interface WorldWithAppB extends World {
  appB: string;
  /** The issuer's, app A's and app B's clock. */
  clock: TestClock;
  /** Stops app B alone: app A's calls to it then find nobody. */
  stopAppB(): Promise<void>;
}

export interface WithAppBOptions {
  /**
   * What app A may exchange tokens for: app B's API (the default, as the demo registers it),
   * another API only, or nothing (no token exchange grant).
   */
  exchangeFor?: 'app-b' | 'another-api' | 'nothing';
}

const ANOTHER_API = 'https://another-api.example.com';

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const close = async (server: Server): Promise<void> => {
  if (!server.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
};

export async function startWorldWithAppB(options: WithAppBOptions = {}): Promise<WorldWithAppB> {
  const { serve, fx, ...world } = await startAppWorld();
  const { app } = world;
  const serverB = createServer();
  const appB = await listen(serverB);

  const { store, clock: storeClock } = world.issuer.issuer.ctx;
  await registerResource({ store, clock: storeClock }, { id: app, name: 'App A API' });
  await registerResource({ store, clock: storeClock }, { id: appB, name: 'App B API' });
  await registerResource({ store, clock: storeClock }, { id: ANOTHER_API, name: 'Another API' });
  const exchangeFor = options.exchangeFor ?? 'app-b';
  const secret = await registerAppA(world.issuer, app, {
    backchannelLogoutUri: `${app}/backchannel-logout`,
    resources: [app],
    ...(exchangeFor === 'nothing' ? {} : { exchangeTargets: [exchangeFor === 'app-b' ? appB : ANOTHER_API] }),
  });
  await registerAppB(world.issuer, appB, { backchannelLogout: true });

  const clock = world.issuer.clock;
  const config = loadConfig({
    APP_A_URL: app,
    TESSERA_ISSUER: world.idp,
    APP_A_CLIENT_SECRET: secret,
    APP_B_URL: appB,
  });
  const sessions = createMemorySessionStore({ clock });
  serve(createApp(config, { log: silentLogger, clock, sessions }).fetch);
  const configB = loadAppBConfig({ APP_B_URL: appB, TESSERA_ISSUER: world.idp });
  serverB.on('request', getRequestListener(createAppB(configB, { log: silentLogger, clock }).fetch));

  return {
    ...world,
    config,
    sessions,
    alice: { sub: fx.alice.sub, email: 'alice@example.com', name: 'Alice Liddell' },
    appB,
    clock,
    stopAppB: () => close(serverB),
    async stop() {
      await close(serverB);
      await world.stop();
    },
  };
}
