/**
 * Passkeys: a person's WebAuthn credentials, found by credential id. A use moves the signature
 * counter by compare-and-set (`UPDATE … WHERE counter < new`), so of two assertions that carry the
 * same counter, or a counter that went back, at most one is recorded.
 */
import { and, asc, eq, lt, type Column } from 'drizzle-orm';
import { lookupBy, type Db } from './database.js';
import { passkeys } from './schema.js';

export type PasskeyDeviceType = 'singleDevice' | 'multiDevice';

export interface Passkey {
  /** The credential id, base64url. */
  id: string;
  userId: string;
  /** The credential's COSE_Key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: PasskeyDeviceType;
  backedUp: boolean;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface PasskeyRepository {
  /** Stores a new passkey; false when its credential id is registered already, to anyone. */
  create(passkey: Passkey): Promise<boolean>;
  find(id: string): Promise<Passkey | undefined>;
  /** The person's passkeys, oldest first. */
  listForUser(userId: string): Promise<Passkey[]>;
  /**
   * Records a use at `now` with the authenticator's new signature `counter`: true if recorded. The
   * stored counter must be below it, or both be 0 (an authenticator that keeps no counter).
   */
  recordUse(id: string, use: { counter: number; backedUp: boolean; now: number }): Promise<boolean>;
  /** Renames `userId`'s passkey; false if they have none by that id. */
  rename(id: string, userId: string, name: string): Promise<boolean>;
  /** Removes `userId`'s passkey; false if they have none by that id. */
  remove(id: string, userId: string): Promise<boolean>;
}

type Row = typeof passkeys.$inferSelect;
const toPasskey = (row: Row): Passkey => ({ ...row, deviceType: row.deviceType as PasskeyDeviceType });

/**
 * The condition for recording a use with signature counter `counter` (either engine's column):
 * WebAuthn §6.1.1 — a counter not above the stored one is a possible clone, unless both are 0 (an
 * authenticator that keeps no counter).
 */
export const counterMoves = (stored: Column, counter: number) => (counter === 0 ? eq(stored, 0) : lt(stored, counter));

export function passkeyRepository(db: Db): PasskeyRepository {
  const byId = lookupBy(db, passkeys, passkeys.id);
  return {
    async create(passkey) {
      const r = db.insert(passkeys).values(passkey).onConflictDoNothing().run();
      return r.changes === 1;
    },
    async find(id) {
      const row = byId(id);
      return row && toPasskey(row);
    },
    async listForUser(userId) {
      return db
        .select()
        .from(passkeys)
        .where(eq(passkeys.userId, userId))
        .orderBy(asc(passkeys.createdAt), asc(passkeys.id))
        .all()
        .map(toPasskey);
    },
    async recordUse(id, { counter, backedUp, now }) {
      const r = db
        .update(passkeys)
        .set({ counter, backedUp, lastUsedAt: now })
        .where(and(eq(passkeys.id, id), counterMoves(passkeys.counter, counter)))
        .run();
      return r.changes === 1;
    },
    async rename(id, userId, name) {
      const r = db
        .update(passkeys)
        .set({ name })
        .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)))
        .run();
      return r.changes === 1;
    },
    async remove(id, userId) {
      const r = db
        .delete(passkeys)
        .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)))
        .run();
      return r.changes === 1;
    },
  };
}
