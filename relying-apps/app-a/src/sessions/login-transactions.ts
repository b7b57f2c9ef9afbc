/**
 * Login transactions: what `/login` must remember until the browser comes back to `/callback`
 * (state, nonce, PKCE verifier). Kept server-side; the browser holds only a random key in a
 * short-lived cookie, which also binds the response to the browser that started the request
 * (RFC 9700 §4.7.1: CSRF protection with state bound to the user agent). App A keeps them in its
 * database, as its sessions, so a sign-in under way survives a restart and may end at another
 * process; this in-memory store is for tests.
 */
import type { Clock, LoginTransaction, LoginTransactionStore } from '@tessera/shared';
import { randomSecret, secretDigest } from '@tessera/shared/node';

export type { LoginTransaction, LoginTransactionStore } from '@tessera/shared';

export interface MemoryLoginTransactionStoreOptions {
  clock: Clock;
  /** How long a sign-in may take, in seconds (default 600, as the issuer's interaction). */
  ttlSec?: number;
  /** Most transactions kept (default 10 000): a flood of `/login` requests cannot exhaust memory. */
  maxEntries?: number;
}

export function createMemoryLoginTransactionStore(options: MemoryLoginTransactionStoreOptions): LoginTransactionStore {
  const { clock } = options;
  const ttlMs = (options.ttlSec ?? 600) * 1000;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, LoginTransaction & { expiresAt: number }>();
  return {
    async save(transaction) {
      if (entries.size >= maxEntries) {
        const now = clock.now();
        for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
        while (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      }
      const key = randomSecret();
      entries.set(secretDigest(key), { ...transaction, expiresAt: clock.now() + ttlMs });
      return key;
    },
    async take(key) {
      const hashed = secretDigest(key);
      const entry = entries.get(hashed);
      if (entry === undefined) return undefined;
      entries.delete(hashed);
      if (entry.expiresAt <= clock.now()) return undefined;
      const { expiresAt: _, ...transaction } = entry;
      return transaction;
    },
  };
}
