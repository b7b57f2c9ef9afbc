/**
 * Authorization codes, the grants redeemed from them, and the access tokens issued under each
 * grant. A code is consumed atomically (`UPDATE … WHERE consumed_at IS NULL RETURNING`), so of
 * two concurrent redemptions exactly one wins.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { accessTokens, authorizationCodes, grants } from './schema.js';
import { touchStatusLists, type StatusListPosition } from './status-lists.js';

export type AuthorizationCode = typeof authorizationCodes.$inferSelect;
export type Grant = typeof grants.$inferSelect;

export interface GrantRepository {
  createCode(code: AuthorizationCode): Promise<void>;
  findCode(digest: string): Promise<AuthorizationCode | undefined>;
  /**
   * Marks the code used and records the grant redeemed from it, in one transaction; returns
   * the code only to the one caller that consumed it. Recording the grant before any token is
   * signed means a concurrent replay always finds it to revoke.
   */
  redeemCode(digest: string, now: number, grant: (code: AuthorizationCode) => Grant): Promise<AuthorizationCode | undefined>;
  /** Records an access token issued under a grant, with where its status lives (draft-ietf-oauth-status-list-21 §6.2). */
  recordAccessToken(grantId: string, jti: string, expiresAt: number, status?: StatusListPosition): Promise<void>;
  /** Revokes every grant redeemed from this code and their access tokens (RFC 6749 §4.1.2). */
  revokeByCode(codeDigest: string, now: number): Promise<number>;
  /** True when the access token was issued by us and neither it nor its grant is revoked. */
  isAccessTokenActive(jti: string): Promise<boolean>;
  /** Marks one access token revoked; true if it was active. */
  revokeAccessToken(jti: string, now: number): Promise<boolean>;
  /** Ids of clients that received tokens in a session (for back-channel logout). */
  clientIdsForSession(sessionId: string): Promise<string[]>;
}

export function grantRepository(db: Db): GrantRepository {
  const findCode = db.select().from(authorizationCodes).where(eq(authorizationCodes.digest, sql.placeholder('d'))).prepare();
  const consume = db
    .update(authorizationCodes)
    .set({ consumedAt: sql`${sql.placeholder('now')}` })
    .where(and(eq(authorizationCodes.digest, sql.placeholder('d')), isNull(authorizationCodes.consumedAt)))
    .returning()
    .prepare();
  const tokenState = db
    .select({ revokedAt: accessTokens.revokedAt, grantRevokedAt: grants.revokedAt })
    .from(accessTokens)
    .innerJoin(grants, eq(grants.id, accessTokens.grantId))
    .where(eq(accessTokens.jti, sql.placeholder('jti')))
    .prepare();
  return {
    async createCode(code) {
      db.insert(authorizationCodes).values(code).run();
    },
    async findCode(digest) {
      return findCode.get({ d: digest });
    },
    async redeemCode(digest, now, grant) {
      return db.transaction((tx) => {
        const code = consume.get({ d: digest, now });
        if (code) tx.insert(grants).values(grant(code)).run();
        return code;
      });
    },
    async recordAccessToken(grantId, jti, expiresAt, status) {
      db.insert(accessTokens).values({ jti, grantId, expiresAt, statusList: status?.list ?? null, statusIndex: status?.index ?? null }).run();
    },
    async revokeByCode(codeDigest, now) {
      return db.transaction((tx) => {
        const revoked = tx
          .update(grants)
          .set({ revokedAt: now })
          .where(and(eq(grants.codeDigest, codeDigest), isNull(grants.revokedAt)))
          .returning({ id: grants.id })
          .all();
        for (const g of revoked) {
          const tokens = tx
            .update(accessTokens)
            .set({ revokedAt: now })
            .where(and(eq(accessTokens.grantId, g.id), isNull(accessTokens.revokedAt)))
            .returning({ list: accessTokens.statusList })
            .all();
          // Their bits flip in the published status lists (draft-ietf-oauth-status-list-21 §8.3).
          touchStatusLists(tx, tokens.map((t) => t.list), now);
        }
        return revoked.length;
      });
    },
    async isAccessTokenActive(jti) {
      const row = tokenState.get({ jti });
      return row !== undefined && row.revokedAt === null && row.grantRevokedAt === null;
    },
    async revokeAccessToken(jti, now) {
      return db.update(accessTokens).set({ revokedAt: now }).where(and(eq(accessTokens.jti, jti), isNull(accessTokens.revokedAt))).run().changes === 1;
    },
    async clientIdsForSession(sessionId) {
      return db
        .selectDistinct({ clientId: grants.clientId })
        .from(grants)
        .where(eq(grants.sessionId, sessionId))
        .all()
        .map((r) => r.clientId);
    },
  };
}
