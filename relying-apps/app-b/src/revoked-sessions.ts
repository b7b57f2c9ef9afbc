/**
 * Sessions the issuer has told us are over (back-channel logout). App B's API is stateless: it
 * verifies access tokens by signature alone, so a token of an ended session would stay valid
 * until it expires. Remembering the ended `sid` for as long as such a token can live bridges that
 * gap; after the window, every token of the session has expired anyway. App B keeps them in its
 * database (the kit's @tessera/shared/store, opened by openApp), so a restart does not forget an
 * ended session and every process of app B refuses it; this in-memory version is for tests.
 */
import type { Clock, RevokedSessions } from '@tessera/shared';

export type { RevokedSessions } from '@tessera/shared';

export interface MemoryRevokedSessionsOptions {
  clock: Clock;
  /** How long an entry is kept, in seconds: at least the longest access-token lifetime. */
  windowSec: number;
  /** Most entries kept (default 100 000); when full, expired ones go first, then the oldest. */
  maxEntries?: number;
}

export function createMemoryRevokedSessions(options: MemoryRevokedSessionsOptions): RevokedSessions {
  const { clock } = options;
  const windowMs = options.windowSec * 1000;
  const maxEntries = options.maxEntries ?? 100_000;
  /** Keys `sid:<sid>` and `sub:<sub>` → when the entry was made and when it may be forgotten (epoch ms). */
  const entries = new Map<string, { at: number; until: number }>();

  const remember = (key: string) => {
    const now = clock.now();
    if (entries.size >= maxEntries) {
      for (const [k, entry] of entries) if (entry.until <= now) entries.delete(k);
      while (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
    }
    entries.delete(key); // re-inserted last: Map order stays oldest first
    entries.set(key, { at: now, until: now + windowMs });
  };
  const lookup = (key: string) => {
    const entry = entries.get(key);
    if (entry !== undefined && entry.until <= clock.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  return {
    revokeSession: async (sid) => remember(`sid:${sid}`),
    revokeSubject: async (sub) => remember(`sub:${sub}`),
    async isRevoked(claims) {
      if (claims.sid !== undefined && lookup(`sid:${claims.sid}`) !== undefined) return true;
      // A new sign-in after the logout gets tokens issued later: those stay good.
      const subject = lookup(`sub:${claims.sub}`);
      return subject !== undefined && claims.iat * 1000 <= subject.at;
    },
  };
}
