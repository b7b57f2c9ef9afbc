/**
 * Authorization codes, the grants redeemed from them and the access tokens issued under each grant,
 * on PostgreSQL: the contract of ../grants.ts. A code is consumed by `UPDATE … WHERE consumed_at IS
 * NULL`: under READ COMMITTED a concurrent redemption on any node waits for the row lock, then
 * re-reads the row, finds it consumed and updates nothing, so exactly one wins.
 */
import { and, eq, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { GrantRepository } from '../grants.js';
import type { PgDb } from './db.js';
import { deleteBatchWhere, deleteExpiredBatch, deleteInTurn, insertSelectColumns, lookupBy } from './queries.js';
import { accessTokens, authorizationCodes, deviceAuthorizations, grants, ssoSessions } from './schema.js';
import {
  grantTokenInserts,
  grantTokenValues,
  insertAccessToken,
  insertRefreshToken,
  touchStatusLists,
} from './token-writes.js';

/** A grant no longer needed by anything (../grants.ts says why each condition). */
const grantLeftBehind = sql`not exists (select 1 from ${accessTokens} where ${accessTokens.grantId} = ${grants.id})
  and not exists (select 1 from ${ssoSessions} where ${ssoSessions.id} = ${grants.sessionId})`;

const GRANT_COLUMNS = insertSelectColumns(grants);

/**
 * A code's redemption in one statement: one round trip and one commit, where a transaction of
 * four statements took six round trips. The conditional update is the arbiter; the grant and its
 * tokens are inserted only when it consumed the code, so the grant commits with the consumption.
 * The grant's columns come from the schema, so one added there is written here too.
 */
const REDEEM_CODE = `with consumed as (
  update authorization_codes set consumed_at = $2::bigint where digest = $1 and consumed_at is null returning digest
),
granted as (
  insert into grants (${GRANT_COLUMNS.names})
  select ${GRANT_COLUMNS.select(3)} from consumed
  returning id
),
${grantTokenInserts('granted', 3 + GRANT_COLUMNS.count)}
select count(*)::int as redeemed from consumed`;

export function grantRepository(db: PgDb): GrantRepository {
  // Prepared: every code redemption and every userinfo or introspection request runs one of these.
  const findCode = lookupBy(db, 'tessera_authorization_codes_by_digest', authorizationCodes, authorizationCodes.digest);
  const tokenState = db
    .select({ grantId: accessTokens.grantId, revokedAt: accessTokens.revokedAt, grantRevokedAt: grants.revokedAt })
    .from(accessTokens)
    .leftJoin(grants, eq(grants.id, accessTokens.grantId))
    .where(eq(accessTokens.jti, sql.placeholder('jti')))
    .prepare('tessera_access_token_state');
  const removeExpiredCodes = deleteExpiredBatch(
    db,
    authorizationCodes,
    authorizationCodes.digest,
    authorizationCodes.expiresAt,
  );
  const removeExpiredAccessTokens = deleteExpiredBatch(db, accessTokens, accessTokens.jti, accessTokens.expiresAt);
  // One statement per way a grant ends, each through its own partial index.
  const spent = (way: SQL | undefined, limit: number) =>
    deleteBatchWhere(db, grants, grants.id, and(way, grantLeftBehind)!, limit);
  return {
    async createCode(code) {
      await db.insert(authorizationCodes).values(code);
    },
    async findCode(digest) {
      return findCode(digest);
    },
    async redeemCode(digest, now, grant, issued) {
      const { rows } = await db.$client.query<{ redeemed: number }>({
        name: 'tessera_authorization_code_redeem',
        text: REDEEM_CODE,
        values: [
          digest,
          now,
          ...GRANT_COLUMNS.values(grant),
          ...grantTokenValues(issued.refreshToken, issued.accessToken),
        ],
      });
      return rows[0]!.redeemed === 1;
    },
    async redeemDeviceCode(digest, grant, issued) {
      // As redeemCode: the conditional update is the arbiter of two polls on any nodes.
      return db.transaction(async (tx) => {
        const [authorization] = await tx
          .update(deviceAuthorizations)
          .set({ status: 'redeemed' })
          .where(and(eq(deviceAuthorizations.digest, digest), eq(deviceAuthorizations.status, 'approved')))
          .returning();
        if (!authorization) return undefined;
        const g = grant(authorization);
        await tx.insert(grants).values(g);
        if (issued.refreshToken) await insertRefreshToken(tx, issued.refreshToken);
        await insertAccessToken(tx, { grantId: g.id, clientId: null }, issued.accessToken);
        return authorization;
      });
    },
    async revokeByCode(codeDigest, now) {
      return db.transaction(async (tx) => {
        // The conditional update is the arbiter and locks the grants it revokes: a rotation under
        // one of them (which locks its grant first, refresh-tokens.ts) has either committed, and its
        // access token is revoked below, or waits and writes under a revoked grant, whose tokens
        // are refused at use, as when it runs after this on SQLite.
        const revoked = await tx
          .update(grants)
          .set({ revokedAt: now })
          .where(and(eq(grants.codeDigest, codeDigest), isNull(grants.revokedAt)))
          .returning({ id: grants.id });
        for (const g of revoked) {
          const tokens = await tx
            .update(accessTokens)
            .set({ revokedAt: now })
            .where(and(eq(accessTokens.grantId, g.id), isNull(accessTokens.revokedAt)))
            .returning({ list: accessTokens.statusList });
          // Their bits flip in the published status lists (draft-ietf-oauth-status-list-21 §8.3).
          await touchStatusLists(
            tx,
            tokens.map((t) => t.list),
            now,
          );
        }
        return revoked.length;
      });
    },
    async recordClientAccessToken(clientId, token) {
      await insertAccessToken(db, { grantId: null, clientId }, token);
    },
    async recordExchangedAccessToken(grantId, token) {
      return db.transaction(async (tx) => {
        // FOR SHARE waits for a revocation of the grant in flight (it locks the grant FOR UPDATE,
        // refresh-tokens.ts), whose update of the grant's tokens then runs after this commits and
        // sees the new row; a revocation that committed first is read here.
        const [grant] = await tx
          .select({ revokedAt: grants.revokedAt })
          .from(grants)
          .where(eq(grants.id, grantId))
          .for('share');
        if (grant === undefined || grant.revokedAt !== null) return false;
        await insertAccessToken(tx, { grantId, clientId: null }, token);
        return true;
      });
    },
    async activeGrantOfAccessToken(jti) {
      const [row] = await tokenState.execute({ jti });
      return row?.grantId != null && row.revokedAt === null && row.grantRevokedAt === null ? row.grantId : undefined;
    },
    async isAccessTokenActive(jti) {
      const [row] = await tokenState.execute({ jti });
      return row !== undefined && row.revokedAt === null && row.grantRevokedAt === null;
    },
    async revokeAccessToken(jti, now) {
      const r = await db
        .update(accessTokens)
        .set({ revokedAt: now })
        .where(and(eq(accessTokens.jti, jti), isNull(accessTokens.revokedAt)));
      return r.rowCount === 1;
    },
    async clientIdsForSession(sessionId) {
      const rows = await db
        .selectDistinct({ clientId: grants.clientId })
        .from(grants)
        .where(eq(grants.sessionId, sessionId));
      return rows.map((r) => r.clientId);
    },
    async deleteExpiredCodes(before, limit) {
      return removeExpiredCodes(before, limit);
    },
    async deleteExpiredAccessTokens(before, limit) {
      return removeExpiredAccessTokens(before, limit);
    },
    async deleteSpentGrants({ endedBefore, issuedBefore }, limit) {
      return deleteInTurn(limit, [
        (n) => spent(lt(grants.revokedAt, endedBefore), n),
        (n) => spent(lt(grants.expiresAt, endedBefore), n),
        (n) => spent(and(isNull(grants.expiresAt), lt(grants.createdAt, issuedBefore)), n),
      ]);
    },
  };
}
