/**
 * Failed sign-in counters, one row per throttle key (an account digest or an IP), and the places
 * of the attempts in flight on each key. The rules — how long a key is blocked after n failures,
 * when a quiet key is forgotten — come from the caller; this file only makes each update atomic.
 */
import { and, count, eq, gt, isNull, like, lte, or, sql } from 'drizzle-orm';
import { transaction, type Db } from './database.js';
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

/** The `keys` a method takes are distinct: an attempt has one place, and counts one failure, per key. */
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
  /**
   * In one write transaction: gives up the attempt's places and deletes `key`'s counter (a success
   * starts the key over); returns the failures the counter held (0 when there was none).
   */
  countSuccess(attempt: string, key: string): Promise<number>;
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

/** A key's row as its rule counts it at `now`: none when there is no row or it is forgotten. */
const standing = (row: SignInThrottle | undefined, policy: ThrottlePolicy, now: number) =>
  row && !isForgotten(row, policy, now) ? row : undefined;

/**
 * What `reserve` answers, on either engine, from what it read under its lock: each key's row (in
 * the keys' order, undefined for none) and, asked only when no key is blocked, the number of other
 * attempts in flight on the i-th key. 'reserved' means there is room; the caller takes the places.
 */
export function reservationFor(
  keys: readonly ThrottleKey[],
  rows: readonly (SignInThrottle | undefined)[],
  inFlight: (i: number) => number,
  now: number,
): Reservation {
  const current = keys.map(({ policy }, i) => standing(rows[i], policy, now));
  const blocked = current.filter(
    (r): r is SignInThrottle => r !== undefined && r.blockedUntil !== null && r.blockedUntil > now,
  );
  if (blocked.length > 0) return { outcome: 'blocked', blocked };
  // Room is what one-at-a-time attempts would have: as many in flight as could fail before the
  // first block, and past that, one.
  const full = keys.some(({ policy }, i) => {
    const n = inFlight(i);
    return n > 0 && policy.blockedUntil((current[i]?.failures ?? 0) + n, now) !== null;
  });
  return full ? { outcome: 'busy' } : { outcome: 'reserved' };
}

/** A key's counter after one more failure at `now`, from its row (undefined for none). */
export function nextCounter(
  { key, policy }: ThrottleKey,
  row: SignInThrottle | undefined,
  now: number,
): SignInThrottle {
  const current = standing(row, policy, now);
  const failures = (current?.failures ?? 0) + 1;
  return {
    key,
    failures,
    firstFailureAt: current?.firstFailureAt ?? now,
    lastFailureAt: now,
    blockedUntil: policy.blockedUntil(failures, now),
  };
}

/**
 * An upsert's `set` for counters: a stored counter takes every field of the new one (`excluded`,
 * the row proposed for insertion, is the same on both engines).
 */
export const COUNTER_FROM_EXCLUDED = {
  failures: sql`excluded.failures`,
  firstFailureAt: sql`excluded.first_failure_at`,
  lastFailureAt: sql`excluded.last_failure_at`,
  blockedUntil: sql`excluded.blocked_until`,
};

export function signInThrottleRepository(db: Db): SignInThrottleRepository {
  // Prepared once: every sign-in runs these.
  const p = sql.placeholder;
  const throttleByKey = db
    .select()
    .from(signInThrottles)
    .where(eq(signInThrottles.key, p('key')))
    .prepare();
  const attemptsInFlight = db
    .select({ n: count() })
    .from(signInReservations)
    .where(and(eq(signInReservations.key, p('key')), gt(signInReservations.expiresAt, p('now'))))
    .prepare();
  const insertReservation = db
    .insert(signInReservations)
    .values({ attempt: p('attempt'), key: p('key'), expiresAt: p('expiresAt') })
    .prepare();
  const deleteReservations = db
    .delete(signInReservations)
    .where(eq(signInReservations.attempt, p('attempt')))
    .prepare();
  const upsertThrottle = db
    .insert(signInThrottles)
    .values({
      key: p('key'),
      failures: p('failures'),
      firstFailureAt: p('firstFailureAt'),
      lastFailureAt: p('lastFailureAt'),
      blockedUntil: p('blockedUntil'),
    })
    .onConflictDoUpdate({
      target: signInThrottles.key,
      set: COUNTER_FROM_EXCLUDED,
    })
    .returning()
    .prepare();
  const deleteThrottle = db
    .delete(signInThrottles)
    .where(eq(signInThrottles.key, p('key')))
    .returning({ failures: signInThrottles.failures })
    .prepare();
  return {
    async reserve(attempt, keys, now, expiresAt) {
      // BEGIN IMMEDIATE takes the write lock before the reads, so two issuers on one database
      // file cannot both read "room left" and both take the last place.
      return transaction(
        db,
        () => {
          const rows = keys.map(({ key }) => throttleByKey.get({ key }));
          const found = reservationFor(keys, rows, (i) => attemptsInFlight.get({ key: keys[i]!.key, now })!.n, now);
          if (found.outcome === 'reserved') {
            for (const { key } of keys) insertReservation.run({ attempt, key, expiresAt });
          }
          return found;
        },
        { behavior: 'immediate' },
      );
    },
    async countFailure(attempt, keys, now) {
      return transaction(
        db,
        () => {
          deleteReservations.run({ attempt });
          return keys.map((k) => upsertThrottle.get(nextCounter(k, throttleByKey.get({ key: k.key }), now))!);
        },
        { behavior: 'immediate' },
      );
    },
    async countSuccess(attempt, key) {
      return transaction(db, () => {
        deleteReservations.run({ attempt });
        return deleteThrottle.get({ key })?.failures ?? 0;
      });
    },
    async release(attempt) {
      deleteReservations.run({ attempt });
    },
    async clear(key) {
      return deleteThrottle.get({ key })?.failures ?? 0;
    },
    async forgive(key, n, policy) {
      transaction(
        db,
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
