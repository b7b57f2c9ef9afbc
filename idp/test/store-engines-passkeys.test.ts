/**
 * Passkeys and WebAuthn challenges on both engines: a credential id belongs to one person; a use
 * moves the signature counter only forwards (a counter that went back, or the same counter twice,
 * is refused), whichever node sees it and however many race; a challenge is answered once, only
 * for the ceremony and binding it was issued for, and is swept once expired.
 */
import { silentLogger } from '@tessera/shared';
import { describe, expect, it } from 'vitest';
import type { Passkey } from '../src/store/index.js';
import { sweepExpired } from '../src/workers/expiry-sweep.js';
import { ENGINES, freshDatabase, type StoreNode, useEngines } from './support/store-engines.js';

useEngines();

const T = 1_800_000_000_000;

async function withPeople(node: StoreNode, ...ids: string[]): Promise<void> {
  for (const id of ids)
    await node.query(
      'insert into users (id, email, display_name, password_hash, created_at, updated_at) values (?, ?, ?, ?, ?, ?)',
      [id, `${id}@example.com`, id, 'x', T, T],
    );
}

const passkey = (over: Partial<Passkey> = {}): Passkey => ({
  id: 'cred-1',
  userId: 'alice',
  publicKey: 'pQECAyYgASFYIA',
  counter: 5,
  transports: ['internal', 'hybrid'],
  deviceType: 'singleDevice',
  backedUp: false,
  name: 'Laptop',
  createdAt: T,
  lastUsedAt: null,
  ...over,
});

