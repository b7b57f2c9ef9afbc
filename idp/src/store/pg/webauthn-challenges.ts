/**
 * WebAuthn challenges on PostgreSQL: the contract of ../webauthn-challenges.ts. An answer is
 * `DELETE … WHERE …`: a concurrent answer on any node waits for the row lock, then finds the row gone.
 */
import { and, eq, gt } from 'drizzle-orm';
import type { WebAuthnChallengeRepository } from '../webauthn-challenges.js';
import type { PgDb } from './db.js';
import { deleteExpiredBatch } from './queries.js';
import { webauthnChallenges } from './schema.js';

export function webauthnChallengeRepository(db: PgDb): WebAuthnChallengeRepository {
  const t = webauthnChallenges;
  const removeExpired = deleteExpiredBatch(db, t, t.challenge, t.expiresAt);
  return {
    async create(challenge) {
      await db.insert(t).values(challenge);
    },
    async consume(challenge, ceremony, boundTo, now) {
      if (challenge.includes('\u0000') || boundTo.includes('\u0000')) return false;
      const r = await db
        .delete(t)
        .where(and(eq(t.challenge, challenge), eq(t.ceremony, ceremony), eq(t.boundTo, boundTo), gt(t.expiresAt, now)));
      return r.rowCount === 1;
    },
    async deleteExpired(before, limit) {
      return removeExpired(before, limit);
    },
  };
}
