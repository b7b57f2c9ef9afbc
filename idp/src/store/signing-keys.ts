/** Signing keys as stored: public JWK in clear, private JWK encrypted with the KEK. */
import { eq, ne } from 'drizzle-orm';
import type { Db } from './database.js';
import { signingKeys } from './schema.js';

export type StoredSigningKey = typeof signingKeys.$inferSelect;

export interface SigningKeyRepository {
  /** Every key still published (not removed), newest first. */
  listPublished(): Promise<StoredSigningKey[]>;
  create(key: StoredSigningKey): Promise<void>;
  setState(kid: string, state: string, at: { activatedAt?: number; retiredAt?: number }): Promise<void>;
  remove(kid: string): Promise<void>;
}

export function signingKeyRepository(db: Db): SigningKeyRepository {
  return {
    async listPublished() {
      return db.select().from(signingKeys).where(ne(signingKeys.state, 'removed')).all().sort((a, b) => b.createdAt - a.createdAt);
    },
    async create(key) {
      db.insert(signingKeys).values(key).run();
    },
    async setState(kid, state, at) {
      db.update(signingKeys).set({ state, ...at }).where(eq(signingKeys.kid, kid)).run();
    },
    async remove(kid) {
      db.delete(signingKeys).where(eq(signingKeys.kid, kid)).run();
    },
  };
}
