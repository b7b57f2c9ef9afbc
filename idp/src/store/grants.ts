/**
 * Authorization codes, the grants redeemed from them, and the access tokens issued under each
 * grant. A code is consumed atomically (`UPDATE … WHERE consumed_at IS NULL RETURNING`), so of
 * two concurrent redemptions exactly one wins.
 */
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import { deleteBatchWhere, deleteExpiredBatch, deleteInTurn, lookupBy, transaction, type Db } from './database.js';
import type { DeviceAuthorization } from './device-authorizations.js';
import { accessTokens, authorizationCodes, deviceAuthorizations, grants, ssoSessions } from './schema.js';
import { touchStatusLists } from './status-lists.js';
import { prepareTokenWrites, type IssuedAccessTokenRow, type RefreshToken } from './token-writes.js';

type AuthorizationCode = typeof authorizationCodes.$inferSelect;

export type Grant = typeof grants.$inferSelect;

export interface GrantRepository {
  createCode(code: AuthorizationCode): Promise<void>;
  findCode(digest: string): Promise<AuthorizationCode | undefined>;
  /**
   * Marks the code used and records the grant redeemed from it with its first refresh and access
   * tokens, in one transaction; true only for the one caller that consumed it (a loser writes
   * nothing and sends none of the tokens it signed beforehand). The grant commits with the code's
   * consumption, so a replay that finds the code used always finds it to revoke. The caller builds
   * the grant from the code as it read it: nothing of a code changes but its consumption.
   */
  redeemCode(
    digest: string,
    now: number,
    grant: Grant,
    issued: { refreshToken?: RefreshToken; accessToken: IssuedAccessTokenRow },
  ): Promise<boolean>;
  /**
   * Marks an approved device authorization redeemed and records the grant redeemed from it with its
   * first tokens, in one transaction; returns it only to the one caller that redeemed it. The
   * grant's code digest is the device code's, so a replay of the device code revokes it, as a
   * replayed authorization code does.
   */
  redeemDeviceCode(
    digest: string,
    grant: (authorization: DeviceAuthorization) => Grant,
    issued: { refreshToken?: RefreshToken; accessToken: IssuedAccessTokenRow },
  ): Promise<DeviceAuthorization | undefined>;
  /** Revokes every grant redeemed from this code and their access tokens (RFC 6749 §4.1.2). */
  revokeByCode(codeDigest: string, now: number): Promise<number>;
  /**
   * Records an access token of the client credentials grant (RFC 6749 §4.4): it has no grant, only
   * its client, so that it can be introspected and revoked like any other.
   */
  recordClientAccessToken(clientId: string, token: IssuedAccessTokenRow): Promise<void>;
  /**
   * Records an access token exchanged for another (RFC 8693) under the grant of the token it was
   * exchanged for, so that whatever ends that grant (a logout, a refresh token's reuse) revokes it
   * too; false, recording nothing, when the grant is revoked. Holds the grant while it writes, so
   * a revocation in flight either sees the new row or runs first and is seen here.
   */
  recordExchangedAccessToken(grantId: string, token: IssuedAccessTokenRow): Promise<boolean>;
  /** The grant of an access token issued under one, while neither is revoked. */
  activeGrantOfAccessToken(jti: string): Promise<string | undefined>;
  /** True when the access token was issued by us and neither it nor its grant (if any) is revoked. */
  isAccessTokenActive(jti: string): Promise<boolean>;
  /** Marks one access token revoked; true if it was active. */
  revokeAccessToken(jti: string, now: number): Promise<boolean>;
  /** Ids of clients that received tokens in a session (for back-channel logout). */
  clientIdsForSession(sessionId: string): Promise<string[]>;
  /** Deletes up to `limit` codes that expired before `before`; returns how many. */
  deleteExpiredCodes(before: number, limit: number): Promise<number>;
  /** Deletes up to `limit` access-token rows that expired before `before`; returns how many. */
  deleteExpiredAccessTokens(before: number, limit: number): Promise<number>;
  /**
   * Deletes up to `limit` grants that are over — revoked before `endedBefore`, their refresh family
   * past its absolute end before `endedBefore`, or never refreshable and redeemed before
   * `issuedBefore` — and that nothing needs any more: no row of their access tokens is left, and
   * their SSO session's row is gone. Their refresh tokens go with them (on delete cascade).
   * Returns how many.
   */
  deleteSpentGrants(cutoffs: SpentGrantCutoffs, limit: number): Promise<number>;
}

/** The times before which a grant that ended one way or another may go (see deleteSpentGrants). */
export interface SpentGrantCutoffs {
  endedBefore: number;
  issuedBefore: number;
}

/**
 * A grant no longer needed by anything: no access token of its left to introspect or to keep its
 * status-list bit, and no session left whose logout must reach its client (clientIdsForSession).
 */
const grantLeftBehind = sql`not exists (select 1 from ${accessTokens} where ${accessTokens.grantId} = ${grants.id})
  and not exists (select 1 from ${ssoSessions} where ${ssoSessions.id} = ${grants.sessionId})`;