describe.each(ENGINES)('passkeys on %s', (engine) => {
  it('store a credential id once, for one person, and read it back as written', async () => {
    const node = await (await freshDatabase(engine)).node();
    await withPeople(node, 'alice', 'bob');
    expect(await node.passkeys.create(passkey())).toBe(true);
    expect(await node.passkeys.create(passkey({ userId: 'bob', name: 'Taken' }))).toBe(false);
    expect(await node.passkeys.find('cred-1')).toEqual(passkey());
    expect(await node.passkeys.listForUser('bob')).toEqual([]);
    await node.passkeys.create(passkey({ id: 'cred-2', createdAt: T + 1, deviceType: 'multiDevice', backedUp: true }));
    expect((await node.passkeys.listForUser('alice')).map((p) => p.id)).toEqual(['cred-1', 'cred-2']);
  });

  it('rename and remove only the owner’s passkey', async () => {
    const node = await (await freshDatabase(engine)).node();
    await withPeople(node, 'alice', 'bob');
    await node.passkeys.create(passkey());
    expect(await node.passkeys.rename('cred-1', 'bob', 'Mine now')).toBe(false);
    expect(await node.passkeys.remove('cred-1', 'bob')).toBe(false);
    expect(await node.passkeys.find('cred-1')).toEqual(passkey());
    expect(await node.passkeys.rename('cred-1', 'alice', 'Work laptop')).toBe(true);
    expect((await node.passkeys.find('cred-1'))?.name).toBe('Work laptop');
    expect(await node.passkeys.remove('cred-1', 'alice')).toBe(true);
    expect(await node.passkeys.find('cred-1')).toBeUndefined();
  });

  it('record a use only when the counter moves forwards, or stays 0 on an authenticator without one', async () => {
    const node = await (await freshDatabase(engine)).node();
    await withPeople(node, 'alice');
    await node.passkeys.create(passkey());
    expect(await node.passkeys.recordUse('cred-1', { counter: 5, backedUp: false, now: T + 1 })).toBe(false);
    expect(await node.passkeys.recordUse('cred-1', { counter: 4, backedUp: false, now: T + 1 })).toBe(false);
    expect(await node.passkeys.recordUse('cred-1', { counter: 0, backedUp: false, now: T + 1 })).toBe(false);
    expect(await node.passkeys.find('cred-1')).toEqual(passkey());
    expect(await node.passkeys.recordUse('cred-1', { counter: 9, backedUp: true, now: T + 2 })).toBe(true);
    expect(await node.passkeys.find('cred-1')).toEqual(passkey({ counter: 9, backedUp: true, lastUsedAt: T + 2 }));
    // A counter beyond 2^31: the authenticator's is 32-bit unsigned (WebAuthn §6.1).
    expect(await node.passkeys.recordUse('cred-1', { counter: 4_000_000_000, backedUp: true, now: T + 3 })).toBe(true);
    expect((await node.passkeys.find('cred-1'))?.counter).toBe(4_000_000_000);

    await node.passkeys.create(passkey({ id: 'no-counter', counter: 0 }));
    expect(await node.passkeys.recordUse('no-counter', { counter: 0, backedUp: false, now: T + 4 })).toBe(true);
    expect(await node.passkeys.recordUse('no-counter', { counter: 0, backedUp: false, now: T + 5 })).toBe(true);
    expect((await node.passkeys.find('no-counter'))?.lastUsedAt).toBe(T + 5);
  });

  it('let one of many concurrent uses with the same counter on two nodes win', async () => {
    const database = await freshDatabase(engine);
    const nodes = [await database.node(), await database.node()];
    await withPeople(nodes[0]!, 'alice');
    await nodes[0]!.passkeys.create(passkey());
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        nodes[i % 2]!.passkeys.recordUse('cred-1', { counter: 6, backedUp: false, now: T + i }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('are deleted with their person', async () => {
    const node = await (await freshDatabase(engine)).node();
    await withPeople(node, 'alice');
    await node.passkeys.create(passkey());
    await node.query('delete from users where id = ?', ['alice']);
    expect(await node.passkeys.find('cred-1')).toBeUndefined();
  });
});

describe.each(ENGINES)('WebAuthn challenges on %s', (engine) => {
  const challenge = { challenge: 'ch-1', ceremony: 'authentication', boundTo: 'interaction-1', expiresAt: T + 1000 };

  it('are answered once, for their ceremony and binding, before they expire', async () => {
    const node = await (await freshDatabase(engine)).node();
    await node.webauthnChallenges.create({ ...challenge, ceremony: 'authentication' });
    expect(await node.webauthnChallenges.consume('ch-1', 'registration', 'interaction-1', T)).toBe(false);
    expect(await node.webauthnChallenges.consume('ch-1', 'authentication', 'interaction-2', T)).toBe(false);
    expect(await node.webauthnChallenges.consume('ch-1', 'authentication', 'interaction-1', T + 1000)).toBe(false);
    expect(await node.webauthnChallenges.consume('ch\u0000', 'authentication', 'interaction-1', T)).toBe(false);
    expect(await node.webauthnChallenges.consume('ch-1', 'authentication', 'interaction-1', T + 999)).toBe(true);
    expect(await node.webauthnChallenges.consume('ch-1', 'authentication', 'interaction-1', T + 999)).toBe(false);
  });

  it('let exactly one of many concurrent answers on two nodes win', async () => {
    const database = await freshDatabase(engine);
    const nodes = [await database.node(), await database.node()];
    await nodes[0]!.webauthnChallenges.create({ ...challenge, ceremony: 'registration' });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        nodes[i % 2]!.webauthnChallenges.consume('ch-1', 'registration', 'interaction-1', T),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('are swept once expired, not a millisecond earlier', async () => {
    const node = await (await freshDatabase(engine)).node();
    await node.webauthnChallenges.create({ ...challenge, ceremony: 'authentication' });
    const sweep = (now: number) =>
      sweepExpired({
        store: node,
        clock: { now: () => now },
        log: silentLogger,
        config: { accessTokenTtl: 300, auditRetentionDays: 90 },
      });
    expect((await sweep(T + 1000)).webauthnChallenges).toBe(0);
    expect((await sweep(T + 1001)).webauthnChallenges).toBe(1);
  });
});
