/** SSO sessions at the issuer: found by the digest of the cookie secret, never by the secret. */
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import { deleteBatchWhere, deleteInTurn, insertInto, lookupBy, type Db } from './database.js';
import { ssoSessions } from './schema.js';

export interface SsoSession {
  /** The public id (`sid`). */
  id: string;
  userId: string;
  authTime: number;
  /** How the person signed in at authTime (RFC 8176 values). */
  amr: string[];
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  userAgent: string;
  ip: string;
  endedAt: number | null;
}

type Row = typeof ssoSessions.$inferSelect;
const toSession = ({ secretDigest: _secret, fedcmDigest: _fedcm, ...rest }: Row): SsoSession => rest;

export interface SessionRenewal {
  secretDigest: string;
  /** The digest of the FedCM cookie derived from the same secret (http/cookies.ts). */
  fedcmDigest: string;
  authTime: number;
  amr: string[];
  expiresAt: number;
}

export interface SessionRepository {
  create(s: Omit<SsoSession, 'endedAt'> & { secretDigest: string; fedcmDigest: string }): Promise<SsoSession>;
  findBySecretDigest(secretDigest: string): Promise<SsoSession | undefined>;
  /** The session whose FedCM cookie has this digest: read by the FedCM endpoints alone. */
  findByFedcmDigest(fedcmDigest: string): Promise<SsoSession | undefined>;
  findById(id: string): Promise<SsoSession | undefined>;
  /** Records activity; cheap enough to call on each authorization request. */
  touch(id: string, now: number): Promise<void>;
  /**
   * A new secret, auth_time and methods for the same session (a new sign-in or a further factor):
   * the `sid` stays, the secret does not (no fixation).
   */
  reauthenticate(id: string, renewal: SessionRenewal): Promise<void>;
  /** Ends a session; true if it was active. */
  end(id: string, now: number): Promise<boolean>;
  listActiveForUser(userId: string): Promise<SsoSession[]>;
  /** Deletes up to `limit` sessions that ended, or expired, before `before`; returns how many. */
  deleteFinished(before: number, limit: number): Promise<number>;
}

export function sessionRepository(db: Db): SessionRepository {
  const bySecret = lookupBy(db, ssoSessions, ssoSessions.secretDigest);
  const byFedcm = lookupBy(db, ssoSessions, ssoSessions.fedcmDigest);
  const byId = lookupBy(db, ssoSessions, ssoSessions.id);
  const touch = db
    .update(ssoSessions)
    .set({ lastSeenAt: sql`${sql.placeholder('now')}` })
    .where(eq(ssoSessions.id, sql.placeholder('id')))
    .prepare();
  const insert = insertInto(db, ssoSessions);
  const p = sql.placeholder;
  const reauthenticate = db
    .update(ssoSessions)
    .set({
      secretDigest: sql`${p('secretDigest')}`,
      fedcmDigest: sql`${p('fedcmDigest')}`,
      authTime: sql`${p('authTime')}`,
      amr: sql`${p('amr')}`,
      lastSeenAt: sql`${p('authTime')}`,
      expiresAt: sql`${p('expiresAt')}`,
    })
    .where(eq(ssoSessions.id, p('id')))
    .prepare();
  const removeEnded = deleteBatchWhere(db, ssoSessions, ssoSessions.id, lt(ssoSessions.endedAt, p('before')));
  const removeExpired = deleteBatchWhere(db, ssoSessions, ssoSessions.id, lt(ssoSessions.expiresAt, p('before')));
  return {
    async create(s) {
      const row = { ...s, endedAt: null };
      insert(row);
      return toSession(row);
    },
    async findBySecretDigest(secretDigest) {
      const row = bySecret(secretDigest);
      return row && toSession(row);
    },
    async findByFedcmDigest(fedcmDigest) {
      const row = byFedcm(fedcmDigest);
      return row && toSession(row);
    },
    async findById(id) {
      const row = byId(id);
      return row && toSession(row);
    },
    async touch(id, now) {
      touch.run({ id, now });
    },
    async reauthenticate(id, renewal) {
      // A raw placeholder is bound as given: the JSON column is written as its text.
      reauthenticate.run({ id, ...renewal, amr: JSON.stringify(renewal.amr) });
    },
    async end(id, now) {
      const r = db
        .update(ssoSessions)
        .set({ endedAt: now })
        .where(and(eq(ssoSessions.id, id), isNull(ssoSessions.endedAt)))
        .run();
      return r.changes === 1;
    },
    async listActiveForUser(userId) {
      return db
        .select()
        .from(ssoSessions)
        .where(and(eq(ssoSessions.userId, userId), isNull(ssoSessions.endedAt)))
        .all()
        .map(toSession);
    },
    async deleteFinished(before, limit) {
      return deleteInTurn(limit, [
        (n) => removeEnded({ before, limit: n }),
        (n) => removeExpired({ before, limit: n }),
      ]);
    },
  };
}
