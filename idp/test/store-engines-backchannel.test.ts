/**
 * The back-channel logout queue on both engines, and across two nodes on one database: each due
 * delivery is claimed by one node at a time, oldest first; a claim lasts until its lease ends, and
 * a delivery whose node died mid-attempt is claimed again then, and only the newest claim may
 * record the outcome.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { BackchannelDelivery } from '../src/store/backchannel.js';
import { ENGINES, freshDatabase, inParallel, useEngines } from './support/store-engines.js';

useEngines();

const delivery = (id: string, nextAttemptAt: number, createdAt = 0): BackchannelDelivery => ({
  id,
  clientId: 'app-a',
  uri: 'https://app-a.example/backchannel-logout',
  logoutToken: `token-${id}`,
  attempts: 0,
  nextAttemptAt,
  createdAt,
  deliveredAt: null,
  failedAt: null,
  lastError: null,
});

describe.each(ENGINES)('back-channel deliveries on %s', (engine) => {
  it('stores deliveries as given, and says when the next one is due', async () => {
    const node = await (await freshDatabase(engine)).node();
    const q = node.backchannel;
    expect(await q.nextDue()).toBeUndefined();
    await q.enqueue([]);
    await q.enqueue([delivery('d2', 2000), delivery('d1', 1000)]);
    expect(await q.get('d1')).toEqual(delivery('d1', 1000));
    expect(await q.get('missing')).toBeUndefined();
    expect(await q.nextDue()).toBe(1000);
  });

  it('claims due deliveries oldest first, up to the limit, counting the attempt and leasing them', async () => {
    const node = await (await freshDatabase(engine)).node();
    const q = node.backchannel;
    await q.enqueue([delivery('late', 9000), delivery('b', 2000), delivery('a', 1000), delivery('c', 3000)]);
    const first = await q.claimDue(5000, 2, 7000);
    expect(first.map((d) => d.id).sort()).toEqual(['a', 'b']);
    expect(first.map((d) => ({ attempts: d.attempts, nextAttemptAt: d.nextAttemptAt }))).toEqual([
      { attempts: 1, nextAttemptAt: 7000 },
      { attempts: 1, nextAttemptAt: 7000 },
    ]);
    expect(first[0]).toMatchObject({ clientId: 'app-a', logoutToken: expect.stringMatching(/^token-/) });
    expect((await q.claimDue(5000, 10, 7000)).map((d) => d.id)).toEqual(['c']);
    expect(await q.claimDue(5000, 10, 7000)).toEqual([]); // all leased or not yet due
    expect(await q.nextDue()).toBe(7000);
  });

  it('records an outcome only under the claim that still stands', async () => {
    const node = await (await freshDatabase(engine)).node();
    const q = node.backchannel;
    await q.enqueue([delivery('ok', 0), delivery('retry', 0), delivery('fail', 0)]);
    const claimed = await q.claimDue(100, 10, 200);
    expect(claimed).toHaveLength(3);
    expect(await q.markDelivered('ok', 2, 150)).toBe(false); // not this claim's count
    expect(await q.markDelivered('ok', 1, 150)).toBe(true);
    expect(await q.markDelivered('ok', 1, 160)).toBe(false); // no longer pending
    expect(await q.markRetry('retry', 1, 500, 'e'.repeat(600))).toBe(true);
    expect(await q.markFailed('fail', 1, 150, 'gone')).toBe(true);
    expect(await q.markRetry('fail', 1, 500, 'again')).toBe(false);
    expect(await q.get('ok')).toMatchObject({ deliveredAt: 150, failedAt: null, attempts: 1 });
    expect(await q.get('retry')).toMatchObject({ nextAttemptAt: 500, lastError: 'e'.repeat(500), deliveredAt: null });
    expect(await q.get('fail')).toMatchObject({ failedAt: 150, lastError: 'gone' });
    expect(await q.nextDue()).toBe(500);
    expect((await q.claimDue(499, 10, 900)).map((d) => d.id)).toEqual([]);
    expect(await q.claimDue(500, 10, 900)).toEqual([expect.objectContaining({ id: 'retry', attempts: 2 })]);
  });

  it('never lets two nodes claim one delivery, and leaves none unclaimed', async () => {
    const database = await freshDatabase(engine);
    const nodes = [await database.node(), await database.node()];
    const ids = Array.from({ length: 300 }, (_, i) => `d${String(i).padStart(3, '0')}`);
    await nodes[0]!.backchannel.enqueue(ids.map((id, i) => delivery(id, i)));
    // Eight workers per node, each claiming small batches until nothing is due.
    const claims = await inParallel(16, async (w) => {
      const mine: BackchannelDelivery[] = [];
      for (;;) {
        const batch = await nodes[w % 2]!.backchannel.claimDue(1000, 7, 60_000);
        if (batch.length === 0) return mine;
        expect(batch.length).toBeLessThanOrEqual(7);
        mine.push(...batch);
      }
    });
    const claimed = claims.flat();
    expect(claimed.map((d) => d.id).sort()).toEqual(ids);
    expect(claimed.every((d) => d.attempts === 1)).toBe(true);
  });

  it("takes over a dead node's claim when its lease ends, and only the new claim records the outcome", async () => {
    const database = await freshDatabase(engine);
    const [dying, survivor] = [await database.node(), await database.node()];
    await survivor.backchannel.enqueue([delivery('x', 1000)]);
    const [taken] = await dying.backchannel.claimDue(1000, 16, 5000);
    expect(taken).toMatchObject({ id: 'x', attempts: 1 });
    await dying.close(); // killed mid-delivery: it never records an outcome

    expect(await survivor.backchannel.claimDue(4999, 16, 9000)).toEqual([]);
    const [again] = await survivor.backchannel.claimDue(5000, 16, 9000);
    expect(again).toMatchObject({ id: 'x', attempts: 2, nextAttemptAt: 9000 });
    // A late outcome of the first attempt (its node came back) is refused; the standing claim's is kept.
    const late = await database.node();
    expect(await late.backchannel.markDelivered('x', 1, 5500)).toBe(false);
    expect(await survivor.backchannel.markDelivered('x', 2, 5600)).toBe(true);
    expect(await late.backchannel.get('x')).toMatchObject({ deliveredAt: 5600, attempts: 2 });
    expect(await survivor.backchannel.nextDue()).toBeUndefined();
  });
});

describe('back-channel deliveries on postgres, a claim in flight', () => {
  it('is skipped by another node, neither waited for nor taken twice', async () => {
    const database = await freshDatabase('postgres');
    const node = await database.node();
    await node.backchannel.enqueue([delivery('held', 0), delivery('free', 1)]);
    // A node between its pick and its commit holds the row it picked, as this transaction does.
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query("select id from backchannel_deliveries where id = 'held' for update");
      expect((await node.backchannel.claimDue(1000, 10, 5000)).map((d) => d.id)).toEqual(['free']);
      await other.query('rollback');
      expect((await node.backchannel.claimDue(1000, 10, 5000)).map((d) => d.id)).toEqual(['held']);
    } finally {
      await other.end();
    }
  });
});
