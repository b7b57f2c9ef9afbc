/** Consents and FedCM connections, on PostgreSQL: the contract of ../consents.ts. */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { ConsentRepository } from '../consents.js';
import type { PgDb } from './db.js';
import { consents } from './schema.js';

export function consentRepository(db: PgDb): ConsentRepository {
  return {
    async grantedScopes(userId, clientId) {
      const [row] = await db
        .select({ scopes: consents.scopes })
        .from(consents)
        .where(and(eq(consents.userId, userId), eq(consents.clientId, clientId)))
        .limit(1);
      return row?.scopes ?? [];
    },
    async clientIdsForUser(userId) {
      const rows = await db
        .select({ clientId: consents.clientId })
        .from(consents)
        .where(eq(consents.userId, userId))
        .orderBy(asc(consents.clientId));
      return rows.map((r) => r.clientId);
    },
    async forget(userId, clientId) {
      const r = await db.delete(consents).where(and(eq(consents.userId, userId), eq(consents.clientId, clientId)));
      return r.rowCount === 1;
    },
    async remember(userId, clientId, scopes, now) {
      // SQLite reads, merges and writes under its write lock. Here the merge happens inside the
      // upsert: ON CONFLICT DO UPDATE locks the existing row and computes from its latest committed
      // version, so two nodes remembering different scopes at once both keep theirs (a read before
      // the write, under READ COMMITTED, would let the second overwrite the first). The merge keeps
      // the order SQLite's does: what was allowed first, then what is new.
      const merged = sql`(select coalesce(jsonb_agg(s order by first), '[]'::jsonb) from (
        select s, min(o) as first
        from jsonb_array_elements(${consents.scopes} || excluded.scopes) with ordinality as e(s, o)
        group by s) u)`;
      await db
        .insert(consents)
        .values({ userId, clientId, scopes: [...new Set(scopes)], updatedAt: now })
        .onConflictDoUpdate({ target: [consents.userId, consents.clientId], set: { scopes: merged, updatedAt: now } });
    },
  };
}
