/** Pending authorization requests on PostgreSQL: the contract of ../interactions.ts. */
import { eq } from 'drizzle-orm';
import type { AuthorizationRequest } from '../../model/authorization-request.js';
import type { Interaction, InteractionRepository } from '../interactions.js';
import type { PgDb } from './db.js';
import { deleteExpiredBatch, lookupBy } from './queries.js';
import { interactions } from './schema.js';

type Row = typeof interactions.$inferSelect;
const toInteraction = (r: Row): Interaction => ({ ...r, request: (r.request ?? null) as AuthorizationRequest | null });

export function interactionRepository(db: PgDb): InteractionRepository {
  // Prepared: every sign-in and consent page reads its interaction.
  const byId = lookupBy(db, 'tessera_interactions_by_id', interactions, interactions.id);
  const removeExpired = deleteExpiredBatch(db, interactions, interactions.id, interactions.expiresAt);
  return {
    async create(i) {
      await db.insert(interactions).values(i);
      return i;
    },
    async find(id, now) {
      const row = await byId(id);
      return row && row.expiresAt > now ? toInteraction(row) : undefined;
    },
    async setSession(id, sessionId) {
      await db.update(interactions).set({ sessionId }).where(eq(interactions.id, id));
    },
    async setPendingUser(id, userId) {
      await db.update(interactions).set({ pendingUserId: userId }).where(eq(interactions.id, id));
    },
    async consume(id) {
      // The delete is the arbiter: a concurrent one waits for the row and then finds it gone.
      const r = await db.delete(interactions).where(eq(interactions.id, id));
      return r.rowCount === 1;
    },
    async deleteExpired(now, limit) {
      return removeExpired(now, limit);
    },
  };
}
