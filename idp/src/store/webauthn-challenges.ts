/**
 * WebAuthn challenges (WebAuthn §13.4.3): issued by the server, answered once. An answer deletes
 * its row (`DELETE … WHERE challenge = ? AND ceremony = ? AND bound_to = ? AND expires_at > ?`), so
 * of any number of answers to one challenge exactly one finds it, and an answer for another
 * ceremony, interaction or session, or after expiry, finds nothing.
 */
import { and, eq, gt, sql } from 'drizzle-orm';
import { deleteExpiredBatch, insertInto, type Db } from './database.js';
import { webauthnChallenges } from './schema.js';

export type WebAuthnCeremony = 'registration' | 'authentication';

export interface WebAuthnChallenge {
  challenge: string;
  ceremony: WebAuthnCeremony;
  /** The interaction (sign-in) or session (account page) it was issued to. */
  boundTo: string;
  expiresAt: number;
}

export interface WebAuthnChallengeRepository {
  create(challenge: WebAuthnChallenge): Promise<void>;
  /** Deletes the challenge if it was issued for this ceremony and binding and is unexpired: true once. */
  consume(challenge: string, ceremony: WebAuthnCeremony, boundTo: string, now: number): Promise<boolean>;
  /** Deletes up to `limit` challenges that expired before `before`; returns how many. */
  deleteExpired(before: number, limit: number): Promise<number>;
}

export function webauthnChallengeRepository(db: Db): WebAuthnChallengeRepository {
  const t = webauthnChallenges;
  const insert = insertInto(db, t);
  const p = sql.placeholder;
  const consume = db
    .delete(t)
    .where(
      and(
        eq(t.challenge, p('challenge')),
        eq(t.ceremony, p('ceremony')),
        eq(t.boundTo, p('boundTo')),
        gt(t.expiresAt, p('now')),
      ),
    )
    .prepare();
  const removeExpired = deleteExpiredBatch(db, t, t.challenge, t.expiresAt);
  return {
    async create(challenge) {
      insert(challenge);
    },
    async consume(challenge, ceremony, boundTo, now) {
      return consume.run({ challenge, ceremony, boundTo, now }).changes === 1;
    },
    async deleteExpired(before, limit) {
      return removeExpired(before, limit);
    },
  };
}
