/** Assembles an issuer from its configuration: store, key ring, password hasher, HTTP app. */
import type { Hono } from 'hono';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { IssuerContext } from './context.js';
import { createPasswordHasher, type PasswordParams } from './crypto/passwords.js';
import { KeyRing } from './keys/key-ring.js';
import { consoleLogger, type Logger } from './log.js';
import { createApp } from './app.js';
import { openStore, type SqliteStore } from './store/index.js';
import type { Env } from './routes/web.js';

export interface Issuer {
  /** The context, with the SQLite handle visible (tests and tools read the database directly). */
  ctx: IssuerContext & { store: SqliteStore };
  app: Hono<Env>;
  close(): void;
}

export async function createIssuer(
  config: Config,
  options: { clock?: Clock; log?: Logger; passwordParams?: PasswordParams } = {},
): Promise<Issuer> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? consoleLogger;
  const store = openStore(config.databaseFile);
  try {
    const keys = await KeyRing.open({ repo: store.signingKeys, kek: config.keyEncryptionKey, clock, algorithm: config.signingAlgorithm });
    const passwords = await createPasswordHasher(options.passwordParams);
    const ctx = { config, store, keys, clock, passwords, log };
    return { ctx, app: createApp(ctx), close: () => store.close() };
  } catch (e) {
    store.close();
    throw e;
  }
}
