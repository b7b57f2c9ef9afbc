/**
 * Failed sign-in counters and the places of attempts in flight, on PostgreSQL: the contract of
 * ../sign-in-throttles.ts, for N issuer nodes counting the same keys.
 *
 * SQLite takes its single write lock (BEGIN IMMEDIATE) before a transaction reads a key's counter
 * and places, so two issuers cannot both read "room left" and both take the last place, nor both
 * read 3 failures and both write 4. PostgreSQL at READ COMMITTED would let them, and the rows to
 * lock may not exist yet (a key's first failure, its first place). So every transaction that reads
 * a key before it writes it first takes a transaction-scoped advisory lock on that key's hash, in
 * one order (sorted) so that two attempts on the same two keys cannot deadlock: attempts on one
 * key take turns, attempts on different keys do not wait for each other. Statements after the
 * lock see everything committed by the previous holder. A hash collision only makes two keys
 * take turns.
 */
import { and, eq, isNull, like, lte, or, sql } from 'drizzle-orm';
import {
  COUNTER_FROM_EXCLUDED,
  nextCounter,
  reservationFor,
  type SignInThrottleRepository,
} from '../sign-in-throttles.js';
import type { PgDb } from './db.js';
import { rowsOf, type PgTx } from './queries.js';
import { signInReservations, signInThrottles } from './schema.js';

/** Rows per statement in the clean-up deletes: short statements, short row locks. */
const DELETE_BATCH = 500;

