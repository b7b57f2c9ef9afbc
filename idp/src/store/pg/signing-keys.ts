/**
 * Signing keys on PostgreSQL: the contract of ../signing-keys.ts, for N issuer nodes (and the CLI)
 * writing the same rows.
 *
 * SQLite serialises the ring's writers with BEGIN IMMEDIATE. PostgreSQL runs transactions side by
 * side at READ COMMITTED, where "no current key yet, so insert one" read by two nodes at once
 * would store two current keys. So a transaction that reads the ring before it changes it first
 * takes `LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`: that mode conflicts with itself and
 * with every insert, update and delete, but not with reads, so ring changes run one at a time
 * cluster-wide while JWKS and discovery keep reading. Its later statements see every change
 * committed before the lock was granted. Within it, a promotion is still decided by its
 * conditional updates (`WHERE state = 'current'`), so of two nodes promoting at once exactly one
 * rotates and the other finds the ring moved.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { SigningKeyRepository, StoredSigningKey } from '../signing-keys.js';
import type { PgDb } from './db.js';
import type { PgTx } from './queries.js';
import { signingKeys } from './schema.js';

/**
 * How stale `fingerprint()` may be after another node (or the CLI) changed the ring: not at all,
 * as on SQLite. JWKS and discovery ask for it on every request (keys/key-ring.ts, upToDate), and
 * what one node publishes every other node publishes from then on, or a cache revalidating at one
 * node and then at another goes back to the older document. SQLite learns of another
 * connection's commit from `PRAGMA data_version` without reading the table; PostgreSQL has no such
 * signal, so the ring's kids and states (a handful of rows) are read on every call: one small query
 * per JWKS or discovery request. Concurrent calls share one reading in flight.
 */
export const FINGERPRINT_MAX_AGE_MS = 0;

export interface PgSigningKeyOptions {
  /** Milliseconds, for the fingerprint's age only (tests move it). */
  now?: () => number;
  fingerprintMaxAge?: number;
}

class RingMoved extends Error {}

export function signingKeyRepository(db: PgDb, options: PgSigningKeyOptions = {}): SigningKeyRepository {
  const now = options.now ?? Date.now;
  const maxAge = options.fingerprintMaxAge ?? FINGERPRINT_MAX_AGE_MS;

  const lockRing = (tx: PgTx) => tx.execute(sql`lock table ${signingKeys} in share row exclusive mode`);
  // One current key and one next key at most: false when a key holds `state` already.
  const insertAsOnly = async (tx: PgTx, key: StoredSigningKey, state: 'current' | 'next') => {
    const [taken] = await tx
      .select({ kid: signingKeys.kid })
      .from(signingKeys)
      .where(eq(signingKeys.state, state))
      .limit(1);
    if (taken) return false;
    await tx.insert(signingKeys).values({ ...key, state });
    return true;
  };

  // The last reading, and a generation counter: this repository's own writes move the generation
  // when they end, so a reading begun before (which may predate the write) is not kept, and the
  // next call reads again at once. Concurrent callers share one reading in flight.
  let lastReading: { at: number; fingerprint: string } | undefined;
  let generation = 0;
  let inFlight: { generation: number; reading: Promise<string> } | undefined;
  const forget = () => {
    generation++;
    lastReading = undefined;
    inFlight = undefined;
  };
  /** Runs a write, forgetting the last reading once it has ended (committed or not). */
  const writing = async <T>(write: () => Promise<T>): Promise<T> => {
    try {
      return await write();
    } finally {
      forget();
    }
  };
  const readFingerprint = async (): Promise<string> => {
    const startedIn = generation;
    const at = now();
    const rows = await db
      .select({ kid: signingKeys.kid, state: signingKeys.state })
      .from(signingKeys)
      // Byte order, as SQLite sorts text, whatever the database's collation.
      .orderBy(sql`${signingKeys.kid} collate "C"`);
    const fingerprint = rows.map((r) => `${r.kid}:${r.state}`).join(',');
    if (generation === startedIn) lastReading = { at, fingerprint };
    return fingerprint;
  };

  return {
    async list() {
      return db.select().from(signingKeys);
    },
    async fingerprint() {
      const t = now();
      // A clock that went back counts as stale too.
      if (lastReading !== undefined && t >= lastReading.at && t - lastReading.at < maxAge) {
        return lastReading.fingerprint;
      }
      if (inFlight?.generation !== generation) {
        const reading = readFingerprint().finally(() => {
          if (inFlight?.reading === reading) inFlight = undefined;
        });
        inFlight = { generation, reading };
      }
      return inFlight.reading;
    },
    async createFirstCurrent(key) {
      return writing(() =>
        db.transaction(async (tx) => {
          await lockRing(tx);
          return insertAsOnly(tx, key, 'current');
        }),
      );
    },
    async createNext(key, replacing) {
      return writing(() =>
        db.transaction(async (tx) => {
          await lockRing(tx);
          if (replacing !== undefined) {
            const gone = await tx
              .delete(signingKeys)
              .where(and(eq(signingKeys.kid, replacing), eq(signingKeys.state, 'next')))
              .returning({ kid: signingKeys.kid });
            if (gone.length !== 1) return false;
          }
          return insertAsOnly(tx, key, 'next');
        }),
      );
    },
    async promote({ currentKid, nextKid, at }) {
      return writing(async () => {
        try {
          return await db.transaction(async (tx) => {
            await lockRing(tx);
            const retired = await tx
              .update(signingKeys)
              .set({ state: 'retired', retiredAt: at })
              .where(and(eq(signingKeys.kid, currentKid), eq(signingKeys.state, 'current')))
              .returning({ kid: signingKeys.kid });
            const promoted = await tx
              .update(signingKeys)
              .set({ state: 'current', activatedAt: at })
              .where(and(eq(signingKeys.kid, nextKid), eq(signingKeys.state, 'next')))
              .returning({ kid: signingKeys.kid });
            // Throwing rolls the transaction back: half a promotion would leave no current key.
            if (retired.length !== 1 || promoted.length !== 1) throw new RingMoved();
            return true;
          });
        } catch (e) {
          if (e instanceof RingMoved) return false;
          throw e;
        }
      });
    },
    async removeRetired(kid) {
      // One conditional statement: it reads nothing before it writes, so it needs no ring lock.
      return writing(
        async () =>
          (
            await db
              .delete(signingKeys)
              .where(and(eq(signingKeys.kid, kid), eq(signingKeys.state, 'retired')))
              .returning({ kid: signingKeys.kid })
          ).length === 1,
      );
    },
  };
}
