/**
 * App A's own sessions: after the code exchange the browser holds only an opaque random id in a
 * cookie; everything about the person stays server-side. App A keeps them in its database (the
 * kit's @tessera/shared/store, opened by openApp); this in-memory store is for tests.
 */
import type { AppSession, Clock, SessionStore } from '@tessera/shared';
import { randomSecret, secretDigest } from '@tessera/shared/node';

export type { AppSession, NewSession, SessionStore } from '@tessera/shared';

export interface MemorySessionStoreOptions {
  clock: Clock;
  /** Lifetime of a session, in seconds (default 8 hours). */
  ttlSec?: number;
  /** Most sessions kept (default 100 000); when full, expired ones go first, then the oldest. */
  maxEntries?: number;
}

/** An in-process {@link SessionStore}: a Map keyed by the SHA-256 of the cookie value, with expiry. */
export function createMemorySessionStore(options: MemorySessionStoreOptions): SessionStore {
  const { clock } = options;
  const ttlMs = (options.ttlSec ?? 8 * 3600) * 1000;
  const maxEntries = options.maxEntries ?? 100_000;
  const sessions = new Map<string, AppSession>();
  // Back-channel logout names sessions by sid or sub: indexes keep that from being a full scan.
  const bySid = new Map<string, Set<string>>();
  const bySub = new Map<string, Set<string>>();

  const index = (map: Map<string, Set<string>>, key: string, id: string) => {
    let set = map.get(key);
    if (set === undefined) {
      set = new Set();
      map.set(key, set);
    }
    set.add(id);
  };
  const unindex = (map: Map<string, Set<string>>, key: string, id: string) => {
    const set = map.get(key);
    set?.delete(id);
    if (set?.size === 0) map.delete(key);
  };
  const remove = (key: string): boolean => {
    const session = sessions.get(key);
    if (session === undefined) return false;
    sessions.delete(key);
    if (session.sid !== undefined) unindex(bySid, session.sid, key);
    unindex(bySub, session.sub, key);
    return true;
  };
  const makeRoom = () => {
    if (sessions.size < maxEntries) return;
    const now = clock.now();
    for (const [key, session] of sessions) if (session.expiresAt <= now) remove(key);
    // Map iteration is insertion order: the oldest go first.
    for (const key of sessions.keys()) {
      if (sessions.size < maxEntries) break;
      remove(key);
    }
  };

  return {
    async create(input) {
      makeRoom();
      const id = randomSecret();
      const key = secretDigest(id);
      const now = clock.now();
      sessions.set(key, { ...input, csrfToken: randomSecret(), createdAt: now, expiresAt: now + ttlMs });
      if (input.sid !== undefined) index(bySid, input.sid, key);
      index(bySub, input.sub, key);
      return id;
    },
    async find(id) {
      const key = secretDigest(id);
      const session = sessions.get(key);
      if (session === undefined) return undefined;
      if (session.expiresAt <= clock.now()) {
        remove(key);
        return undefined;
      }
      return session;
    },
    async destroy(id) {
      remove(secretDigest(id));
    },
    async endByIssuerSession(sid, sub) {
      let ended = 0;
      for (const key of [...(bySid.get(sid) ?? [])]) {
        if (sub !== undefined && sessions.get(key)?.sub !== sub) continue;
        if (remove(key)) ended++;
      }
      return ended;
    },
    async endBySubject(sub) {
      let ended = 0;
      for (const key of [...(bySub.get(sub) ?? [])]) if (remove(key)) ended++;
      return ended;
    },
  };
}
