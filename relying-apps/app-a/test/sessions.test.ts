import { describe, expect, it } from 'vitest';
import { createMemoryLoginTransactionStore } from '../src/sessions/login-transactions.js';
import { createMemorySessionStore, type NewSession } from '../src/sessions/session-store.js';

function testClock() {
  let now = Date.UTC(2030, 0, 1);
  return { now: () => now, advance: (seconds: number) => (now += seconds * 1000) };
}

const alice = (over: Partial<NewSession> = {}): NewSession => ({
  sub: 'alice',
  sid: 'sid-1',
  email: 'alice@example.com',
  name: 'Alice',
  idToken: 'id.token.x',
  accessToken: 'access.token.x',
  accessTokenExpiresAt: Date.UTC(2030, 0, 1, 0, 5),
  ...over,
});

describe('createMemorySessionStore', () => {
  it('finds a session by the id it returned, under a new id every time', async () => {
    const store = createMemorySessionStore({ clock: testClock() });
    const first = await store.create(alice());
    const second = await store.create(alice());
    expect(first).not.toBe(second);
    expect(await store.find(first)).toMatchObject({
      sub: 'alice',
      sid: 'sid-1',
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
  });

  it('forgets a session after its lifetime', async () => {
    const clock = testClock();
    const store = createMemorySessionStore({ clock, ttlSec: 60 });
    const id = await store.create(alice());
    clock.advance(61);
    expect(await store.find(id)).toBeUndefined();
  });

  it('ends the sessions of one issuer session, and only those of the named subject', async () => {
    const store = createMemorySessionStore({ clock: testClock() });
    const a = await store.create(alice());
    const b = await store.create(alice({ sid: 'sid-2' }));
    const mallory = await store.create(alice({ sub: 'mallory' })); // same sid claimed by another subject
    expect(await store.endByIssuerSession('sid-1', 'alice')).toBe(1);
    expect(await store.find(a)).toBeUndefined();
    expect(await store.find(b)).toBeDefined();
    expect(await store.find(mallory)).toBeDefined();
  });

  it('ends every session of a subject', async () => {
    const store = createMemorySessionStore({ clock: testClock() });
    const ids = [
      await store.create(alice()),
      await store.create(alice({ sid: undefined })),
      await store.create(alice({ sub: 'bob' })),
    ];
    expect(await store.endBySubject('alice')).toBe(2);
    expect(await Promise.all(ids.map((id) => store.find(id)))).toEqual([
      undefined,
      undefined,
      expect.objectContaining({ sub: 'bob' }),
    ]);
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const store = createMemorySessionStore({ clock: testClock(), maxEntries: 2 });
    const [a, b, c] = [await store.create(alice()), await store.create(alice()), await store.create(alice())];
    expect(await store.find(a)).toBeUndefined();
    expect(await store.find(b)).toBeDefined();
    expect(await store.find(c)).toBeDefined();
  });
});

describe('createMemoryLoginTransactionStore', () => {
  const transaction = { state: 's', nonce: 'n', codeVerifier: 'v' };

  it('gives a transaction back once', async () => {
    const store = createMemoryLoginTransactionStore({ clock: testClock() });
    const key = await store.save(transaction);
    expect(await store.take(key)).toEqual(transaction);
    expect(await store.take(key)).toBeUndefined();
  });

  it('forgets a transaction that took too long', async () => {
    const clock = testClock();
    const store = createMemoryLoginTransactionStore({ clock, ttlSec: 600 });
    const key = await store.save(transaction);
    clock.advance(601);
    expect(await store.take(key)).toBeUndefined();
  });
});
