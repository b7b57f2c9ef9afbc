/**
 * Scopes a person has allowed a client, remembered so they are asked once (third-party clients);
 * a row is also the person's FedCM connection to a client of either party (`approved_clients`).
 */
import { and, asc, eq } from 'drizzle-orm';
import { transaction, type Db } from './database.js';
import { consents } from './schema.js';

export interface ConsentRepository {
  grantedScopes(userId: string, clientId: string): Promise<string[]>;
  /** Adds scopes to what the person has allowed this client. */
  remember(userId: string, clientId: string, scopes: string[], now: number): Promise<void>;
  /**
   * The clients the person has a consent row for, by id: FedCM's `approved_clients` (the row is
   * also the FedCM connection, written for first-party clients too).
   */
  clientIdsForUser(userId: string): Promise<string[]>;
  /** Forgets what the person allowed this client (a FedCM disconnect); true if there was a row. */
  forget(userId: string, clientId: string): Promise<boolean>;
}

export function consentRepository(db: Db): ConsentRepository {
  const find = (userId: string, clientId: string) =>
    db
      .select()
      .from(consents)
      .where(and(eq(consents.userId, userId), eq(consents.clientId, clientId)))
      .get();
  return {
    async grantedScopes(userId, clientId) {
      return find(userId, clientId)?.scopes ?? [];
    },
    async clientIdsForUser(userId) {
      return db
        .select({ clientId: consents.clientId })
        .from(consents)
        .where(eq(consents.userId, userId))
        .orderBy(asc(consents.clientId))
        .all()
        .map((r) => r.clientId);
    },
    async forget(userId, clientId) {
      const r = db
        .delete(consents)
        .where(and(eq(consents.userId, userId), eq(consents.clientId, clientId)))
        .run();
      return r.changes === 1;
    },
    async remember(userId, clientId, scopes, now) {
      // Read, merge, write: IMMEDIATE takes the write lock before the read (see database.ts).
      transaction(
        db,
        (tx) => {
          const existing = tx
            .select()
            .from(consents)
            .where(and(eq(consents.userId, userId), eq(consents.clientId, clientId)))
            .get();
          const merged = [...new Set([...(existing?.scopes ?? []), ...scopes])];
          tx.insert(consents)
            .values({ userId, clientId, scopes: merged, updatedAt: now })
            .onConflictDoUpdate({
              target: [consents.userId, consents.clientId],
              set: { scopes: merged, updatedAt: now },
            })
            .run();
        },
        { behavior: 'immediate' },
      );
    },
  };
}
