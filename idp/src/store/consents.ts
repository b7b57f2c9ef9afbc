/** Scopes a person has allowed a third-party client, remembered so they are asked once. */
import { and, eq } from 'drizzle-orm';
import type { Db } from './database.js';
import { consents } from './schema.js';

export interface ConsentRepository {
  grantedScopes(userId: string, clientId: string): Promise<string[]>;
  /** Adds scopes to what the person has allowed this client. */
  remember(userId: string, clientId: string, scopes: string[], now: number): Promise<void>;
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
    async remember(userId, clientId, scopes, now) {
      // Read, merge, write: IMMEDIATE takes the write lock before the read (see database.ts).
      db.transaction(
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
