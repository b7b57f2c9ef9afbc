/**
 * Refresh tokens and the grants they belong to, on PostgreSQL: the contract of
 * ../refresh-tokens.ts. Rotation marks the old token rotated with a conditional update (the
 * arbiter: a concurrent use on any node waits for the row, then finds it rotated and is told false,
 * which the caller treats as reuse) and inserts its successor in the same statement.
 *
 * SQLite runs one writer at a time, so a revocation and a rotation under the same grant never
 * interleave. Under READ COMMITTED they could: a revocation's statement does not see a successor
 * token (nor its access token) committed after the statement began, and would leave it unrevoked,
 * its access token's status-list bit never set. So every transaction that revokes a grant's tokens
 * first locks the grant row (the revoking UPDATE of grants), and a rotation first locks its grant
 * FOR SHARE: rotations of one grant do not wait for each other there, and a revocation and a
 * rotation of one grant run one after the other, as on SQLite.
 */
import { and, asc, eq, inArray, isNull, ne, sql, type SQL } from 'drizzle-orm';
import type { RefreshTokenRepository } from '../refresh-tokens.js';
import type { PgDb } from './db.js';
import type { PgTx } from './queries.js';
import { accessTokens, grants, refreshTokens } from './schema.js';
import { grantTokenInserts, grantTokenValues } from './token-writes.js';

export type { RefreshToken } from '../token-writes.js';

/** Revokes the grants' refresh and access tokens (the grants already locked by the caller); the jtis revoked. */
async function revokeTokensOf(tx: PgTx, grantIds: string[], now: number): Promise<string[]> {
  if (grantIds.length === 0) return [];
  await tx
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(inArray(refreshTokens.grantId, grantIds), isNull(refreshTokens.revokedAt)));
  const revoked = await tx
    .update(accessTokens)
    .set({ revokedAt: now })
    .where(and(inArray(accessTokens.grantId, grantIds), isNull(accessTokens.revokedAt)))
    .returning({ jti: accessTokens.jti });
  return revoked.map((r) => r.jti);
}

/**
 * Revokes every unrevoked grant `which` selects, with their tokens; the access-token jtis revoked.
 * SQLite reads the grants under its write lock; here FOR UPDATE locks what is read, and re-checks
 * each row once its lock is had, so a grant another node revoked meanwhile is left out. In id
 * order, so two revocations of overlapping grants never deadlock.
 */
function revokeUnrevoked(db: PgDb, which: SQL | undefined, now: number): Promise<string[]> {
  return db.transaction(async (tx) => {
    const ids = (
      await tx
        .select({ id: grants.id })
        .from(grants)
        .where(and(which, isNull(grants.revokedAt)))
        .orderBy(asc(grants.id))
        .for('update')
    ).map((g) => g.id);
    if (ids.length === 0) return [];
    await tx.update(grants).set({ revokedAt: now }).where(inArray(grants.id, ids));
    return revokeTokensOf(tx, ids, now);
  });
}

/**
 * A rotation in one statement: one round trip and one commit, where a transaction of four
 * statements took six round trips. The grant is locked FOR SHARE first (see the comment at the
 * top): a CTE that only reads runs only when referenced, so the update's condition names it, a
 * condition on nothing else that PostgreSQL checks once before it reads a row. The conditional
 * update is the arbiter; the new tokens are inserted only when it updated the token.
 */
const ROTATE = `with locked_grant as (select id from grants where id = $1 for share),
rotated as (
  update refresh_tokens set rotated_at = $2::bigint
  where digest = $3 and rotated_at is null and revoked_at is null and (select count(*) from locked_grant) >= 0
  returning $1::text as id
),
${grantTokenInserts('rotated', 4)}
select count(*)::int as rotated from rotated`;

export function refreshTokenRepository(db: PgDb): RefreshTokenRepository {
  // Prepared: every refresh reads its token and grant.
  const find = db
    .select()
    .from(refreshTokens)
    .innerJoin(grants, eq(grants.id, refreshTokens.grantId))
    .where(eq(refreshTokens.digest, sql.placeholder('d')))
    .prepare('tessera_refresh_token_with_grant');
  return {
    async find(digest) {
      const [row] = await find.execute({ d: digest });
      return row && { token: row.refresh_tokens, grant: row.grants };
    },
    async rotate(digest, now, next, accessToken) {
      const { rows } = await db.$client.query<{ rotated: number }>({
        name: 'tessera_refresh_token_rotate',
        text: ROTATE,
        values: [next.grantId, now, digest, ...grantTokenValues(next, accessToken)],
      });
      return rows[0]!.rotated === 1;
    },
    async revokeGrant(grantId, now) {
      return db.transaction(async (tx) => {
        // Locks the grant even when it was revoked already: its tokens are revoked below either way, as on SQLite.
        await tx.select({ id: grants.id }).from(grants).where(eq(grants.id, grantId)).for('update');
        await tx
          .update(grants)
          .set({ revokedAt: now })
          .where(and(eq(grants.id, grantId), isNull(grants.revokedAt)));
        return revokeTokensOf(tx, [grantId], now);
      });
    },
    async revokeSessionGrants(sessionId, now) {
      return revokeUnrevoked(db, and(eq(grants.sessionId, sessionId), eq(grants.offline, false)), now);
    },
    async revokeUserGrants(userId, now, except) {
      return revokeUnrevoked(db, and(eq(grants.userId, userId), except && ne(grants.sessionId, except.sessionId)), now);
    },
  };
}
