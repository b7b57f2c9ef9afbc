/**
 * The queue of back-channel logout deliveries. Every issuer process on the database delivers from
 * it, so a delivery is claimed before it is sent: one statement takes the due rows and pushes
 * their next attempt past a lease, and counts the attempt. The attempt count is the claim's
 * token: only the process whose claim still stands records the outcome. A process that dies
 * mid-attempt leaves the row to be claimed again when its lease ends (at least once, never lost).
 */
import { and, asc, eq, inArray, isNull, lt, lte, sql } from 'drizzle-orm';
import { deleteBatchWhere, deleteInTurn, type Db } from './database.js';
import { backchannelDeliveries } from './schema.js';

export type BackchannelDelivery = typeof backchannelDeliveries.$inferSelect;

export interface BackchannelRepository {
  enqueue(deliveries: BackchannelDelivery[]): Promise<void>;
  /**
   * Claims up to `limit` pending deliveries due at `now`, oldest first: each one's `attempts` is
   * counted up and its next attempt moved to `leaseUntil`, in one statement, so no other process
   * claims it meanwhile. Returns the claimed rows as they now are.
   */
  claimDue(now: number, limit: number, leaseUntil: number): Promise<BackchannelDelivery[]>;
  /** The earliest time a pending delivery is due (or its lease ends), if any. */
  nextDue(): Promise<number | undefined>;
  /** How many deliveries are neither delivered nor given up (the operators' metrics). */
  countPending(): Promise<number>;
  /**
   * The outcome of the attempt claimed with this `attempts` count; false, and nothing written,
   * when the claim no longer stands (its lease ended and another process claimed the row again).
   */
  markDelivered(id: string, attempts: number, now: number): Promise<boolean>;
  markRetry(id: string, attempts: number, nextAttemptAt: number, error: string): Promise<boolean>;
  markFailed(id: string, attempts: number, now: number, error: string): Promise<boolean>;
  get(id: string): Promise<BackchannelDelivery | undefined>;
  /** Deletes up to `limit` deliveries delivered, or given up, before `before`; returns how many. */
  deleteSettled(before: number, limit: number): Promise<number>;
}

const pending = and(isNull(backchannelDeliveries.deliveredAt), isNull(backchannelDeliveries.failedAt));

export function backchannelRepository(db: Db): BackchannelRepository {
  const p = sql.placeholder;
  const due = db
    .select({ id: backchannelDeliveries.id })
    .from(backchannelDeliveries)
    .where(and(pending, lte(backchannelDeliveries.nextAttemptAt, p('now'))))
    .orderBy(asc(backchannelDeliveries.nextAttemptAt))
    .limit(p('limit'));
  // One UPDATE: SQLite holds the write lock for the whole statement, so the rows it selects are
  // the rows it claims, whatever another process does at the same time.
  const claim = db
    .update(backchannelDeliveries)
    .set({ attempts: sql`${backchannelDeliveries.attempts} + 1`, nextAttemptAt: sql`${p('leaseUntil')}` })
    .where(inArray(backchannelDeliveries.id, due))
    .returning()
    .prepare();
  /** The row while the claim made with `attempts` stands. */
  const claimed = (id: string, attempts: number) =>
    and(eq(backchannelDeliveries.id, id), eq(backchannelDeliveries.attempts, attempts), pending);
  const { id, deliveredAt, failedAt } = backchannelDeliveries;
  const removeDelivered = deleteBatchWhere(db, backchannelDeliveries, id, lt(deliveredAt, p('before')));
  const removeFailed = deleteBatchWhere(db, backchannelDeliveries, id, lt(failedAt, p('before')));

  return {
    async enqueue(deliveries) {
      if (deliveries.length > 0) db.insert(backchannelDeliveries).values(deliveries).run();
    },
    async claimDue(now, limit, leaseUntil) {
      return claim.all({ now, limit, leaseUntil });
    },
    async nextDue() {
      return db
        .select({ at: backchannelDeliveries.nextAttemptAt })
        .from(backchannelDeliveries)
        .where(pending)
        .orderBy(asc(backchannelDeliveries.nextAttemptAt))
        .limit(1)
        .get()?.at;
    },
    async countPending() {
      return db.select({ n: sql<number>`count(*)` }).from(backchannelDeliveries).where(pending).get()!.n;
    },
    async markDelivered(id, attempts, now) {
      return (
        db.update(backchannelDeliveries).set({ deliveredAt: now }).where(claimed(id, attempts)).run().changes === 1
      );
    },
    async markRetry(id, attempts, nextAttemptAt, error) {
      return (
        db
          .update(backchannelDeliveries)
          .set({ nextAttemptAt, lastError: error.slice(0, 500) })
          .where(claimed(id, attempts))
          .run().changes === 1
      );
    },
    async markFailed(id, attempts, now, error) {
      return (
        db
          .update(backchannelDeliveries)
          .set({ failedAt: now, lastError: error.slice(0, 500) })
          .where(claimed(id, attempts))
          .run().changes === 1
      );
    },
    async get(id) {
      return db.select().from(backchannelDeliveries).where(eq(backchannelDeliveries.id, id)).get();
    },
    async deleteSettled(before, limit) {
      return deleteInTurn(limit, [
        (n) => removeDelivered({ before, limit: n }),
        (n) => removeFailed({ before, limit: n }),
      ]);
    },
  };
}
