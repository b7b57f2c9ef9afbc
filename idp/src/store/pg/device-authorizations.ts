/** Device authorizations on PostgreSQL: the contract of ../device-authorizations.ts. */
import { and, eq, gt, sql } from 'drizzle-orm';
import { SLOW_DOWN_STEP, pollTooSoon, type DeviceAuthorizationRepository } from '../device-authorizations.js';
import type { PgDb } from './db.js';
import { deleteExpiredBatch } from './queries.js';
import { deviceAuthorizations } from './schema.js';

export function deviceAuthorizationRepository(db: PgDb): DeviceAuthorizationRepository {
  const removeExpired = deleteExpiredBatch(
    db,
    deviceAuthorizations,
    deviceAuthorizations.digest,
    deviceAuthorizations.expiresAt,
  );
  return {
    async create(d) {
      const r = await db.insert(deviceAuthorizations).values(d).onConflictDoNothing();
      return r.rowCount === 1;
    },
    async findByUserCode(userCode, now) {
      const [row] = await db
        .select()
        .from(deviceAuthorizations)
        .where(and(eq(deviceAuthorizations.userCode, userCode), gt(deviceAuthorizations.expiresAt, now)))
        .limit(1);
      return row;
    },
    async decide(userCode, now, decision) {
      // Under READ COMMITTED a concurrent decision waits for the row, re-reads it, finds it no
      // longer pending and updates nothing: exactly one decision is recorded.
      const r = await db
        .update(deviceAuthorizations)
        .set(decision)
        .where(
          and(
            eq(deviceAuthorizations.userCode, userCode),
            eq(deviceAuthorizations.status, 'pending'),
            gt(deviceAuthorizations.expiresAt, now),
          ),
        );
      return r.rowCount === 1;
    },
    async poll(digest, clientId, now) {
      return db.transaction(async (tx) => {
        // FOR UPDATE: two polls at once, on any nodes, are seen one after the other.
        const [found] = await tx
          .select()
          .from(deviceAuthorizations)
          .where(eq(deviceAuthorizations.digest, digest))
          .for('update');
        if (!found || found.clientId !== clientId) return undefined;
        const tooSoon = pollTooSoon(found, now);
        await tx
          .update(deviceAuthorizations)
          .set({
            lastPolledAt: now,
            interval: tooSoon ? sql`${deviceAuthorizations.interval} + ${SLOW_DOWN_STEP}` : found.interval,
          })
          .where(eq(deviceAuthorizations.digest, digest));
        return {
          authorization: { ...found, interval: found.interval + (tooSoon ? SLOW_DOWN_STEP : 0) },
          tooSoon,
        };
      });
    },
    async deleteExpired(before, limit) {
      return removeExpired(before, limit);
    },
  };
}
