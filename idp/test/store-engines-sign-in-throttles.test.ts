/**
 * The sign-in throttle repository on both engines, and across two nodes on one database: failures
 * counted without a lost update, places for attempts in flight handed out no further than the
 * rule allows, a clear or a forgiveness never lost against a failure counted at the same time.
 */
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import type { SignInThrottleRepository, ThrottleKey, ThrottlePolicy } from '../src/store/sign-in-throttles.js';
import { ENGINES, freshDatabase, inParallel, useEngines } from './support/store-engines.js';

useEngines();

/** Five free failures, then blocked for a second per failure past four; forgotten after a minute. */
const policy: ThrottlePolicy = {
  forgetAfter: 60_000,
  blockedUntil: (failures, at) => (failures < 5 ? null : at + (failures - 4) * 1000),
};
const on = (key: string): ThrottleKey => ({ key, policy });

describe.each(ENGINES)('sign-in throttles on %s', (engine) => {
  it('counts failures on every key, blocks as the rule says, and starts over once forgotten', async () => {
    const node = await (await freshDatabase(engine)).node();
    const t = node.signInThrottles;
    const [account, ip] = [on('acct:a'), on('ip:1')];
    expect(await t.countFailure('x1', [account, ip], 1000)).toEqual([
      { key: 'acct:a', failures: 1, firstFailureAt: 1000, lastFailureAt: 1000, blockedUntil: null },
      { key: 'ip:1', failures: 1, firstFailureAt: 1000, lastFailureAt: 1000, blockedUntil: null },
    ]);
    for (let i = 2; i <= 5; i++) await t.countFailure(`x${i}`, [account], 1000 + i);
    expect(await t.reserve('y', [account, ip], 1010, 9000)).toEqual({
      outcome: 'blocked',
      blocked: [{ key: 'acct:a', failures: 5, firstFailureAt: 1000, lastFailureAt: 1005, blockedUntil: 2005 }],
    });
    expect(await t.reserve('y', [account, ip], 2005, 9000)).toEqual({ outcome: 'reserved' });
    // Forgotten a minute after the last failure: counted from one again.
    expect(await t.countFailure('z', [account], 1005 + 60_000)).toEqual([
      { key: 'acct:a', failures: 1, firstFailureAt: 61_005, lastFailureAt: 61_005, blockedUntil: null },
    ]);
  });

  it('gives a place while the attempts in flight could all fail before a block, and no more', async () => {
    const node = await (await freshDatabase(engine)).node();
    const t = node.signInThrottles;
    const key = on('acct:b');
    await t.countFailure('f', [key], 1000);
    await t.countFailure('f', [key], 1000);
    // Two failures: three places until a block (at five), then busy.
    expect(await t.reserve('a1', [key], 1000, 5000)).toEqual({ outcome: 'reserved' });
    expect(await t.reserve('a2', [key], 1000, 5000)).toEqual({ outcome: 'reserved' });
    expect(await t.reserve('a3', [key], 1000, 5000)).toEqual({ outcome: 'reserved' });
    expect(await t.reserve('a4', [key], 1000, 5000)).toEqual({ outcome: 'busy' });
    await t.release('a1');
    expect(await t.reserve('a4', [key], 1000, 5000)).toEqual({ outcome: 'reserved' });
    // A failure gives up its place as it is counted: three failures and two in flight is a block.
    expect(await t.countFailure('a2', [key], 1001)).toMatchObject([{ failures: 3, blockedUntil: null }]);
    expect(await t.reserve('a5', [key], 1001, 5000)).toEqual({ outcome: 'busy' });
    // Places lapse: past their expiry they no longer count, and the sweep deletes them.
    expect(await t.reserve('a5', [key], 5000, 9000)).toEqual({ outcome: 'reserved' });
    expect(await t.deleteLapsedReservations(5000)).toBe(2);
    expect(await t.deleteLapsedReservations(5000)).toBe(0);
    expect(await t.deleteLapsedReservations(9000)).toBe(1);
  });

  it('clears and forgives a key, its block recomputed for what is left', async () => {
    const node = await (await freshDatabase(engine)).node();
    const t = node.signInThrottles;
    const key = on('acct:c');
    for (let i = 0; i < 7; i++) await t.countFailure(`f${i}`, [key], 1000 + i);
    await t.forgive('acct:c', 1, policy);
    expect(await t.reserve('r', [key], 1010, 9000)).toEqual({
      outcome: 'blocked',
      blocked: [{ key: 'acct:c', failures: 6, firstFailureAt: 1000, lastFailureAt: 1006, blockedUntil: 3006 }],
    });
    await t.forgive('acct:c', 2, policy);
    expect(await t.reserve('r', [key], 1010, 9000)).toEqual({ outcome: 'reserved' });
    await t.forgive('acct:c', 10, policy);
    await t.forgive('acct:nobody', 1, policy);
    expect(await t.clear('acct:c')).toBe(0);
    await t.countFailure('g', [key], 2000);
    await t.countFailure('h', [key], 2001);
    expect(await t.clear('acct:c')).toBe(2);
    expect(await t.clear('acct:c')).toBe(0);
  });

  it('deletes only forgotten rows under a prefix, in as many batches as it takes', async () => {
    const node = await (await freshDatabase(engine)).node();
    const t = node.signInThrottles;
    // 1200 old IP rows (more than one batch), one blocked long, one recent, and an old account row.
    for (let i = 0; i < 1200; i += 100) {
      await inParallel(100, (k) => t.countFailure(`o${i + k}`, [on(`ip:${i + k}`)], 1000));
    }
    for (let i = 0; i < 6; i++) await t.countFailure(`b${i}`, [{ key: 'ip:blocked', policy: { ...policy } }], 1000);
    await t.countFailure('r', [on('ip:recent')], 50_000);
    await t.countFailure('a', [on('acct:old')], 1000);
    const longBlock: ThrottlePolicy = { ...policy, blockedUntil: () => 10_000_000 };
    await t.countFailure('b6', [{ key: 'ip:blocked', policy: longBlock }], 1000);
    expect(await t.deleteForgotten('ip:', policy, 1000 + 60_000)).toBe(1200);
    expect(await t.deleteForgotten('ip:', policy, 1000 + 60_000)).toBe(0);
    expect(await t.clear('ip:blocked')).toBe(7);
    expect(await t.clear('ip:recent')).toBe(1);
    expect(await t.clear('acct:old')).toBe(1);
  });

  it('loses no failure counted on one key by two nodes at once', async () => {
    const database = await freshDatabase(engine);
    const nodes = [await database.node(), await database.node()];
    const lenient: ThrottlePolicy = { forgetAfter: 60_000, blockedUntil: () => null };
    await inParallel(60, (i) =>
      nodes[i % 2]!.signInThrottles.countFailure(
        `f${i}`,
        [{ key: 'ip:9', policy: lenient }, on(`acct:${i % 3}`)],
        1000,
      ),
    );
    expect(await nodes[0]!.signInThrottles.clear('ip:9')).toBe(60);
    for (let a = 0; a < 3; a++) expect(await nodes[1]!.signInThrottles.clear(`acct:${a}`)).toBe(20);
  });

  it('hands out no more places than the rule allows when two nodes reserve at once', async () => {
    const database = await freshDatabase(engine);
    const nodes = [await database.node(), await database.node()];
    const outcomes = await inParallel(40, (i) =>
      nodes[i % 2]!.signInThrottles.reserve(`a${i}`, [on('acct:d'), on(`ip:${i}`)], 1000, 9000),
    );
    // No failures yet: five in flight could all fail before the block at five, the sixth waits.
    expect(outcomes.filter((o) => o.outcome === 'reserved')).toHaveLength(5);
    expect(outcomes.filter((o) => o.outcome === 'busy')).toHaveLength(35);
    expect(await nodes[0]!.signInThrottles.deleteLapsedReservations(9000)).toBe(10);
  });

  it('counts a success: the attempt gives up its places and the key starts over, in one step', async () => {
    const node = await (await freshDatabase(engine)).node();
    const t = node.signInThrottles;
    const [account, ip] = [on('acct:k'), on('ip:k')];
    for (let i = 0; i < 2; i++) await t.countFailure(`f${i}`, [account, ip], 1000);
    // Two failures: three places on each key; two of them taken.
    expect(await t.reserve('ok', [account, ip], 1001, 9000)).toEqual({ outcome: 'reserved' });
    expect(await t.reserve('other', [account, ip], 1001, 9000)).toEqual({ outcome: 'reserved' });
    expect(await t.countSuccess('ok', 'acct:k')).toBe(2);
    // The account starts over; the IP keeps its failures (the caller forgives them, or not).
    expect(await t.countSuccess('nobody', 'acct:k')).toBe(0);
    expect(await t.countFailure('x', [ip], 1002)).toMatchObject([{ key: 'ip:k', failures: 3 }]);
    // The successful attempt's places are gone, the other's are not: one place left on the IP
    // (3 failures, 1 in flight, a block at 5).
    expect(await t.reserve('third', [ip], 1003, 9000)).toEqual({ outcome: 'reserved' });
    expect(await t.reserve('fourth', [ip], 1003, 9000)).toEqual({ outcome: 'busy' });
    expect(await t.deleteLapsedReservations(9000)).toBe(3);
  });

  it('loses neither a clear nor a failure counted at the same time on two nodes', async () => {
    const database = await freshDatabase(engine);
    const nodes = [await database.node(), await database.node()];
    const lenient: ThrottlePolicy = { forgetAfter: 60_000, blockedUntil: () => null };
    const key = { key: 'acct:e', policy: lenient };
    const counted = inParallel(40, (i) => nodes[i % 2]!.signInThrottles.countFailure(`f${i}`, [key], 1000));
    const cleared = inParallel(4, (i) => nodes[i % 2]!.signInThrottles.clear('acct:e'));
    await counted;
    const left = await nodes[0]!.signInThrottles.clear('acct:e');
    // Every failure counted is either in what one clear took away or still there.
    expect((await cleared).reduce((a, b) => a + b, 0) + left).toBe(40);
  });

  it.runIf(engine === 'postgres')(
    'takes a place in five round trips, refuses one in four, and counts a success, clears a key or frees places in one',
    async () => {
      const node = await (await freshDatabase(engine)).node();
      const t = node.signInThrottles;
      const keys = [on('acct:s'), on('ip:s')];
      await t.countFailure('before', keys, 1000);
      const locked = {
        key: 'acct:locked',
        policy: { forgetAfter: 60_000, blockedUntil: (_: number, at: number) => at + 9000 },
      };
      await t.countFailure('before', [locked], 1000);
      // Every statement a pool runs goes through its clients' `query`: BEGIN and COMMIT too.
      const statements = vi.spyOn(pg.Client.prototype, 'query');
      const counted: [string, number][] = [];
      const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
        statements.mockClear();
        const result = await work();
        counted.push([name, statements.mock.calls.length]);
        return result;
      };
      try {
        // A successful sign-in: BEGIN, the keys' lock, the reads, the places, COMMIT; then the
        // success (the account's counter cleared, the places freed).
        expect(await step('reserve', () => t.reserve('ok', keys, 1001, 9000))).toEqual({ outcome: 'reserved' });
        expect(await step('success', () => t.countSuccess('ok', 'acct:s'))).toBe(1);
        // A password reset clears a key; an attempt cut short frees its places.
        expect(await step('clear', () => t.clear('ip:s'))).toBe(1);
        await step('reserve', () => t.reserve('cut', keys, 1001, 9000));
        await step('release', () => t.release('cut'));
        // A failed one: BEGIN, the lock, the places freed and the rows read, the rows written, COMMIT.
        await step('reserve', () => t.reserve('bad', keys, 1002, 9000));
        expect(await step('count', () => t.countFailure('bad', keys, 1003))).toMatchObject([
          { key: 'acct:s', failures: 1 },
          { key: 'ip:s', failures: 1 },
        ]);
        // A refused one: BEGIN, the lock, the reads, COMMIT, and no place written.
        expect(await step('refuse', () => t.reserve('no', [locked, on('ip:s')], 1004, 9000))).toMatchObject({
          outcome: 'blocked',
        });
      } finally {
        statements.mockRestore();
      }
      expect(counted).toEqual([
        ['reserve', 5],
        ['success', 1],
        ['clear', 1],
        ['reserve', 5],
        ['release', 1],
        ['reserve', 5],
        ['count', 5],
        ['refuse', 4],
      ]);
      expect(await node.query('select count(*)::int as n from sign_in_reservations')).toEqual([{ n: 0 }]);
    },
  );

  const clearing: [string, (t: SignInThrottleRepository) => Promise<number>][] = [
    ['clears a key', (t) => t.clear('acct:w')],
    ['counts a success', (t) => t.countSuccess('attempt', 'acct:w')],
  ];
  for (const [what, clear] of clearing)
    it.runIf(engine === 'postgres')(`${what} only once a failure being counted on it has landed`, async () => {
      const database = await freshDatabase(engine);
      const t = (await database.node()).signInThrottles;
      const lenient = { key: 'acct:w', policy: { forgetAfter: 60_000, blockedUntil: () => null } };
      for (let i = 0; i < 3; i++) await t.countFailure(`f${i}`, [lenient], 1000);
      // Another node counting a fourth failure, stopped between its read (3) and its write (4),
      // holding the key's lock as countFailure does.
      const other = new pg.Client({ connectionString: database.url });
      await other.connect();
      try {
        await other.query('begin');
        await other.query('select pg_advisory_xact_lock(hashtextextended($1::text, 0))', ['acct:w']);
        const clearing = clear(t);
        const settled = await Promise.race([clearing.then(() => true), delay(300).then(() => false)]);
        await other.query('update sign_in_throttles set failures = 4 where key = $1', ['acct:w']);
        await other.query('commit');
        // It waited for the lock, then took the fourth failure with the other three.
        expect([settled, await clearing]).toEqual([false, 4]);
      } finally {
        await other.end();
      }
      expect(await t.clear('acct:w')).toBe(0);
    });
});
