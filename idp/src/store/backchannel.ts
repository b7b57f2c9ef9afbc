/** The queue of back-channel logout deliveries. */
import { and, asc, eq, isNull, lte } from 'drizzle-orm';
import type { Db } from './database.js';
import { backchannelDeliveries } from './schema.js';

export type BackchannelDelivery = typeof backchannelDeliveries.$inferSelect;

export interface BackchannelRepository {
  enqueue(deliveries: BackchannelDelivery[]): Promise<void>;
  /** Pending deliveries due at `now`, oldest first. */
  due(now: number, limit: number): Promise<BackchannelDelivery[]>;
  /** The earliest time a pending delivery is due, if any. */
  nextDue(): Promise<number | undefined>;
  markDelivered(id: string, attempts: number, now: number): Promise<void>;
  markRetry(id: string, attempts: number, nextAttemptAt: number, error: string): Promise<void>;
  markFailed(id: string, attempts: number, now: number, error: string): Promise<void>;
  get(id: string): Promise<BackchannelDelivery | undefined>;
}

const pending = and(isNull(backchannelDeliveries.deliveredAt), isNull(backchannelDeliveries.failedAt));

export function backchannelRepository(db: Db): BackchannelRepository {
  return {
    async enqueue(deliveries) {
      if (deliveries.length > 0) db.insert(backchannelDeliveries).values(deliveries).run();
    },
    async due(now, limit) {
      return db
        .select()
        .from(backchannelDeliveries)
        .where(and(pending, lte(backchannelDeliveries.nextAttemptAt, now)))
        .orderBy(asc(backchannelDeliveries.nextAttemptAt))
        .limit(limit)
        .all();
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
    async markDelivered(id, attempts, now) {
      db.update(backchannelDeliveries)
        .set({ attempts, deliveredAt: now })
        .where(eq(backchannelDeliveries.id, id))
        .run();
    },
    async markRetry(id, attempts, nextAttemptAt, error) {
      db.update(backchannelDeliveries)
        .set({ attempts, nextAttemptAt, lastError: error.slice(0, 500) })
        .where(eq(backchannelDeliveries.id, id))
        .run();
    },
    async markFailed(id, attempts, now, error) {
      db.update(backchannelDeliveries)
        .set({ attempts, failedAt: now, lastError: error.slice(0, 500) })
        .where(eq(backchannelDeliveries.id, id))
        .run();
    },
    async get(id) {
      return db.select().from(backchannelDeliveries).where(eq(backchannelDeliveries.id, id)).get();
    },
  };
}
