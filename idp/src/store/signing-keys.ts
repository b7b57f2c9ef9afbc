/**
 * Signing keys as stored: public JWK in clear, private JWK encrypted with the KEK.
 *
 * The issuer and the CLI are separate processes writing the same rows, so every state change is
 * a conditional update inside an IMMEDIATE transaction (the write lock is taken before the read):
 * of two processes racing to promote or to create the next key, exactly one wins.
 */
import { and, eq, sql } from 'drizzle-orm';
import type Database from 'better-sqlite3';
import { transaction, type Db } from './database.js';
import { signingKeys } from './schema.js';

export type StoredSigningKey = typeof signingKeys.$inferSelect;

/** The lifecycle of a key (OIDC Core §10.1.1). A removed key's row is deleted. */
export type SigningKeyState = 'next' | 'current' | 'retired';

export interface SigningKeyRepository {
  /** Every stored key; all of them are published. */
  list(): Promise<StoredSigningKey[]>;
  /**
   * A short string that changes whenever a key is added, removed or changes state: cheap to
   * read (no JSON columns), so a process can poll it to notice another process's changes.
   */
  fingerprint(): Promise<string>;
  /** Stores the first current key; false when one exists already. */
  createFirstCurrent(key: StoredSigningKey): Promise<boolean>;
  /** Stores `key` as the next key, replacing `replacing` (a next key); false when the ring moved meanwhile. */
  createNext(key: StoredSigningKey, replacing?: string): Promise<boolean>;
  /** current → retired and next → current, at once; false when either is no longer in that state. */
  promote(p: { currentKid: string; nextKid: string; at: number }): Promise<boolean>;
  /** Deletes a retired key, private part included; false when it is not (or no longer) retired. */
  removeRetired(kid: string): Promise<boolean>;
}

export function signingKeyRepository(db: Db, sqlite: Database.Database): SigningKeyRepository {
  const immediate = { behavior: 'immediate' } as const;
  // One current key and one next key at most: false when a key holds `state` already.
  const insertAsOnly = (tx: Pick<Db, 'select' | 'insert'>, key: StoredSigningKey, state: 'current' | 'next') => {
    const taken = tx
      .select({ n: sql<number>`count(*)` })
      .from(signingKeys)
      .where(eq(signingKeys.state, state))
      .get()!.n;
    if (taken > 0) return false;
    tx.insert(signingKeys)
      .values({ ...key, state })
      .run();
    return true;
  };

  // The published documents ask for the fingerprint on every request (keys/key-ring.ts,
  // upToDate), so it is read again only when the ring may have changed: `PRAGMA data_version`
  // moves when another connection (another issuer process, the CLI) commits, and this
  // connection's changes to the ring are this repository's writes, which forget the last reading.
  const states = db
    .select({ kid: signingKeys.kid, state: signingKeys.state })
    .from(signingKeys)
    .orderBy(signingKeys.kid)
    .prepare();
  const dataVersion = sqlite.prepare<[], number>('PRAGMA data_version').pluck();
  let lastReading: { dataVersion: number; fingerprint: string } | undefined;

  return {
    async list() {
      return db.select().from(signingKeys).all();
    },
    async fingerprint() {
      // Read before the rows: a commit in between only makes the next call read them again.
      const version = dataVersion.get()!;
      if (lastReading !== undefined && lastReading.dataVersion === version) return lastReading.fingerprint;
      const fingerprint = states
        .all()
        .map((r) => `${r.kid}:${r.state}`)
        .join(',');
      lastReading = { dataVersion: version, fingerprint };
      return fingerprint;
    },
    async createFirstCurrent(key) {
      lastReading = undefined;
      return transaction(db, (tx) => insertAsOnly(tx, key, 'current'), immediate);
    },
    async createNext(key, replacing) {
      lastReading = undefined;
      return transaction(
        db,
        (tx) => {
          if (replacing !== undefined) {
            const gone = tx
              .delete(signingKeys)
              .where(and(eq(signingKeys.kid, replacing), eq(signingKeys.state, 'next')))
              .run();
            if (gone.changes !== 1) return false;
          }
          return insertAsOnly(tx, key, 'next');
        },
        immediate,
      );
    },
    async promote({ currentKid, nextKid, at }) {
      lastReading = undefined;
      try {
        return transaction(
          db,
          (tx) => {
            const retired = tx
              .update(signingKeys)
              .set({ state: 'retired', retiredAt: at })
              .where(and(eq(signingKeys.kid, currentKid), eq(signingKeys.state, 'current')))
              .run();
            const promoted = tx
              .update(signingKeys)
              .set({ state: 'current', activatedAt: at })
              .where(and(eq(signingKeys.kid, nextKid), eq(signingKeys.state, 'next')))
              .run();
            // Throwing rolls the transaction back: half a promotion would leave no current key.
            if (retired.changes !== 1 || promoted.changes !== 1) throw new RingMoved();
            return true;
          },
          immediate,
        );
      } catch (e) {
        if (e instanceof RingMoved) return false;
        throw e;
      }
    },
    async removeRetired(kid) {
      lastReading = undefined;
      return (
        db
          .delete(signingKeys)
          .where(and(eq(signingKeys.kid, kid), eq(signingKeys.state, 'retired')))
          .run().changes === 1
      );
    },
  };
}

class RingMoved extends Error {}
