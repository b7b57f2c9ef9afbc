/** Assembles an issuer from its configuration: store, key ring, password hasher, HTTP app. */
import type { RequestListener } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { systemClock, type Clock } from '@tessera/shared';
import type { Config } from './config/config.js';
import type { IssuerContext } from './context.js';
import { createPasswordHasher, type PasswordParams } from './crypto/passwords.js';
import type { FetchLike } from '@tessera/shared';
import { createLogger, createLoopbackFetch } from '@tessera/shared/node';
import { KeyRing } from './keys/key-ring.js';
import { startKeyScheduler, tickKeyRing } from './keys/key-rotation-schedule.js';
import { BackchannelNotifier, type BackchannelOptions } from './workers/backchannel-delivery.js';
import { startExpirySweep } from './workers/expiry-sweep.js';
import type { Logger } from '@tessera/shared';
import { createApp } from './app.js';
import { ClientKeySets } from './protocol/client-keys.js';
import { openStore, type Store } from './store/index.js';
import { StatusLists } from './status-list/status-lists.js';
import type { Env } from './http/env.js';
import { servePublishedDocuments } from './http/published-documents.js';
import { withRequestIds } from './http/request-id.js';
import { IssuerMetrics } from './metrics/metrics.js';
import { Mailer } from './mail/mailer.js';

export interface Issuer {
  ctx: IssuerContext;
  app: Hono<Env>;
  /**
   * The node:http listener that serves the issuer: the published documents answered directly
   * (http/published-documents.ts), everything else by `app` through @hono/node-server.
   */
  listener: RequestListener;
  /** Stops the issuer's timers and closes its store (ended once the promise settles). */
  close(): Promise<void>;
}

export interface IssuerOptions {
  clock?: Clock;
  log?: Logger;
  passwordParams?: PasswordParams;
  /**
   * How the issuer reaches apps' back-channel logout URIs and clients' jwks_uri (default: fetch
   * that resolves *.localhost).
   */
  fetch?: FetchLike;
  backchannel?: BackchannelOptions;
  /**
   * How often expired rows are swept (default: every minute, workers/expiry-sweep.ts). A test that
   * compares the database before and after each request sets it past its run: a sweep between the
   * two would be a change the request did not make.
   */
  expirySweepMs?: number;
}

/** The signing keys in `store`, as the configuration says to read and use them. */
function openKeyRing(store: Store, config: Config, clock: Clock, onReload?: (ring: KeyRing) => void): Promise<KeyRing> {
  return KeyRing.open({
    repo: store.signingKeys,
    kek: config.keyEncryptionKey,
    clock,
    algorithm: config.signingAlgorithm,
    ...(onReload && { onReload }),
  });
}

/**
 * What must be done once on a database before several processes serve it (cluster.ts): the
 * migrations, which two processes must not apply at once (drizzle reads which are applied outside
 * the transaction that applies the rest; on PostgreSQL the store holds a lock for them anyway),
 * the first signing key, and the next key beside it, so that the workers' own first ticks find
 * nothing to create. createIssuer does the same steps and, after this, finds them done.
 */
export async function prepareDatabase(config: Config, options: Pick<IssuerOptions, 'clock' | 'log'> = {}) {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger('idp');
  const store = await openStore(config.database, { poolSize: config.databasePool, log });
  try {
    const keys = await openKeyRing(store, config, clock);
    await tickKeyRing({ store, keys, config, clock, log });
  } finally {
    await store.close();
  }
}

export async function createIssuer(config: Config, options: IssuerOptions = {}): Promise<Issuer> {
  const clock = options.clock ?? systemClock;
  // Lines the routes' protocol code writes for a request carry its id (http/request-context.ts).
  const log = options.log ?? createLogger('idp');
  const metrics = new IssuerMetrics({ processMetrics: config.metrics !== undefined });
  const store = await openStore(config.database, { poolSize: config.databasePool, log });
  try {
    const keys = await openKeyRing(store, config, clock, (ring) => log.info('keys.ring_loaded', { signing: ring.kid }));
    const passwords = await createPasswordHasher(options.passwordParams);
    // One HTTP client that resolves *.localhost itself (Node's resolver does not: RFC 6761 §6.3).
    const fetch = options.fetch ?? createLoopbackFetch();
    const backchannel = new BackchannelNotifier(
      { store, keys, config, clock, log, fetch, metrics },
      options.backchannel,
    );
    // Publishes a next key before the first request, then rotates and follows CLI changes.
    const keyScheduler = await startKeyScheduler({ store, keys, config, clock, log });
    const statusLists = new StatusLists({ store, keys, config, clock });
    const clientKeys = new ClientKeySets({ fetch, clock });
    const mailer = new Mailer(config.mail, { log, metrics });
    const ctx = { config, store, keys, clock, passwords, log, backchannel, statusLists, clientKeys, metrics, mailer };
    metrics.observeStore(ctx);
    // Deliveries left pending by a previous run (a crash, a restart) go out now.
    backchannel.kick();
    const expirySweep = startExpirySweep({ store, clock, log, config }, options.expirySweepMs);
    const app = createApp(ctx);
    return {
      ctx,
      app,
      // The adapter falls back to the configured host for a request without a Host header.
      listener: withRequestIds(
        config.trustProxy,
        servePublishedDocuments(ctx, getRequestListener(app.fetch, { hostname: config.host })),
      ),
      close: async () => {
        keyScheduler.stop();
        expirySweep.stop();
        backchannel.close();
        // Messages in flight may still need the store no more, but they must not be cut off.
        await mailer.close();
        return store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/**
 * The context a command-line operation on people acts in (disabling an account ends its
 * sessions): the issuer's, without its timers or listener. Back-channel logout tokens are signed
 * and queued in the store, not sent from here: the running issuer's worker polls the queue
 * (workers/backchannel-delivery.ts) and delivers them, with its retries.
 */
export async function openOperatorContext(store: Store, config: Config): Promise<IssuerContext> {
  const clock = systemClock;
  const log = createLogger('idp-cli');
  const keys = await openKeyRing(store, config, clock);
  const fetch = createLoopbackFetch();
  const metrics = new IssuerMetrics({ processMetrics: false });
  const backchannel = new BackchannelNotifier({ store, keys, config, clock, log, fetch, metrics });
  backchannel.close();
  return {
    config,
    store,
    keys,
    clock,
    passwords: await createPasswordHasher(),
    log,
    backchannel,
    statusLists: new StatusLists({ store, keys, config, clock }),
    clientKeys: new ClientKeySets({ fetch, clock }),
    metrics,
    // Mail it sends leaves before the process exits: a message in flight keeps the event loop busy.
    mailer: new Mailer(config.mail, { log, metrics }),
  };
}
