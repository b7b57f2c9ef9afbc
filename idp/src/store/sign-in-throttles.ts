/**
 * Failed sign-in counters, one row per throttle key (an account digest or an IP), and the places
 * of the attempts in flight on each key. The rules — how long a key is blocked after n failures,
 * when a quiet key is forgotten — come from the caller; this file only makes each update atomic.
 */
import { and, count, eq, gt, isNull, like, lte, or } from 'drizzle-orm';
import type { Db } from './database.js';
import { signInReservations, signInThrottles } from './schema.js';

export type SignInThrottle = typeof signInThrottles.$inferSelect;

/** What the store needs to know of a key's rule. Times are milliseconds. */
export interface ThrottlePolicy {
  /** A row with no failure for this long, and no block left, starts over. */
  forgetAfter: number;
  /** When a key with `failures` failures, the last at `at`, may be tried again (null: now). */
  blockedUntil(failures: number, at: number): number | null;
}

/** A throttle key and its rule. */
export interface ThrottleKey {
  key: string;
  policy: ThrottlePolicy;
}

/**
 * What `reserve` found: a place on every key; a block (counted failures) on some key; or no block
 * but as many attempts in flight as the key's failure allowance, so this one must wait its turn.
 */
export type Reservation =
  | { outcome: 'reserved' }
  | { outcome: 'blocked'; blocked: SignInThrottle[] }
  | { outcome: 'busy' };

export interface SignInThrottleRepository {
  /**
   * In one write transaction: when any key is blocked at `now`, nothing is reserved and the
   * blocking rows are returned. When any key has attempts in flight and, were they all to fail,
   * would be blocked, nothing is reserved ('busy'). Otherwise `attempt` takes a place on every
   * key until `expiresAt`.
   */
  reserve(attempt: string, keys: ThrottleKey[], now: number, expiresAt: number): Promise<Reservation>;
  /**
   * In one write transaction: gives up the attempt's places and counts one failure on every key
   * (blocked as its policy says); returns the new rows, in the order given.
   */
  countFailure(attempt: string, keys: ThrottleKey[], now: number): Promise<SignInThrottle[]>;
  /** Gives up the attempt's places without counting anything. */
  release(attempt: string): Promise<void>;
  /** Deletes a key's counter; returns the failures it held (0 when there was none). */
  clear(key: string): Promise<number>;
  /** Takes up to `n` failures off a key, its block recomputed for what is left. */
  forgive(key: string, n: number, policy: ThrottlePolicy): Promise<void>;
  /** Deletes the rows under `prefix` (a literal: no `%` or `_`) that `policy` has forgotten by `now`. */
  deleteForgotten(prefix: string, policy: ThrottlePolicy, now: number): Promise<number>;
  /** Deletes the places of attempts that never finished (their process died), lapsed by `now`. */
  deleteLapsedReservations(now: number): Promise<number>;
}

const isForgotten = (row: SignInThrottle, policy: ThrottlePolicy, now: number): boolean =>
  row.lastFailureAt + policy.forgetAfter <= now && (row.blockedUntil === null || row.blockedUntil <= now);

export function signInThrottleRepository(db: Db): SignInThrottleRepository {
  return {
    async reserve(attempt, keys, now, expiresAt) {
      // BEGIN IMMEDIATE takes the write lock before the reads, so two issuers on one database
      // file cannot both read "room left" and both take the last place.
      return db.transaction(
        (tx) => {
          const current = keys.map(({ key, policy }) => {
            const row = tx.select().from(signInThrottles).where(eq(signInThrottles.key, key)).get();
            return row && !isForgotten(row, policy, now) ? row : undefined;
          });
          const blocked = current.filter(
            (r): r is SignInThrottle => r !== undefined && r.blockedUntil !== null && r.blockedUntil > now,
          );
          if (blocked.length > 0) return { outcome: 'blocked' as const, blocked };
          // Room is what one-at-a-time attempts would have: as many in flight as could fail before
          // the first block, and past that, one.
          const full = keys.some(({ key, policy }, i) => {
            const inFlight = tx
              .select({ n: count() })
              .from(signInReservations)
              .where(and(eq(signInReservations.key, key), gt(signInReservations.expiresAt, now)))
              .get()!.n;
            return inFlight > 0 && policy.blockedUntil((current[i]?.failures ?? 0) + inFlight, now) !== null;
          });
          if (full) return { outcome: 'busy' as const };
          tx.insert(signInReservations)
            .values(keys.map(({ key }) => ({ attempt, key, expiresAt })))
            .run();
          return { outcome: 'reserved' as const };
        },
        { behavior: 'immediate' },
      );
    },
    async countFailure(attempt, keys, now) {
      return db.transaction(
        (tx) => {
          tx.delete(signInReservations).where(eq(signInReservations.attempt, attempt)).run();
          return keys.map(({ key, policy }) => {
            const found = tx.select().from(signInThrottles).where(eq(signInThrottles.key, key)).get();
            const current = found && !isForgotten(found, policy, now) ? found : undefined;
            const failures = (current?.failures ?? 0) + 1;
            const row = {
              key,
              failures,
              firstFailureAt: current?.firstFailureAt ?? now,
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
        },
        { behavior: 'immediate' },
      );
    },
    async release(attempt) {
      db.delete(signInReservations).where(eq(signInReservations.attempt, attempt)).run();
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
    async deleteLapsedReservations(now) {
      return db.delete(signInReservations).where(lte(signInReservations.expiresAt, now)).run().changes;
    },
  };
}
