/**
 * Refresh tokens and the grants they belong to. Rotation is atomic: the old token is marked
 * rotated and its successor inserted in one transaction, and only if it had not been rotated
 * already — so of two concurrent uses exactly one succeeds and the other is seen as reuse.
 */
import { and, eq, isNull, ne, sql, type SQL } from 'drizzle-orm';
import { transaction, type Db } from './database.js';
import { accessTokens, grants, refreshTokens } from './schema.js';
import type { Grant } from './grants.js';
import { prepareTokenWrites, type IssuedAccessTokenRow, type RefreshToken } from './token-writes.js';

export type { RefreshToken } from './token-writes.js';

export interface RefreshTokenRepository {
  /** The token and its grant, by digest. */
  find(digest: string): Promise<{ token: RefreshToken; grant: Grant } | undefined>;
  /**
   * Marks `digest` rotated and stores `next` with the access token issued alongside, in one
   * transaction; false (and nothing stored) when it was already rotated or revoked.
   */
  rotate(digest: string, now: number, next: RefreshToken, accessToken: IssuedAccessTokenRow): Promise<boolean>;
  /** Revokes a grant: its refresh tokens and access tokens with it. Returns the jtis revoked. */
  revokeGrant(grantId: string, now: number): Promise<string[]>;
  /** Revokes every grant tied to a session that was not granted offline access. */
  revokeSessionGrants(sessionId: string, now: number): Promise<string[]>;
  /**
   * Revokes every grant of a person, offline ones too (their account's access ended), or every one
   * but those of the session `except` names (they changed their password there).
   */
  revokeUserGrants(userId: string, now: number, except?: { sessionId: string }): Promise<string[]>;
}

/** Grants of any session but `except`'s (every grant has one: `session_id` is NOT NULL). */
const otherThan = (except: { sessionId: string } | undefined) => except && ne(grants.sessionId, except.sessionId);

export function refreshTokenRepository(db: Db): RefreshTokenRepository {
  const find = db
    .select()
    .from(refreshTokens)
    .innerJoin(grants, eq(grants.id, refreshTokens.grantId))
    .where(eq(refreshTokens.digest, sql.placeholder('d')))
    .prepare();

  const revokeGrantTx = (tx: Db, grantId: string, now: number): string[] => {
    tx.update(grants)
      .set({ revokedAt: now })
      .where(and(eq(grants.id, grantId), isNull(grants.revokedAt)))
      .run();
    tx.update(refreshTokens)
      .set({ revokedAt: now })
      .where(and(eq(refreshTokens.grantId, grantId), isNull(refreshTokens.revokedAt)))
      .run();
    return tx
      .update(accessTokens)
      .set({ revokedAt: now })
      .where(and(eq(accessTokens.grantId, grantId), isNull(accessTokens.revokedAt)))
      .returning({ jti: accessTokens.jti })
      .all()
      .map((r) => r.jti);
  };

  /** Revokes every unrevoked grant `which` selects, with their tokens; the access-token jtis revoked. */
  const revokeUnrevoked = (which: SQL | undefined, now: number): string[] =>
    // It reads the grants before it revokes them: IMMEDIATE takes the write lock first (database.ts).
    transaction(
      db,
      (tx) =>
        tx
          .select({ id: grants.id })
          .from(grants)
          .where(and(which, isNull(grants.revokedAt)))
          .all()
          .flatMap((g) => revokeGrantTx(tx, g.id, now)),
      { behavior: 'immediate' },
    );

  // Prepared once: every refresh runs these.
  const p = sql.placeholder;
  const tokens = prepareTokenWrites(db);
  const markRotated = db
    .update(refreshTokens)
    .set({ rotatedAt: sql`${p('now')}` })
    .where(and(eq(refreshTokens.digest, p('digest')), isNull(refreshTokens.rotatedAt), isNull(refreshTokens.revokedAt)))
    .prepare();
  return {
    async find(digest) {
      const row = find.get({ d: digest });
      return row && { token: row.refresh_tokens, grant: row.grants };
    },
    async rotate(digest, now, next, accessToken) {
      return transaction(db, () => {
        if (markRotated.run({ digest, now }).changes !== 1) return false;
        tokens.insertRefreshToken(next);
        tokens.insertAccessToken(next.grantId, accessToken);
        return true;
      });
    },
    async revokeGrant(grantId, now) {
      return transaction(db, (tx) => revokeGrantTx(tx, grantId, now));
    },
    async revokeSessionGrants(sessionId, now) {
      return revokeUnrevoked(and(eq(grants.sessionId, sessionId), eq(grants.offline, false)), now);
    },
    async revokeUserGrants(userId, now, except) {
      return revokeUnrevoked(and(eq(grants.userId, userId), otherThan(except)), now);
    },
  };
}