export function grantRepository(db: Db): GrantRepository {
  const findCode = lookupBy(db, authorizationCodes, authorizationCodes.digest);
  const consume = db
    .update(authorizationCodes)
    .set({ consumedAt: sql`${sql.placeholder('now')}` })
    .where(and(eq(authorizationCodes.digest, sql.placeholder('d')), isNull(authorizationCodes.consumedAt)))
    .prepare();
  const tokenState = db
    .select({ grantId: accessTokens.grantId, revokedAt: accessTokens.revokedAt, grantRevokedAt: grants.revokedAt })
    .from(accessTokens)
    .leftJoin(grants, eq(grants.id, accessTokens.grantId))
    .where(eq(accessTokens.jti, sql.placeholder('jti')))
    .prepare();
  // The token endpoint's writes, prepared once: a request does no work it could have done at start-up.
  const p = sql.placeholder;
  const insertCode = db
    .insert(authorizationCodes)
    .values({
      digest: p('digest'),
      clientId: p('clientId'),
      userId: p('userId'),
      sessionId: p('sessionId'),
      redirectUri: p('redirectUri'),
      scope: p('scope'),
      resource: p('resource'),
      nonce: p('nonce'),
      codeChallenge: p('codeChallenge'),
      authTime: p('authTime'),
      amr: p('amr'),
      createdAt: p('createdAt'),
      expiresAt: p('expiresAt'),
      consumedAt: p('consumedAt'),
      origin: p('origin'),
    })
    .prepare();
  const insertGrant = db
    .insert(grants)
    .values({
      id: p('id'),
      clientId: p('clientId'),
      userId: p('userId'),
      sessionId: p('sessionId'),
      codeDigest: p('codeDigest'),
      scope: p('scope'),
      resource: p('resource'),
      amr: p('amr'),
      createdAt: p('createdAt'),
      expiresAt: p('expiresAt'),
      dpopJkt: p('dpopJkt'),
      offline: p('offline'),
      revokedAt: p('revokedAt'),
    })
    .prepare();
  const tokens = prepareTokenWrites(db);
  const removeExpiredCodes = deleteExpiredBatch(
    db,
    authorizationCodes,
    authorizationCodes.digest,
    authorizationCodes.expiresAt,
  );
  const removeExpiredAccessTokens = deleteExpiredBatch(db, accessTokens, accessTokens.jti, accessTokens.expiresAt);
  // One statement per way a grant ends, each through its own partial index.
  const spent = (way: ReturnType<typeof and>) => deleteBatchWhere(db, grants, grants.id, and(way, grantLeftBehind)!);
  const removeRevoked = spent(lt(grants.revokedAt, p('endedBefore')));
  const removeExpired = spent(lt(grants.expiresAt, p('endedBefore')));
  const removeUnrefreshable = spent(and(isNull(grants.expiresAt), lt(grants.createdAt, p('issuedBefore'))));
  return {
    async createCode(code) {
      insertCode.run(code);
    },
    async findCode(digest) {
      return findCode(digest);
    },
    async redeemCode(digest, now, grant, issued) {
      // One transaction, one commit: the code consumed, the grant, its first refresh and access tokens.
      return transaction(db, () => {
        if (consume.run({ d: digest, now }).changes !== 1) return false;
        // SQLite has no boolean: the prepared statement binds what the column stores.
        insertGrant.run({ ...grant, offline: grant.offline ? 1 : 0 });
        if (issued.refreshToken) tokens.insertRefreshToken(issued.refreshToken);
        tokens.insertAccessToken(grant.id, issued.accessToken);
        return true;
      });
    },
    async redeemDeviceCode(digest, grant, issued) {
      return transaction(db, (tx) => {
        const authorization = tx
          .update(deviceAuthorizations)
          .set({ status: 'redeemed' })
          .where(and(eq(deviceAuthorizations.digest, digest), eq(deviceAuthorizations.status, 'approved')))
          .returning()
          .get();
        if (authorization) {
          const g = grant(authorization);
          insertGrant.run({ ...g, offline: g.offline ? 1 : 0 });
          if (issued.refreshToken) tokens.insertRefreshToken(issued.refreshToken);
          tokens.insertAccessToken(g.id, issued.accessToken);
        }
        return authorization;
      });
    },
    async revokeByCode(codeDigest, now) {
      return transaction(db, (tx) => {
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
          touchStatusLists(
            tx,
            tokens.map((t) => t.list),
            now,
          );
        }
        return revoked.length;
      });
    },
    async recordClientAccessToken(clientId, token) {
      tokens.insertClientAccessToken(clientId, token);
    },
    async recordExchangedAccessToken(grantId, token) {
      // One transaction: SQLite's write lock keeps any revocation out between the read and the insert.
      return transaction(db, (tx) => {
        const grant = tx.select({ revokedAt: grants.revokedAt }).from(grants).where(eq(grants.id, grantId)).get();
        if (grant === undefined || grant.revokedAt !== null) return false;
        tokens.insertAccessToken(grantId, token);
        return true;
      });
    },
    async activeGrantOfAccessToken(jti) {
      const row = tokenState.get({ jti });
      return row?.grantId != null && row.revokedAt === null && row.grantRevokedAt === null ? row.grantId : undefined;
    },
    async isAccessTokenActive(jti) {
      const row = tokenState.get({ jti });
      return row !== undefined && row.revokedAt === null && row.grantRevokedAt === null;
    },
    async revokeAccessToken(jti, now) {
      return (
        db
          .update(accessTokens)
          .set({ revokedAt: now })
          .where(and(eq(accessTokens.jti, jti), isNull(accessTokens.revokedAt)))
          .run().changes === 1
      );
    },
    async clientIdsForSession(sessionId) {
      return db
        .selectDistinct({ clientId: grants.clientId })
        .from(grants)
        .where(eq(grants.sessionId, sessionId))
        .all()
        .map((r) => r.clientId);
    },
    async deleteExpiredCodes(before, limit) {
      return removeExpiredCodes(before, limit);
    },
    async deleteExpiredAccessTokens(before, limit) {
      return removeExpiredAccessTokens(before, limit);
    },
    async deleteSpentGrants({ endedBefore, issuedBefore }, limit) {
      return deleteInTurn(limit, [
        (n) => removeRevoked({ endedBefore, limit: n }),
        (n) => removeExpired({ endedBefore, limit: n }),
        (n) => removeUnrefreshable({ issuedBefore, limit: n }),
      ]);
    },
  };
}
