/**
 * Token status lists on PostgreSQL: the contract of ../status-lists.ts (draft-ietf-oauth-status-list-21),
 * for N issuer nodes reserving indices from, and revoking into, the same lists.
 *
 * A reservation is one conditional `UPDATE … RETURNING` on the newest list's `next_index`, as on
 * SQLite: the row lock makes concurrent reservations of one list take turns, and each re-checks
 * the room left on the row as the previous one left it, so no index is ever handed out twice.
 * What SQLite gets from its single writer and PostgreSQL does not is "the newest list": at READ
 * COMMITTED a statement's `max(id)` is read from the snapshot it began with, so a reservation
 * begun just before another node committed a new list would still take the room left in the
 * older one, after the new list exists — and a token issued then would be missed by
 * `listIdsSince`. So reservations and list creation are ordered by a transaction-scoped advisory
 * lock: a reservation holds it shared (reservations still run side by side), a node starting a
 * list holds it exclusive; a reservation's statement then begins after every new list committed.
 */
import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { StatusListPosition, StatusListRepository } from '../status-lists.js';
import type { PgDb } from './db.js';
import type { PgTx } from './queries.js';
import { accessTokens, statusLists } from './schema.js';
import { nextStatusListVersion, touchStatusLists } from './token-writes.js';

/** The advisory lock ordering reservations after list creation (any constant unique to this use). */
export const NEWEST_LIST_LOCK = 0x7e55_0001;

/**
 * The version bump of lists whose tokens a caller's transaction revoked (the grants repository's,
 * on a code replay): the twin of touchStatusLists in ../status-lists.ts, which lives beside the
 * token writes it goes with.
 */
export { touchStatusLists };

/**
 * Locks lists' rows in id order, and reads their versions: transactions that move several lists'
 * versions (revocations on two nodes) lock them in one order, so they cannot deadlock.
 */
async function lockInIdOrder(tx: PgDb | PgTx, ids: number[]): Promise<Map<number, number>> {
  const rows = await tx
    .select({ id: statusLists.id, version: statusLists.updatedAt })
    .from(statusLists)
    .where(inArray(statusLists.id, ids))
    .orderBy(statusLists.id)
    .for('update');
  return new Map(rows.map((r) => [r.id, r.version]));
}

// A few hundred parameters keep every statement small, as on SQLite.
const CHUNK = 500;

export function statusListRepository(db: PgDb): StatusListRepository {
  const claim = async (tx: PgTx, n: number): Promise<StatusListPosition | undefined> => {
    const [position] = await tx
      .update(statusLists)
      .set({ nextIndex: sql`${statusLists.nextIndex} + ${n}` })
      .where(
        and(
          eq(statusLists.id, sql`(select max(${statusLists.id}) from ${statusLists})`),
          sql`${statusLists.nextIndex} + ${n} <= ${statusLists.size}`,
        ),
      )
      .returning({ list: statusLists.id, index: sql<number>`${statusLists.nextIndex} - ${n}`.mapWith(Number) });
    return position;
  };
  const find = async (tx: PgDb | PgTx, id: number) => {
    const [row] = await tx.select().from(statusLists).where(eq(statusLists.id, id));
    return row;
  };

  return {
    async allocate(now, size, n) {
      if (!Number.isInteger(n) || n < 1 || n > size) throw new RangeError('count must be between 1 and the list size');
      const position = await db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock_shared(${NEWEST_LIST_LOCK})`);
        return claim(tx, n);
      });
      if (position) return position;
      // The newest list is full (or there is none): start the next one, unless another node did
      // in the meantime — the exclusive lock makes one node at a time decide that.
      return db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${NEWEST_LIST_LOCK})`);
        const retried = await claim(tx, n);
        if (retried) return retried;
        const [created] = await tx
          .insert(statusLists)
          .values({ size, nextIndex: n, createdAt: now, updatedAt: now })
          .returning({ id: statusLists.id });
        return { list: created!.id, index: 0 };
      });
    },
    async find(id) {
      return find(db, id);
    },
    async snapshot(id) {
      // One snapshot for both reads (REPEATABLE READ), as SQLite's read transaction gives: a
      // revocation committed between them must not show its bit under the version before it.
      return db.transaction(
        async (tx) => {
          const row = await find(tx, id);
          if (!row) return undefined;
          const revoked = await tx
            .select({ index: accessTokens.statusIndex })
            .from(accessTokens)
            .where(and(eq(accessTokens.statusList, id), isNotNull(accessTokens.revokedAt)));
          return {
            version: row.updatedAt,
            size: row.size,
            revoked: revoked.flatMap((r) => (r.index === null ? [] : [r.index])),
          };
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      );
    },
    async markRevoked(jtis, now) {
      if (jtis.length === 0) return [];
      return db.transaction(async (tx) => {
        const byList = new Map<number, number[]>();
        for (let i = 0; i < jtis.length; i += CHUNK) {
          const rows = await tx
            .select({ list: accessTokens.statusList, index: accessTokens.statusIndex })
            .from(accessTokens)
            .where(and(inArray(accessTokens.jti, jtis.slice(i, i + CHUNK)), isNotNull(accessTokens.statusList)))
            // In key order, as SQLite walks its primary key: the changes come back in the same order.
            .orderBy(sql`${accessTokens.jti} collate "C"`);
          for (const { list, index } of rows) {
            if (list === null || index === null) continue;
            const indices = byList.get(list) ?? [];
            indices.push(index);
            byList.set(list, indices);
          }
        }
        if (byList.size === 0) return [];
        // SQLite's IMMEDIATE transaction holds the write lock from the first read; here each list's
        // row is locked (in id order, so concurrent revocations cannot deadlock) before its version
        // is read, so the version read is the one this transaction moves forward.
        const before = await lockInIdOrder(tx, [...byList.keys()]);
        if (before.size === 0) return [];
        const after = new Map(
          (
            await tx
              .update(statusLists)
              .set({ updatedAt: nextStatusListVersion(now) })
              .where(inArray(statusLists.id, [...before.keys()]))
              .returning({ id: statusLists.id, version: statusLists.updatedAt })
          ).map((r) => [r.id, r.version]),
        );
        return [...byList].flatMap(([list, indices]) => {
          const previousVersion = before.get(list);
          const version = after.get(list);
          return previousVersion === undefined || version === undefined
            ? []
            : [{ list, previousVersion, version, indices }];
        });
      });
    },
    async listIdsSince(since) {
      // Ids grow with time, so the list current at `since` is the newest one created by then.
      const createdBySince = sql`${statusLists.createdAt} <= ${since}`;
      const newestBySince = sql`select max(${statusLists.id}) from ${statusLists} where ${createdBySince}`;
      const current = sql`coalesce((${newestBySince}), 0)`;
      const rows = await db
        .select({ id: statusLists.id })
        .from(statusLists)
        .where(sql`${statusLists.id} >= ${current}`)
        .orderBy(statusLists.id);
      return rows.map((r) => r.id);
    },
  };
}
