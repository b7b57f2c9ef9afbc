/**
 * Failed sign-in counters, one row per throttle key (an account digest or an IP). The rules —
 * how long a key is blocked after n failures, when a quiet key is forgotten — come from the
 * caller; this file only makes each update atomic.
 */
import { and, eq, isNull, like, lte, or } from 'drizzle-orm';
import type { Db } from './database.js';
import { signInThrottles } from './schema.js';

export type SignInThrottle = typeof signInThrottles.$inferSelect;

/** What the store needs to know of a key's rule. Times are milliseconds. */
export interface ThrottlePolicy {
  /** A row with no failure for this long, and no block left, starts over. */
  forgetAfter: number;
  /** When a key with `failures` failures, the last at `at`, may be tried again (null: now). */
  blockedUntil(failures: number, at: number): number | null;
}

type CountedAttempt = { admitted: true; counters: SignInThrottle[] } | { admitted: false; blocked: SignInThrottle[] };

export interface SignInThrottleRepository {
  /**
   * In one write transaction: when any key is blocked at `now`, nothing is counted and the
   * blocking rows are returned; otherwise one failure is counted on every key (blocked as its
   * policy says) and the new rows are returned, in the order given.
   */
  countAttempt(keys: { key: string; policy: ThrottlePolicy }[], now: number): Promise<CountedAttempt>;
  /** Deletes a key's counter; returns the failures it held (0 when there was none). */
  clear(key: string): Promise<number>;
  /** Takes up to `n` failures off a key, its block recomputed for what is left. */
  forgive(key: string, n: number, policy: ThrottlePolicy): Promise<void>;
  /** Deletes the rows under `prefix` (a literal: no `%` or `_`) that `policy` has forgotten by `now`. */
  deleteForgotten(prefix: string, policy: ThrottlePolicy, now: number): Promise<number>;
}

const isForgotten = (row: SignInThrottle, policy: ThrottlePolicy, now: number): boolean =>
  row.lastFailureAt + policy.forgetAfter <= now && (row.blockedUntil === null || row.blockedUntil <= now);

export function signInThrottleRepository(db: Db): SignInThrottleRepository {
  return {
    async countAttempt(keys, now) {
      // BEGIN IMMEDIATE takes the write lock before the reads, so two issuers on one database
      // file cannot both read "not blocked" and both count from the same value.
      return db.transaction(
        (tx) => {
          const current = keys.map(({ key, policy }) => {
            const row = tx.select().from(signInThrottles).where(eq(signInThrottles.key, key)).get();
            return row && !isForgotten(row, policy, now) ? row : undefined;
          });
          const blocked = current.filter(
            (r): r is SignInThrottle => r !== undefined && r.blockedUntil !== null && r.blockedUntil > now,
          );
          if (blocked.length > 0) return { admitted: false as const, blocked };
          const counters = keys.map(({ key, policy }, i) => {
            const failures = (current[i]?.failures ?? 0) + 1;
            const row = {
              key,
              failures,
              firstFailureAt: current[i]?.firstFailureAt ?? now,
              lastFailureAt: now,
              blockedUntil: policy.blockedUntil(failures, now),
            };
            return tx
              .insert(signInThrottles)
              .values(row)
              .onConflictDoUpdate({ target: signInThrottles.key, set: row })
              .returning()
              .get();
          });
          return { admitted: true as const, counters };
        },
        { behavior: 'immediate' },
      );
    },
    async clear(key) {
      const row = db
        .delete(signInThrottles)
        .where(eq(signInThrottles.key, key))
        .returning({ failures: signInThrottles.failures })
        .get();
      return row?.failures ?? 0;
    },
    async forgive(key, n, policy) {
      db.transaction(
        (tx) => {
          const row = tx.select().from(signInThrottles).where(eq(signInThrottles.key, key)).get();
          if (!row) return;
          const failures = row.failures - n;
          if (failures <= 0) {
            tx.delete(signInThrottles).where(eq(signInThrottles.key, key)).run();
            return;
          }
          tx.update(signInThrottles)
            .set({ failures, blockedUntil: policy.blockedUntil(failures, row.lastFailureAt) })
            .where(eq(signInThrottles.key, key))
            .run();
        },
        { behavior: 'immediate' },
      );
    },
    async deleteForgotten(prefix, policy, now) {
      return db
        .delete(signInThrottles)
        .where(
          and(
            like(signInThrottles.key, `${prefix}%`),
            lte(signInThrottles.lastFailureAt, now - policy.forgetAfter),
            or(isNull(signInThrottles.blockedUntil), lte(signInThrottles.blockedUntil, now)),
          ),
        )
        .run().changes;
    },
  };
}
