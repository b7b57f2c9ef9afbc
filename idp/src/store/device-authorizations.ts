/**
 * Device authorizations (RFC 8628): created by a device's request, decided once by a person at the
 * device page, polled by the device until it is redeemed (grants.ts) or expires. Every change is
 * a conditional update, so of two decisions, or two polls, each sees the other's effect.
 */
import { and, eq, gt, sql } from 'drizzle-orm';
import { deleteExpiredBatch, transaction, type Db } from './database.js';
import { deviceAuthorizations } from './schema.js';

export type DeviceAuthorization = typeof deviceAuthorizations.$inferSelect;
export type DeviceAuthorizationStatus = 'pending' | 'approved' | 'denied' | 'redeemed';

/** A person's answer to a pending device authorization. */
export interface DeviceDecision {
  status: 'approved' | 'denied';
  userId: string;
  sessionId: string;
  authTime: number;
  amr: string[];
}

/** RFC 8628 §3.5: each slow_down adds 5 seconds to the interval, for this and every later poll. */
export const SLOW_DOWN_STEP = 5;

export interface DeviceAuthorizationRepository {
  /** Stores a new one; false when its user code is taken by another (the caller draws again). */
  create(d: DeviceAuthorization): Promise<boolean>;
  /** The unexpired one with this (normalized) user code. */
  findByUserCode(userCode: string, now: number): Promise<DeviceAuthorization | undefined>;
  /** Records a decision on a pending, unexpired one; true for exactly one caller. */
  decide(userCode: string, now: number, decision: DeviceDecision): Promise<boolean>;
  /**
   * Records a poll by `clientId`: the row as the poll finds it, and whether it came sooner than the
   * interval after the last one, in which case the interval grows by SLOW_DOWN_STEP. Undefined,
   * with nothing written, if unknown or another client's.
   */
  poll(
    digest: string,
    clientId: string,
    now: number,
  ): Promise<{ authorization: DeviceAuthorization; tooSoon: boolean } | undefined>;
  /** Deletes up to `limit` that expired before `before`; returns how many. */
  deleteExpired(before: number, limit: number): Promise<number>;
}

/** Whether a poll at `now` comes sooner than the interval after the last one. */
export const pollTooSoon = (d: Pick<DeviceAuthorization, 'lastPolledAt' | 'interval'>, now: number): boolean =>
  d.lastPolledAt !== null && now - d.lastPolledAt < d.interval * 1000;

export function deviceAuthorizationRepository(db: Db): DeviceAuthorizationRepository {
  const removeExpired = deleteExpiredBatch(
    db,
    deviceAuthorizations,
    deviceAuthorizations.digest,
    deviceAuthorizations.expiresAt,
  );
  return {
    async create(d) {
      const r = db.insert(deviceAuthorizations).values(d).onConflictDoNothing().run();
      return r.changes === 1;
    },
    async findByUserCode(userCode, now) {
      return db
        .select()
        .from(deviceAuthorizations)
        .where(and(eq(deviceAuthorizations.userCode, userCode), gt(deviceAuthorizations.expiresAt, now)))
        .get();
    },
    async decide(userCode, now, decision) {
      const r = db
        .update(deviceAuthorizations)
        .set(decision)
        .where(
          and(
            eq(deviceAuthorizations.userCode, userCode),
            eq(deviceAuthorizations.status, 'pending'),
            gt(deviceAuthorizations.expiresAt, now),
          ),
        )
        .run();
      return r.changes === 1;
    },
    async poll(digest, clientId, now) {
      // SQLite's write lock holds from the read to the update: no other poll comes between.
      return transaction(db, (tx) => {
        const found = tx.select().from(deviceAuthorizations).where(eq(deviceAuthorizations.digest, digest)).get();
        if (!found || found.clientId !== clientId) return undefined;
        const tooSoon = pollTooSoon(found, now);
        tx.update(deviceAuthorizations)
          .set({
            lastPolledAt: now,
            interval: tooSoon ? sql`${deviceAuthorizations.interval} + ${SLOW_DOWN_STEP}` : found.interval,
          })
          .where(eq(deviceAuthorizations.digest, digest))
          .run();
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
