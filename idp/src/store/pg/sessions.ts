/** SSO sessions on PostgreSQL: the same contract as ../sessions.ts (found by the cookie secret's digest). */
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import type { SessionRepository, SsoSession } from '../sessions.js';
import type { PgDb } from './db.js';
import { deleteBatchWhere, deleteInTurn, lookupBy } from './queries.js';
import { ssoSessions } from './schema.js';

type Row = typeof ssoSessions.$inferSelect;
const toSession = ({ secretDigest: _secret, fedcmDigest: _fedcm, ...rest }: Row): SsoSession => rest;

export function sessionRepository(db: PgDb): SessionRepository {
  // Prepared: every authorization request reads its session by the cookie and records activity.
  const bySecret = lookupBy(db, 'tessera_sso_sessions_by_secret', ssoSessions, ssoSessions.secretDigest);
  const byFedcm = lookupBy(db, 'tessera_sso_sessions_by_fedcm', ssoSessions, ssoSessions.fedcmDigest);
  const byId = lookupBy(db, 'tessera_sso_sessions_by_id', ssoSessions, ssoSessions.id);
  const touch = db
    .update(ssoSessions)
    .set({ lastSeenAt: sql`${sql.placeholder('now')}` })
    .where(eq(ssoSessions.id, sql.placeholder('id')))
    .prepare('tessera_sso_sessions_touch');
  return {
    async create(s) {
      const row = { ...s, endedAt: null };
      await db.insert(ssoSessions).values(row);
      return toSession(row);
    },
    async findBySecretDigest(secretDigest) {
      const row = await bySecret(secretDigest);
      return row && toSession(row);
    },
    async findByFedcmDigest(fedcmDigest) {
      const row = await byFedcm(fedcmDigest);
      return row && toSession(row);
    },
    async findById(id) {
      const row = await byId(id);
      return row && toSession(row);
    },
    async touch(id, now) {
      await touch.execute({ id, now });
    },
    async reauthenticate(id, { secretDigest, fedcmDigest, authTime, amr, expiresAt }) {
      await db
        .update(ssoSessions)
        .set({ secretDigest, fedcmDigest, authTime, amr, lastSeenAt: authTime, expiresAt })
        .where(eq(ssoSessions.id, id));
    },
    async end(id, now) {
      // The condition is the arbiter: of two nodes ending the session at once, one is told it was active.
      const r = await db
        .update(ssoSessions)
        .set({ endedAt: now })
        .where(and(eq(ssoSessions.id, id), isNull(ssoSessions.endedAt)));
      return r.rowCount === 1;
    },
    async listActiveForUser(userId) {
      const rows = await db
        .select()
        .from(ssoSessions)
        .where(and(eq(ssoSessions.userId, userId), isNull(ssoSessions.endedAt)));
      return rows.map(toSession);
    },
    async deleteFinished(before, limit) {
      const { id, endedAt, expiresAt } = ssoSessions;
      return deleteInTurn(limit, [
        (n) => deleteBatchWhere(db, ssoSessions, id, lt(endedAt, before), n),
        (n) => deleteBatchWhere(db, ssoSessions, id, lt(expiresAt, before), n),
      ]);
    },
  };
}
