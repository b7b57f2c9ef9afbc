/**
 * The back-channel logout queue on PostgreSQL: the contract of ../backchannel.ts (claims with a
 * lease, the attempt count as the claim's token), for N issuer nodes delivering from one table.
 *
 * SQLite's one UPDATE claims the rows it selects because SQLite holds the write lock for the whole
 * statement. PostgreSQL does not: two nodes' statements run at once, and at READ COMMITTED both
 * could pick the same due rows. So the rows are picked with `FOR UPDATE SKIP LOCKED`: a node
 * takes the due rows no other node is claiming at that instant, locks them, and its UPDATE moves
 * their next attempt past the lease before the locks go at commit; a row another node claimed
 * and committed meanwhile is re-checked on its new version (now leased, so no longer due) and
 * left out. No delivery is claimed twice, and none waits for another node's claim.
 */
import { and, asc, eq, isNull, lt, lte, sql } from 'drizzle-orm';
import type { BackchannelDelivery, BackchannelRepository } from '../backchannel.js';
import type { PgDb } from './db.js';
import { deleteBatchWhere, deleteInTurn } from './queries.js';
import { backchannelDeliveries } from './schema.js';

const pending = and(isNull(backchannelDeliveries.deliveredAt), isNull(backchannelDeliveries.failedAt));

export function backchannelRepository(db: PgDb): BackchannelRepository {
  /** The row while the claim made with `attempts` stands. */
  const claimed = (id: string, attempts: number) =>
    and(eq(backchannelDeliveries.id, id), eq(backchannelDeliveries.attempts, attempts), pending);
  const changed = { id: backchannelDeliveries.id };

  return {
    async enqueue(deliveries) {
      if (deliveries.length > 0) await db.insert(backchannelDeliveries).values(deliveries);
    },
    async claimDue(now, limit, leaseUntil) {
      // The due rows by the partial index backchannel_deliveries_due, oldest first.
      const due = db
        .select({ id: backchannelDeliveries.id })
        .from(backchannelDeliveries)
        .where(and(pending, lte(backchannelDeliveries.nextAttemptAt, now)))
        .orderBy(asc(backchannelDeliveries.nextAttemptAt))
        .limit(limit)
        .for('update', { skipLocked: true });
      const rows: BackchannelDelivery[] = await db
        .update(backchannelDeliveries)
        .set({ attempts: sql`${backchannelDeliveries.attempts} + 1`, nextAttemptAt: leaseUntil })
        // `= any(array(…))`, not `in (…)`: an InitPlan, run once. Under `in`, the planner may make
        // the pick the inner side of a join and run it again per row, locking (and claiming) more.
        .where(sql`${backchannelDeliveries.id} = any(array(${due}))`)
        .returning();
      return rows;
    },
    async nextDue() {
      const [first] = await db
        .select({ at: backchannelDeliveries.nextAttemptAt })
        .from(backchannelDeliveries)
        .where(pending)
        .orderBy(asc(backchannelDeliveries.nextAttemptAt))
        .limit(1);
      return first?.at;
    },
    async countPending() {
      const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(backchannelDeliveries).where(pending);
      return row?.n ?? 0;
    },
    async markDelivered(id, attempts, now) {
      const rows = await db
        .update(backchannelDeliveries)
        .set({ deliveredAt: now })
        .where(claimed(id, attempts))
        .returning(changed);
      return rows.length === 1;
    },
    async markRetry(id, attempts, nextAttemptAt, error) {
      const rows = await db
        .update(backchannelDeliveries)
        .set({ nextAttemptAt, lastError: error.slice(0, 500) })
        .where(claimed(id, attempts))
        .returning(changed);
      return rows.length === 1;
    },
    async markFailed(id, attempts, now, error) {
      const rows = await db
        .update(backchannelDeliveries)
        .set({ failedAt: now, lastError: error.slice(0, 500) })
        .where(claimed(id, attempts))
        .returning(changed);
      return rows.length === 1;
    },
    async get(id) {
      const [row] = await db.select().from(backchannelDeliveries).where(eq(backchannelDeliveries.id, id));
      return row;
    },
    async deleteSettled(before, limit) {
      const { id, deliveredAt, failedAt } = backchannelDeliveries;
      return deleteInTurn(limit, [
        (n) => deleteBatchWhere(db, backchannelDeliveries, id, lt(deliveredAt, before), n),
        (n) => deleteBatchWhere(db, backchannelDeliveries, id, lt(failedAt, before), n),
      ]);
    },
  };
}
