/**
 * One issuer and both apps' servers, registered with each other as the demo seeding does, so that
 * a person signs in to app A, then to app B by single sign-on, and an ended session reaches both.
 * The issuer keeps its own test clock; the apps share another (app B's browser code reads it too),
 * so a test can move either site's clock.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { registerResource } from '@tessera/idp';
import { TestClock } from '../../../../idp/test/support/fixture.js';
import { registerAppA, startAppWorld, type AppWorld } from '../../../../idp/test/support/relying-party.js';
import { createApp as createAppA } from '../../../app-a/src/app.js';
import { loadConfig as loadAppAConfig } from '../../../app-a/src/config.js';
import { createRecordingLogger, type RecordingLogger } from '../../../app-a/test/support/recording-logger.js';
import { createApp as createAppB } from '../../src/app.js';
import { loadConfig as loadAppBConfig } from '../../src/config.js';
import { registerAppB } from './world.js';

export interface BothApps extends Pick<AppWorld, 'issuer' | 'idp'> {
  appA: string;
  appB: string;
  appASecret: string;
  /** The clock of both apps' servers and of app B's browser code. */
  appClock: TestClock;
  logA: RecordingLogger;
  logB: RecordingLogger;
  alice: { sub: string };
  stop(): Promise<void>;
}

export interface BothAppsOptions {
  /** Extra issuer environment (TESSERA_STATUS_LIST_TTL, say). */
  issuerEnv?: Record<string, string>;
  /** Extra environment of both apps (APP_A_CLOCK_TOLERANCE_SEC, APP_B_CLOCK_TOLERANCE_SEC…). */
  appEnv?: Record<string, string>;
}

export async function startBothApps(options: BothAppsOptions = {}): Promise<BothApps> {
  const {
    serve,
    fx,
    app: appB,
    ...world
  } = await startAppWorld(options.issuerEnv ? { issuerEnv: options.issuerEnv } : {});
  const serverA = createServer();
  await new Promise<void>((resolve) => serverA.listen(0, '127.0.0.1', resolve));
  const appA = `http://127.0.0.1:${(serverA.address() as AddressInfo).port}`;

  const { store, clock } = world.issuer.issuer.ctx;
  await registerResource({ store, clock }, { id: appA, name: 'App A API' });
  await registerResource({ store, clock }, { id: appB, name: 'App B API' });
  const appASecret = await registerAppA(world.issuer, appA, {
    backchannelLogoutUri: `${appA}/backchannel-logout`,
    // App A may ask for tokens for app B's API too: the API takes any token issued for it.
    resources: [appA, appB],
  });
  await registerAppB(world.issuer, appB, { backchannelLogout: true });

  const appClock = new TestClock();
  const logA = createRecordingLogger();
  const logB = createRecordingLogger();
  const env = { TESSERA_ISSUER: world.idp, ...options.appEnv };
  const configA = loadAppAConfig({ ...env, APP_A_URL: appA, APP_A_CLIENT_SECRET: appASecret, APP_B_URL: appB });
  serverA.on('request', getRequestListener(createAppA(configA, { clock: appClock, log: logA }).fetch));
  serve(createAppB(loadAppBConfig({ ...env, APP_B_URL: appB }), { clock: appClock, log: logB }).fetch);

  return {
    issuer: world.issuer,
    idp: world.idp,
    appA,
    appB,
    appASecret,
    appClock,
    logA,
    logB,
    alice: { sub: fx.alice.sub },
    async stop() {
      serverA.closeAllConnections();
      await new Promise<void>((resolve) => serverA.close(() => resolve()));
      await world.stop();
    },
  };
}
