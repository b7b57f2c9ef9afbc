/** Passkeys on PostgreSQL: the contract of ../passkeys.ts (a use is a compare-and-set on the counter). */
import { and, asc, eq } from 'drizzle-orm';
import { counterMoves, type Passkey, type PasskeyDeviceType, type PasskeyRepository } from '../passkeys.js';
import type { PgDb } from './db.js';
import { lookupBy } from './queries.js';
import { passkeys } from './schema.js';

type Row = typeof passkeys.$inferSelect;
const toPasskey = (row: Row): Passkey => ({ ...row, deviceType: row.deviceType as PasskeyDeviceType });

export function passkeyRepository(db: PgDb): PasskeyRepository {
  const byId = lookupBy(db, 'tessera_passkeys_by_id', passkeys, passkeys.id);
  return {
    async create(passkey) {
      const r = await db.insert(passkeys).values(passkey).onConflictDoNothing();
      return r.rowCount === 1;
    },
    async find(id) {
      const row = await byId(id);
      return row && toPasskey(row);
    },
    async listForUser(userId) {
      const rows = await db
        .select()
        .from(passkeys)
        .where(eq(passkeys.userId, userId))
        .orderBy(asc(passkeys.createdAt), asc(passkeys.id));
      return rows.map(toPasskey);
    },
    async recordUse(id, { counter, backedUp, now }) {
      // Under READ COMMITTED a concurrent use waits for the row lock, then re-checks the condition
      // against the counter the first one wrote: a second assertion with the same counter fails it.
      const r = await db
        .update(passkeys)
        .set({ counter, backedUp, lastUsedAt: now })
        .where(and(eq(passkeys.id, id), counterMoves(passkeys.counter, counter)));
      return r.rowCount === 1;
    },
    async rename(id, userId, name) {
      const r = await db
        .update(passkeys)
        .set({ name })
        .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)));
      return r.rowCount === 1;
    },
    async remove(id, userId) {
      const r = await db.delete(passkeys).where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)));
      return r.rowCount === 1;
    },
  };
}
