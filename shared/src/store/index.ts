/**
 * `@tessera/shared/store` (Node only): a relying party's server-side state in a database, so a
 * restart keeps people signed in and keeps ended sessions ended, and several processes of one app
 * agree. A `postgres://` (or `postgresql://`) URL selects PostgreSQL, anything else is a SQLite
 * file, the issuer's `TESSERA_DATABASE` convention. The choice is made here, once: the app sees
 * the interfaces of ../rp/server-state.ts and the kit's JtiStore, whichever engine runs.
 */
import { runPeriodically } from '../time/periodic.js';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import { type EngineStore, type RelyingPartyStoreOptions, settings } from './store.js';

export type { RelyingPartyStoreOptions } from './store.js';

export interface RelyingPartyStore extends Omit<EngineStore, 'sweepBatch'> {
  /** Deletes every row whose time has passed, a batch at a time; returns how many went. */
  sweepExpired(): Promise<number>;
}

export interface OpenRelyingPartyStoreOptions extends RelyingPartyStoreOptions {
  /**
   * How often expired rows are deleted, in milliseconds (default one minute; 0: only when
   * sweepExpired is called). Rows are never read past their time, so the sweep only bounds growth.
   */
  sweepIntervalMs?: number;
  /** A sweep that failed (the database unreachable, say): for the log; the next one tries again. */
  onSweepFailure?: (error: unknown) => void;
}

/** Rows deleted per statement: short transactions, so a sweep never stalls the requests beside it. */
const SWEEP_BATCH = 1000;

export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location);

/**
 * Opens (creating and migrating when needed) the store at `location`.
 *
 * @example
 * ```ts
 * const store = await openRelyingPartyStore(process.env.APP_DATABASE ?? './data/app.db');
 * const sessionId = await store.sessions.create({ sub, sid, email, name, idToken, accessToken, accessTokenExpiresAt });
 * await store.close();
 * ```
 */
export async function openRelyingPartyStore(
  location: string,
  options: OpenRelyingPartyStoreOptions = {},
): Promise<RelyingPartyStore> {
  const resolved = settings(options);
  const engine = isPostgresUrl(location)
    ? await openPostgresStore(location, resolved)
    : openSqliteStore(location, resolved);
  const { sweepBatch, close, ...stores } = engine;

  const sweepExpired = async () => {
    let deleted = 0;
    for (;;) {
      const batch = await sweepBatch(SWEEP_BATCH);
      deleted += batch.reduce((sum, n) => sum + n, 0);
      if (batch.every((n) => n < SWEEP_BATCH)) return deleted;
    }
  };
  const interval = options.sweepIntervalMs ?? 60_000;
  const sweeper =
    interval > 0
      ? runPeriodically(interval, async () => void (await sweepExpired()), options.onSweepFailure ?? (() => {}))
      : undefined;

  let closed: Promise<void> | undefined;
  return {
    ...stores,
    sweepExpired,
    // Once: a second call (a shutdown hook and a test's clean-up) waits for the first.
    close() {
      sweeper?.stop();
      closed ??= close();
      return closed;
    },
  };
}
