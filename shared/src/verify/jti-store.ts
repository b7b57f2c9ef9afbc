/**
 * Remembers the `jti` of single-use tokens (back-channel logout tokens) until they expire, so a
 * captured token cannot be replayed (OIDC Back-Channel Logout 1.0 §2.6, RFC 7519 §4.1.7).
 */

/** Where used `jti` values are recorded; implement it over Redis, a database… to share it between instances. */
export interface JtiStore {
  /**
   * Records `jti` as used until `expiresAtSec` (epoch seconds). Resolves `true` when it was not
   * recorded yet (first use), `false` when it was (a replay). Must be atomic: of two concurrent
   * calls with the same `jti`, exactly one gets `true` (a Redis `SET NX EX`, an `INSERT` on a key).
   */
  consume(jti: string, expiresAtSec: number): boolean | Promise<boolean>;
  /**
   * Forgets a `jti` consumed by a request that then failed to act on it: the issuer sends the same
   * logout token again (at-least-once delivery), which must then be taken, not refused as a replay.
   * Optional: a store without it refuses such a retry, and the logout is lost.
   */
  release?(jti: string): void | Promise<void>;
}

/** Tuning of {@link createMemoryJtiStore}. */
export interface MemoryJtiStoreOptions {
  /**
   * Most entries kept (default 10 000). When full, expired entries go first, then the oldest:
   * memory stays bounded, at the price of forgetting the oldest unexpired `jti`s under a flood.
   */
  maxEntries?: number;
  /**
   * Longest an entry is kept, in seconds, whatever the token's `exp` (default 86 400): a logout
   * token lives minutes; a longer `exp` is the issuer's mistake and must not pin memory.
   */
  ttlSec?: number;
  /** The clock, in milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
}

/**
 * An in-process {@link JtiStore}, enough for one instance of a relying party.
 *
 * @example
 * ```ts
 * const jtiStore = createMemoryJtiStore();
 * await verifyLogoutToken(token, { issuer, audience: 'app-a', keySet, jtiStore });
 * ```
 */
export function createMemoryJtiStore(options: MemoryJtiStoreOptions = {}): JtiStore {
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
  const ttlSec = options.ttlSec ?? 86_400;
  if (typeof ttlSec !== 'number' || !Number.isFinite(ttlSec) || ttlSec <= 0)
    throw new TypeError('ttlSec must be a positive number');
  const now = options.now ?? Date.now;
  /** jti → epoch ms after which it may be forgotten; Map keeps insertion order, oldest first. */
  const entries = new Map<string, number>();

  const sweep = (at: number): void => {
    for (const [jti, until] of entries) if (until <= at) entries.delete(jti);
  };

  return {
    consume(jti: string, expiresAtSec: number): boolean {
      const at = now();
      const seen = entries.get(jti);
      if (seen !== undefined && seen > at) return false;
      if (seen !== undefined) entries.delete(jti);
      if (entries.size >= maxEntries) {
        sweep(at);
        while (entries.size >= maxEntries) {
          const oldest = entries.keys().next();
          if (oldest.done === true) break;
          entries.delete(oldest.value);
        }
      }
      entries.set(jti, Math.min(expiresAtSec * 1000, at + ttlSec * 1000));
      return true;
    },
    release(jti: string): void {
      entries.delete(jti);
    },
  };
}
