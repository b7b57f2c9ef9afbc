/**
 * Token status lists (draft-ietf-oauth-status-list-21). Every access token takes the next index
 * of the newest list with one `UPDATE … RETURNING` on `next_index`, so concurrent issuers never
 * share an index and no other statement is paid per token. A list's `updated_at` is its version:
 * each revocation that sets a bit in it moves the version strictly forward, and the signed list
 * is rebuilt only when the version moved.
 */
import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import { lookupBy, transaction, type Db } from './database.js';
import { accessTokens, statusLists } from './schema.js';

type StatusListRow = typeof statusLists.$inferSelect;

/** Where one token's status lives: a list and an index in it (draft §6.2). */
export interface StatusListPosition {
  list: number;
  index: number;
}

/** A list's version and the indices of its revoked tokens, read in one transaction. */
interface StatusListSnapshot {
  version: number;
  size: number;
  revoked: number[];
}

/** A list whose version a revocation moved: from `previousVersion` to `version`. */
interface StatusListChange {
  list: number;
  previousVersion: number;
  version: number;
  /** The indices of the revoked tokens that live in this list. */
  indices: number[];
}

export interface StatusListRepository {
  /**
   * Reserves `count` consecutive indices of the newest list, from the returned position; a new
   * list of `size` entries once the newest cannot hold them (or there is none).
   */
  allocate(now: number, size: number, count: number): Promise<StatusListPosition>;
  find(id: number): Promise<StatusListRow | undefined>;
  snapshot(id: number): Promise<StatusListSnapshot | undefined>;
  /** Moves the version of every list holding one of these just-revoked tokens; returns what moved. */
  markRevoked(jtis: readonly string[], now: number): Promise<StatusListChange[]>;
  /** Lists that may hold tokens issued at or after `since`: the one current then, and every later one. */
  listIdsSince(since: number): Promise<number[]>;
}

/** Strictly forward, so two changes within one millisecond are still two versions. */
const nextVersion = (now: number) => sql`max(${statusLists.updatedAt} + 1, ${now})`;

/**
 * Moves the version of lists changed inside a caller's transaction (a code replay revokes tokens
 * in the grants repository, with no protocol step after it to tell the status lists).
 */
export function touchStatusLists(tx: Db, ids: Iterable<number | null>, now: number): void {
  const distinct = [...new Set([...ids].filter((id): id is number => id !== null))];
  if (distinct.length > 0)
    tx.update(statusLists)
      .set({ updatedAt: nextVersion(now) })
      .where(inArray(statusLists.id, distinct))
      .run();
}

// SQLite allows far more, but a few hundred bound variables keep every statement small.
const CHUNK = 500;

export function statusListRepository(db: Db): StatusListRepository {
  const count = sql.placeholder('count');
  const claim = db
    .update(statusLists)
    .set({ nextIndex: sql`${statusLists.nextIndex} + ${count}` })
    .where(
      and(
        eq(statusLists.id, sql`(select max(${statusLists.id}) from ${statusLists})`),
        sql`${statusLists.nextIndex} + ${count} <= ${statusLists.size}`,
      ),
    )
    .returning({ list: statusLists.id, index: sql<number>`${statusLists.nextIndex} - ${count}` })
    .prepare();
  const find = lookupBy(db, statusLists, statusLists.id);
  const revokedIn = db
    .select({ index: accessTokens.statusIndex })
    .from(accessTokens)
    .where(and(eq(accessTokens.statusList, sql.placeholder('id')), isNotNull(accessTokens.revokedAt)))
    .prepare();

  return {
    async allocate(now, size, n) {
      if (!Number.isInteger(n) || n < 1 || n > size) throw new RangeError('count must be between 1 and the list size');
      const position = claim.get({ count: n });
      if (position) return position;
      // The newest list is full (or there is none): start the next one, unless a concurrent
      // issuer did in the meantime, inside one write transaction.
      return transaction(db, (tx) => {
        const retried = claim.get({ count: n });
        if (retried) return retried;
        const created = tx
          .insert(statusLists)
          .values({ size, nextIndex: n, createdAt: now, updatedAt: now })
          .returning({ id: statusLists.id })
          .get();
        return { list: created.id, index: 0 };
      });
    },
    async find(id) {
      return find(id);
    },
    async snapshot(id) {
      return transaction(db, () => {
        const row = find(id);
        if (!row) return undefined;
        const revoked = revokedIn.all({ id }).flatMap((r) => (r.index === null ? [] : [r.index]));
        return { version: row.updatedAt, size: row.size, revoked };
      });
    },
    async markRevoked(jtis, now) {
      if (jtis.length === 0) return [];
      // It reads the tokens' lists before it moves their versions: IMMEDIATE takes the write lock first (database.ts).
      return transaction(
        db,
        (tx) => {
          const byList = new Map<number, number[]>();
          for (let i = 0; i < jtis.length; i += CHUNK) {
            const rows = tx
              .select({ list: accessTokens.statusList, index: accessTokens.statusIndex })
              .from(accessTokens)
              .where(and(inArray(accessTokens.jti, jtis.slice(i, i + CHUNK)), isNotNull(accessTokens.statusList)))
              .all();
            for (const { list, index } of rows) {
              if (list === null || index === null) continue;
              const indices = byList.get(list) ?? [];
              indices.push(index);
              byList.set(list, indices);
            }
          }
          const changes: StatusListChange[] = [];
          for (const [list, indices] of byList) {
            const before = find(list);
            if (!before) continue;
            const after = tx
              .update(statusLists)
              .set({ updatedAt: nextVersion(now) })
              .where(eq(statusLists.id, list))
              .returning({ version: statusLists.updatedAt })
              .get();
            changes.push({ list, previousVersion: before.updatedAt, version: after!.version, indices });
          }
          return changes;
        },
        { behavior: 'immediate' },
      );
    },
    async listIdsSince(since) {
      // Ids grow with time, so the list current at `since` is the newest one created by then.
      const createdBySince = sql`${statusLists.createdAt} <= ${since}`;
      const newestBySince = sql`select max(${statusLists.id}) from ${statusLists} where ${createdBySince}`;
      const current = sql`coalesce((${newestBySince}), 0)`;
      return db
        .select({ id: statusLists.id })
        .from(statusLists)
        .where(sql`${statusLists.id} >= ${current}`)
        .orderBy(statusLists.id)
        .all()
        .map((r) => r.id);
    },
  };
}
