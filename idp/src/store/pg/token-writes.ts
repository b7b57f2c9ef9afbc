/**
 * The inserts of refresh and access tokens on PostgreSQL (the twin of ../token-writes.ts): as parts
 * of the one statement in which the code redemption (grants.ts) and the refresh rotation
 * (refresh-tokens.ts) write everything, so each grant costs one round trip and one commit; one at a
 * time for the other grants. And the status-list version bump a revocation inside a transaction makes.
 */
import { inArray, sql } from 'drizzle-orm';
import { accessTokenRow, type IssuedAccessTokenRow, type RefreshToken } from '../token-writes.js';
import type { PgDb } from './db.js';
import { insertSelectColumns, type PgTx } from './queries.js';
import { accessTokens, refreshTokens, statusLists } from './schema.js';

const REFRESH_COLUMNS = insertSelectColumns(refreshTokens, { grantId: 'id' });
const ACCESS_COLUMNS = insertSelectColumns(accessTokens, { grantId: 'id' });

/**
 * The tail of a one-statement grant write: CTEs that insert the refresh token (when parameter
 * `$first` is true) and the access token under the grant id that the CTE `grant` yields (no row:
 * nothing is inserted), from parameters `$first` on, which `grantTokenValues` gives in order.
 */
export function grantTokenInserts(grant: string, first: number): string {
  return `next_refresh as (
  insert into refresh_tokens (${REFRESH_COLUMNS.names})
  select ${REFRESH_COLUMNS.select(first + 1)} from ${grant} where $${first}::boolean
),
next_access as (
  insert into access_tokens (${ACCESS_COLUMNS.names})
  select ${ACCESS_COLUMNS.select(first + 1 + REFRESH_COLUMNS.count)} from ${grant}
)`;
}

/** The values of grantTokenInserts's parameters, in order. */
export function grantTokenValues(refresh: RefreshToken | undefined, access: IssuedAccessTokenRow): unknown[] {
  return [
    refresh !== undefined,
    ...REFRESH_COLUMNS.values(refresh ?? {}),
    ...ACCESS_COLUMNS.values(accessTokenRow(access, { grantId: null, clientId: null })),
  ];
}

export async function insertRefreshToken(tx: PgDb | PgTx, token: RefreshToken): Promise<void> {
  await tx.insert(refreshTokens).values(token);
}

export async function insertAccessToken(
  tx: PgDb | PgTx,
  owner: { grantId: string | null; clientId: string | null },
  t: IssuedAccessTokenRow,
): Promise<void> {
  await tx.insert(accessTokens).values(accessTokenRow(t, owner));
}

/** A list's next version: strictly forward, so two changes within one millisecond are still two versions. */
export const nextStatusListVersion = (now: number) => sql`greatest(${statusLists.updatedAt} + 1, ${now}::bigint)`;

/**
 * Moves the version of lists whose tokens were revoked inside a caller's transaction (the twin of
 * touchStatusLists in ../status-lists.ts). The lists are locked in id order first: two revocations
 * touching the same lists take their locks in one order, so they never deadlock.
 */
export async function touchStatusLists(tx: PgDb | PgTx, ids: Iterable<number | null>, now: number): Promise<void> {
  const distinct = [...new Set([...ids].filter((id): id is number => id !== null))].sort((a, b) => a - b);
  if (distinct.length === 0) return;
  await tx
    .select({ id: statusLists.id })
    .from(statusLists)
    .where(inArray(statusLists.id, distinct))
    .orderBy(statusLists.id)
    .for('update');
  await tx
    .update(statusLists)
    .set({ updatedAt: nextStatusListVersion(now) })
    .where(inArray(statusLists.id, distinct));
}
