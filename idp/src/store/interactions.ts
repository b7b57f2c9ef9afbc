/** Pending authorization requests waiting at the sign-in or consent page. */
import { eq, sql } from 'drizzle-orm';
import type { AuthorizationRequest } from '../model/authorization-request.js';
import { deleteExpiredBatch, insertInto, lookupBy, type Db } from './database.js';
import { interactions } from './schema.js';

export interface Interaction {
  id: string;
  browserDigest: string;
  csrfToken: string;
  request: AuthorizationRequest | null;
  /** The session signed in during this interaction, if any (satisfies prompt=login, max_age). */
  sessionId: string | null;
  /** For a sign-in with no app waiting: the issuer page it continues at, else the account page. */
  returnTo: string | null;
  /** The person whose password was right here, asked for their second factor before any session. */
  pendingUserId: string | null;
  createdAt: number;
  expiresAt: number;
}

type Row = typeof interactions.$inferSelect;
const toInteraction = (r: Row): Interaction => ({ ...r, request: (r.request ?? null) as AuthorizationRequest | null });

export interface InteractionRepository {
  create(i: Interaction): Promise<Interaction>;
  /** An unexpired interaction, or undefined. */
  find(id: string, now: number): Promise<Interaction | undefined>;
  setSession(id: string, sessionId: string): Promise<void>;
  /** Records whose password was right, until their second factor is given (or the interaction ends). */
  setPendingUser(id: string, userId: string): Promise<void>;
  /** Deletes it; true for exactly one caller (single use). */
  consume(id: string): Promise<boolean>;
  /** Deletes up to `limit` interactions that expired before `now`; returns how many. */
  deleteExpired(now: number, limit: number): Promise<number>;
}

export function interactionRepository(db: Db): InteractionRepository {
  // Prepared once: every sign-in and consent runs these.
  const byId = lookupBy(db, interactions, interactions.id);
  const insert = insertInto(db, interactions);
  const setSession = db
    .update(interactions)
    .set({ sessionId: sql`${sql.placeholder('sessionId')}` })
    .where(eq(interactions.id, sql.placeholder('id')))
    .prepare();
  const remove = db
    .delete(interactions)
    .where(eq(interactions.id, sql.placeholder('id')))
    .prepare();
  const removeExpired = deleteExpiredBatch(db, interactions, interactions.id, interactions.expiresAt);
  return {
    async create(i) {
      insert(i);
      return i;
    },
    async find(id, now) {
      const row = byId(id);
      return row && row.expiresAt > now ? toInteraction(row) : undefined;
    },
    async setSession(id, sessionId) {
      setSession.run({ id, sessionId });
    },
    async setPendingUser(id, userId) {
      db.update(interactions).set({ pendingUserId: userId }).where(eq(interactions.id, id)).run();
    },
    async consume(id) {
      return remove.run({ id }).changes === 1;
    },
    async deleteExpired(now, limit) {
      return removeExpired(now, limit);
    },
  };
}
