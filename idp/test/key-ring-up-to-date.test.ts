/**
 * KeyRing.upToDate, which the published documents await on every request: requests that ask in
 * the same turn of the event loop share one read of the store, and a request never shares a read
 * that started before it asked (a commit made before it arrived is always seen).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyRing } from '../src/keys/key-ring.js';
import { generateSigningKey } from '../src/keys/signing-key-material.js';
import { openStore } from '../src/store/index.js';
import type { SigningKeyRepository } from '../src/store/signing-keys.js';
import { dropDatabase, freshDatabase, type OpenedStore } from './support/databases.js';
import { TestClock } from './support/fixture.js';

const KEK = new Uint8Array(32).fill(7);
let database: string;
let store: OpenedStore;
let reads: number;
/** While set, each read of the store is held open until it settles, as a slow round trip would be. */
let slowStore: Promise<void> | undefined;
let ring: KeyRing;
const clock = new TestClock();

beforeEach(async () => {
  database = await freshDatabase();
  store = await openStore(database);
  reads = 0;
  const repo: SigningKeyRepository = {
    ...store.signingKeys,
    fingerprint: async () => {
      reads++;
      const fingerprint = await store.signingKeys.fingerprint();
      await slowStore;
      return fingerprint;
    },
  };
  ring = await KeyRing.open({ repo, kek: KEK, clock, algorithm: 'ES256' });
  reads = 0;
  slowStore = undefined;
});
afterEach(async () => {
  await store.close();
  await dropDatabase(database);
});

const kids = () => (JSON.parse(ring.jwks.body) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

describe('KeyRing.upToDate', () => {
  it('reads the store once for the callers of one turn', async () => {
    await Promise.all(Array.from({ length: 20 }, () => ring.upToDate()));
    expect(reads).toBe(1);
    await ring.upToDate();
    expect(reads).toBe(2);
  });

  it('sees a key stored before it was called, while an earlier check is still reading', async () => {
    let readingDone!: () => void;
    slowStore = new Promise((resolve) => (readingDone = resolve));
    const earlier = ring.upToDate();
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads).toBe(1);
    // The earlier check has read the store and not finished; a key is stored; a request asks.
    const next = await generateSigningKey('ES256', 'next', KEK, clock.now());
    expect(await store.signingKeys.createNext(next)).toBe(true);
    const later = ring.upToDate();
    readingDone();
    await later;
    expect(kids()).toContain(next.kid);
    await earlier;
  });
});