/** Takes the keys' advisory locks until the transaction ends, in one order. */
async function lockKeys(tx: PgTx, keys: readonly string[]): Promise<void> {
  const sorted = [...new Set(keys)].sort();
  if (sorted.length === 0) return;
  // One statement: the locks are taken in the array's order (ordinality), one at a time.
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(k, 0))
        from unnest(${sql.param(sorted)}::text[]) with ordinality as t(k, n) order by n`,
  );
}

/** A counter from a raw statement's row. */
const throttleRow = rowsOf(signInThrottles);

export function signInThrottleRepository(db: PgDb): SignInThrottleRepository {
  /**
   * Deletes `key`'s counter in one statement, under the key's lock, so a failure being counted
   * meanwhile (read 3, write 4) lands wholly before the clear or wholly after it, as with SQLite's
   * single writer. The lock is a CTE the condition names (run once, before a row is deleted). The
   * statement's snapshot is older than the wait for the lock, and still nothing is lost: a row a
   * failure updated meanwhile is deleted in its new version (READ COMMITTED re-reads a row changed
   * under a DELETE), and a row a failure inserted meanwhile is left, as if the clear came first.
   * Given an attempt, the same statement deletes its places (a data-modifying CTE runs once whether
   * or not the query reads it). Returns the failures the counter held.
   */
  const clearKey = async (key: string, releasing?: string): Promise<number> => {
    const released =
      releasing === undefined
        ? sql``
        : sql`released as (delete from ${signInReservations} where ${signInReservations.attempt} = ${releasing}),`;
    const {
      rows: [gone],
    } = await db.execute<{ failures: number }>(sql`
      with ${released} locked as (select pg_advisory_xact_lock(hashtextextended(${key}::text, 0)))
      delete from ${signInThrottles}
      where key = ${key} and (select count(*) from locked) >= 0
      returning failures`);
    return gone?.failures ?? 0;
  };
  const throttleByKey = async (tx: PgTx, key: string) => {
    const [row] = await tx.select().from(signInThrottles).where(eq(signInThrottles.key, key));
    return row;
  };
  /** Deletes by `where`, a batch at a time, and counts the rows. */
  const deleteInBatches = async (
    table: typeof signInThrottles | typeof signInReservations,
    where: ReturnType<typeof and>,
  ): Promise<number> => {
    let deleted = 0;
    for (;;) {
      const batch = db.select({ ctid: sql`ctid` }).from(table).where(where).limit(DELETE_BATCH);
      const rows = await db.delete(table).where(sql`ctid in (${batch})`).returning({ one: sql`1` });
      deleted += rows.length;
      if (rows.length < DELETE_BATCH) return deleted;
    }
  };

  return {
    async reserve(attempt, keys, now, expiresAt) {
      const names = keys.map((k) => k.key);
      return db.transaction(async (tx) => {
        await lockKeys(tx, names);
        // After the lock, one statement reads every key's row and the attempts in flight on it;
        // the places are inserted only when there is room. Five round trips for a place, four for
        // a refusal (which writes nothing), where a statement per key and per read took eight.
        // A key with no counter comes back as a row of nulls (the outer join).
        const { rows } = await tx.execute<Record<string, unknown> & { in_flight: number }>(sql`
          select t.*, (select count(*)::int from ${signInReservations} r
              where r.key = k.key and r.expires_at > ${now}::bigint) as in_flight
          from unnest(${sql.param(names)}::text[]) with ordinality as k(key, n)
          left join ${signInThrottles} t on t.key = k.key
          order by k.n`);
        const counters = rows.map((r) => (r.key === null ? undefined : throttleRow(r)));
        const found = reservationFor(keys, counters, (i) => rows[i]!.in_flight, now);
        if (found.outcome !== 'reserved') return found;
        if (keys.length > 0)
          await tx.insert(signInReservations).values(keys.map(({ key }) => ({ attempt, key, expiresAt })));
        return found;
      });
    },
    async countFailure(attempt, keys, now) {
      const names = keys.map((k) => k.key);
      return db.transaction(async (tx) => {
        await lockKeys(tx, names);
        // After the lock, one statement frees the attempt's places and reads the keys' rows, and
        // one more writes them all back: five round trips, where a statement per key took eight.
        const { rows: found } = await tx.execute(sql`
          with freed as (delete from ${signInReservations} where attempt = ${attempt})
          select * from ${signInThrottles} where key = any(${sql.param(names)}::text[])`);
        const byKey = new Map(found.map((r) => [r.key as string, throttleRow(r)]));
        const values = keys.map((k) => nextCounter(k, byKey.get(k.key), now));
        if (values.length === 0) return [];
        const written = await tx
          .insert(signInThrottles)
          .values(values)
          .onConflictDoUpdate({ target: signInThrottles.key, set: COUNTER_FROM_EXCLUDED })
          .returning();
        // RETURNING's order is not the VALUES order: the rows go back in the order given.
        const rowOf = new Map(written.map((r) => [r.key, r]));
        return names.map((k) => rowOf.get(k)!);
      });
    },
    async countSuccess(attempt, key) {
      // One round trip for a successful attempt: the clear and the release in one statement.
      return clearKey(key, attempt);
    },
    async release(attempt) {
      await db.delete(signInReservations).where(eq(signInReservations.attempt, attempt));
    },
    async clear(key) {
      return clearKey(key);
    },
    async forgive(key, n, policy) {
      await db.transaction(async (tx) => {
        await lockKeys(tx, [key]);
        const row = await throttleByKey(tx, key);
        if (!row) return;
        const failures = row.failures - n;
        if (failures <= 0) {
          await tx.delete(signInThrottles).where(eq(signInThrottles.key, key));
          return;
        }
        await tx
          .update(signInThrottles)
          .set({ failures, blockedUntil: policy.blockedUntil(failures, row.lastFailureAt) })
          .where(eq(signInThrottles.key, key));
      });
    },
    async deleteForgotten(prefix, policy, now) {
      // No key lock: the predicate is on the row itself, and a row changed since the batch was
      // picked (a failure counted on it meanwhile) has moved (a new ctid), so it is left alone.
      // In batches by the last-failure index, so no statement holds many row locks for long.
      return deleteInBatches(
        signInThrottles,
        and(
          like(signInThrottles.key, `${prefix}%`),
          lte(signInThrottles.lastFailureAt, now - policy.forgetAfter),
          or(isNull(signInThrottles.blockedUntil), lte(signInThrottles.blockedUntil, now)),
        ),
      );
    },
    async deleteLapsedReservations(now) {
      return deleteInBatches(signInReservations, lte(signInReservations.expiresAt, now));
    },
  };
}
