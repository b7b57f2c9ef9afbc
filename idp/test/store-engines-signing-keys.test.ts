/**
 * The signing-key repository on both engines, and across two nodes on one database: one current
 * and one next key at most, one rotation when two nodes promote at once, and the fingerprint that
 * JWKS and discovery read on every request following another node's change at once.
 */
import { describe, expect, it } from 'vitest';
import type { StoredSigningKey } from '../src/store/signing-keys.js';
import { ENGINES, freshDatabase, inParallel, useEngines } from './support/store-engines.js';

useEngines();

/** A stored key as the key ring writes one; the repository never looks inside the JWKs. */
const key = (kid: string, state: StoredSigningKey['state'] = 'next', createdAt = 1000): StoredSigningKey => ({
  kid,
  alg: 'ES256',
  state,
  publicJwk: { kty: 'EC', crv: 'P-256', x: `x-${kid}`, y: `y-${kid}`, kid },
  privateJwkEncrypted: `sealed-${kid}`,
  createdAt,
  activatedAt: null,
  retiredAt: null,
});

const states = async (keys: { list(): Promise<StoredSigningKey[]> }) =>
  Object.fromEntries((await keys.list()).map((k) => [k.kid, k.state]));

describe.each(ENGINES)('signing keys on %s', (engine) => {
  it('stores the first current key once, and returns rows as stored', async () => {
    const node = await (await freshDatabase(engine)).node();
    expect(await node.signingKeys.createFirstCurrent(key('k1', 'current'))).toBe(true);
    expect(await node.signingKeys.createFirstCurrent(key('k2', 'current'))).toBe(false);
    expect(await node.signingKeys.list()).toEqual([{ ...key('k1', 'current') }]);
  });

  it('keeps one next key at most, replaced only while it is still the next key', async () => {
    const node = await (await freshDatabase(engine)).node();
    const keys = node.signingKeys;
    await keys.createFirstCurrent(key('k1', 'current'));
    expect(await keys.createNext(key('k2'))).toBe(true);
    expect(await keys.createNext(key('k3'))).toBe(false);
    expect(await keys.createNext(key('k3'), 'k1')).toBe(false); // k1 is not a next key
    expect(await keys.createNext(key('k3'), 'k2')).toBe(true);
    expect(await keys.createNext(key('k4'), 'k2')).toBe(false); // k2 is gone
    expect(await states(keys)).toEqual({ k1: 'current', k3: 'next' });
  });

  it('promotes at once, or not at all when either key moved; removes only retired keys', async () => {
    const node = await (await freshDatabase(engine)).node();
    const keys = node.signingKeys;
    await keys.createFirstCurrent(key('k1', 'current'));
    await keys.createNext(key('k2'));
    expect(await keys.removeRetired('k1')).toBe(false);
    expect(await keys.promote({ currentKid: 'k1', nextKid: 'nope', at: 5000 })).toBe(false);
    expect(await states(keys)).toEqual({ k1: 'current', k2: 'next' }); // nothing half done
    expect(await keys.promote({ currentKid: 'k1', nextKid: 'k2', at: 5000 })).toBe(true);
    expect(await keys.promote({ currentKid: 'k1', nextKid: 'k2', at: 6000 })).toBe(false);
    const rows = Object.fromEntries((await keys.list()).map((k) => [k.kid, k]));
    expect(rows.k1).toMatchObject({ state: 'retired', retiredAt: 5000, activatedAt: null });
    expect(rows.k2).toMatchObject({ state: 'current', activatedAt: 5000, retiredAt: null });
    expect(await keys.removeRetired('k2')).toBe(false);
    expect(await keys.removeRetired('k1')).toBe(true);
    expect(await keys.removeRetired('k1')).toBe(false);
    expect(await states(keys)).toEqual({ k2: 'current' });
  });

  it('stores one first key when nodes start at once', async () => {
    const database = await freshDatabase(engine);
    const nodes = [await database.node(), await database.node()];
    const won = await inParallel(10, (i) => nodes[i % 2]!.signingKeys.createFirstCurrent(key(`k${i}`, 'current')));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await nodes[0]!.signingKeys.list()).toHaveLength(1);
  });

  it('stores one next key when nodes create one at once', async () => {
    const database = await freshDatabase(engine);
    const nodes = [await database.node(), await database.node()];
    await nodes[0]!.signingKeys.createFirstCurrent(key('k0', 'current'));
    const won = await inParallel(10, (i) => nodes[i % 2]!.signingKeys.createNext(key(`n${i}`)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect((await nodes[1]!.signingKeys.list()).filter((k) => k.state === 'next')).toHaveLength(1);
  });

  it('rotates once when two nodes promote at once, 20 times over', async () => {
    const database = await freshDatabase(engine);
    const [a, b] = [await database.node(), await database.node()];
    await a.signingKeys.createFirstCurrent(key('r00', 'current'));
    for (let round = 1; round <= 20; round++) {
      const current = `r${String(round - 1).padStart(2, '0')}`;
      const next = `r${String(round).padStart(2, '0')}`;
      expect(await b.signingKeys.createNext(key(next))).toBe(true);
      const promotion = { currentKid: current, nextKid: next, at: round * 1000 };
      const won = await Promise.all([a.signingKeys.promote(promotion), b.signingKeys.promote(promotion)]);
      expect(won.filter(Boolean)).toHaveLength(1);
      const ring = await a.signingKeys.list();
      expect(ring.filter((k) => k.state === 'current').map((k) => k.kid)).toEqual([next]);
      expect(ring.filter((k) => k.state === 'next')).toEqual([]);
    }
  });

  it('changes the fingerprint at once for its own writes and for another node’s', async () => {
    const database = await freshDatabase(engine);
    let time = 1_000_000;
    const a = await database.node({ now: () => time });
    const b = await database.node({ now: () => time });
    await a.signingKeys.createFirstCurrent(key('k1', 'current'));
    const first = await a.signingKeys.fingerprint();
    expect(await b.signingKeys.fingerprint()).toBe(first);

    // Its own write: seen at once, the clock standing still.
    await a.signingKeys.createNext(key('k2'));
    const withNext = await a.signingKeys.fingerprint();
    expect(withNext).not.toBe(first);

    // Another node's write: seen at its next call, the clock standing still, on both engines
    // (SQLite by data_version, PostgreSQL by reading the ring again).
    expect(await b.signingKeys.fingerprint()).toBe(withNext);

    // A promotion by b is seen by a at once, and every state change moves it.
    time += 10;
    await b.signingKeys.promote({ currentKid: 'k1', nextKid: 'k2', at: time });
    const promoted = await b.signingKeys.fingerprint();
    expect(promoted).not.toBe(withNext);
    expect(await a.signingKeys.fingerprint()).toBe(promoted);
    await a.signingKeys.removeRetired('k1');
    const removed = await a.signingKeys.fingerprint();
    expect(removed).not.toBe(promoted);
    expect(await b.signingKeys.fingerprint()).toBe(removed);
  });

  it('reads the fingerprint again when the clock went back', async () => {
    const database = await freshDatabase(engine);
    let time = 1_000_000;
    const a = await database.node({ now: () => time });
    const b = await database.node({ now: () => time });
    await a.signingKeys.createFirstCurrent(key('k1', 'current'));
    const first = await a.signingKeys.fingerprint();
    await b.signingKeys.createNext(key('k2'));
    time -= 60_000;
    expect(await a.signingKeys.fingerprint()).not.toBe(first);
  });
});
