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
import { and, count, eq, gt, isNull, like, lte, or, sql } from 'drizzle-orm';
import type { SignInThrottle, SignInThrottleRepository, ThrottlePolicy } from '../sign-in-throttles.js';
import type { PgDb } from './db.js';
import type { PgTx } from './queries.js';
import { signInReservations, signInThrottles } from './schema.js';

/** Rows per statement in the clean-up deletes: short statements, short row locks. */
const DELETE_BATCH = 500;

const isForgotten = (row: SignInThrottle, policy: ThrottlePolicy, now: number): boolean =>
  row.lastFailureAt + policy.forgetAfter <= now && (row.blockedUntil === null || row.blockedUntil <= now);

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

export function signInThrottleRepository(db: PgDb): SignInThrottleRepository {
  const throttleByKey = async (tx: PgTx, key: string) => {
    const [row] = await tx.select().from(signInThrottles).where(eq(signInThrottles.key, key));
    return row;
  };
  const deleteReservations = (tx: PgDb | PgTx, attempt: string) =>
    tx.delete(signInReservations).where(eq(signInReservations.attempt, attempt));

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
      return db.transaction(async (tx) => {
        await lockKeys(
          tx,
          keys.map((k) => k.key),
        );
        const current: (SignInThrottle | undefined)[] = [];
        for (const { key, policy } of keys) {
          const row = await throttleByKey(tx, key);
          current.push(row && !isForgotten(row, policy, now) ? row : undefined);
        }
        const blocked = current.filter(
          (r): r is SignInThrottle => r !== undefined && r.blockedUntil !== null && r.blockedUntil > now,
        );
        if (blocked.length > 0) return { outcome: 'blocked' as const, blocked };
        // Room is what one-at-a-time attempts would have: as many in flight as could fail before
        // the first block, and past that, one.
        for (const [i, { key, policy }] of keys.entries()) {
          const [inFlight] = await tx
            .select({ n: count() })
            .from(signInReservations)
            .where(and(eq(signInReservations.key, key), gt(signInReservations.expiresAt, now)));
          const n = inFlight?.n ?? 0;
          if (n > 0 && policy.blockedUntil((current[i]?.failures ?? 0) + n, now) !== null) {
            return { outcome: 'busy' as const };
          }
        }
        if (keys.length > 0)
          await tx.insert(signInReservations).values(keys.map(({ key }) => ({ attempt, key, expiresAt })));
        return { outcome: 'reserved' as const };
      });
    },
    async countFailure(attempt, keys, now) {
      return db.transaction(async (tx) => {
        await lockKeys(
          tx,
          keys.map((k) => k.key),
        );
        await deleteReservations(tx, attempt);
        const rows: SignInThrottle[] = [];
        for (const { key, policy } of keys) {
          const found = await throttleByKey(tx, key);
          const current = found && !isForgotten(found, policy, now) ? found : undefined;
          const failures = (current?.failures ?? 0) + 1;
          const values = {
            key,
            failures,
            firstFailureAt: current?.firstFailureAt ?? now,
            lastFailureAt: now,
            blockedUntil: policy.blockedUntil(failures, now),
          };
          const [row] = await tx
            .insert(signInThrottles)
            .values(values)
            .onConflictDoUpdate({ target: signInThrottles.key, set: values })
            .returning();
          rows.push(row!);
        }
        return rows;
      });
    },
    async release(attempt) {
      await deleteReservations(db, attempt);
    },
    async clear(key) {
      // Under the key's lock: a failure being counted meanwhile (read 3, write 4) lands wholly
      // before the clear or wholly after it, as with SQLite's single writer.
      return db.transaction(async (tx) => {
        await lockKeys(tx, [key]);
        const [gone] = await tx
          .delete(signInThrottles)
          .where(eq(signInThrottles.key, key))
          .returning({ failures: signInThrottles.failures });
        return gone?.failures ?? 0;
      });
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
