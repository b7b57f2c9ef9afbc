/**
 * The status-list repository on both engines, and across two nodes on one database: indices and
 * blocks of indices handed out once, a new list started once per full list, versions moved
 * strictly forward by each revocation, a list read whole in one snapshot.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { NEWEST_LIST_LOCK } from '../src/store/pg/status-lists.js';
import type { StatusListPosition } from '../src/store/status-lists.js';
import { ENGINES, freshDatabase, inParallel, useEngines, type StoreNode } from './support/store-engines.js';

useEngines();

/** A user, a client and a grant to hang access tokens on, straight in the database. */
async function grant(node: StoreNode): Promise<void> {
  await node.query(
    'insert into users (id, email, display_name, password_hash, created_at, updated_at) ' +
      "values ('u', 'u@example.test', 'U', 'x', 0, 0)",
  );
  await node.query(
    'insert into clients (id, name, type, party, redirect_uris, post_logout_redirect_uris, ' +
      "allowed_scopes, allowed_resources, created_at) values ('c', 'C', 'public', 'first', '[]', '[]', '[]', '[]', 0)",
  );
  await node.query(
    'insert into grants (id, client_id, user_id, session_id, scope, resource, created_at) ' +
      "values ('g', 'c', 'u', 's', '', '', 0)",
  );
}

const token = (node: StoreNode, jti: string, position: StatusListPosition, revokedAt: number | null = null) =>
  node.query(
    'insert into access_tokens (jti, grant_id, expires_at, revoked_at, status_list, status_index) ' +
      'values (?, ?, ?, ?, ?, ?)',
    [jti, 'g', 0, revokedAt, position.list, position.index],
  );

const key = (p: StatusListPosition) => `${p.list}/${p.index}`;

describe.each(ENGINES)('status lists on %s', (engine) => {
  it('hands out consecutive indices of the newest list, and starts a new list when it is full', async () => {
    const node = await (await freshDatabase(engine)).node();
    const got: StatusListPosition[] = [];
    for (let i = 0; i < 5; i++) got.push(await node.statusLists.allocate(1000, 2, 1));
    expect(got).toEqual([
      { list: 1, index: 0 },
      { list: 1, index: 1 },
      { list: 2, index: 0 },
      { list: 2, index: 1 },
      { list: 3, index: 0 },
    ]);
    expect(await node.statusLists.find(3)).toEqual({ id: 3, size: 2, nextIndex: 1, createdAt: 1000, updatedAt: 1000 });
    expect(await node.statusLists.find(4)).toBeUndefined();
  });

  it('reserves blocks, starting a new list when a block does not fit; refuses a block it cannot hold', async () => {
    const node = await (await freshDatabase(engine)).node();
    const lists = node.statusLists;
    expect(await lists.allocate(3000, 10, 4)).toEqual({ list: 1, index: 0 });
    expect(await lists.allocate(3000, 10, 4)).toEqual({ list: 1, index: 4 });
    expect(await lists.allocate(3000, 10, 4)).toEqual({ list: 2, index: 0 }); // 8 + 4 > 10
    expect(await lists.allocate(3000, 10, 1)).toEqual({ list: 2, index: 4 }); // the newest list only
    expect(await lists.find(1)).toMatchObject({ nextIndex: 8 });
    expect(await lists.find(2)).toMatchObject({ nextIndex: 5 });
    for (const count of [0, 11, 1.5]) await expect(lists.allocate(3000, 10, count)).rejects.toThrow(RangeError);
  });

  it('never hands out one index twice across nodes, and starts each new list once', async () => {
    const database = await freshDatabase(engine);
    const nodes = [await database.node(), await database.node()];
    const got = await inParallel(50, (i) => nodes[i % 2]!.statusLists.allocate(2000, 8, 1));
    expect(new Set(got.map(key)).size).toBe(50);
    // 50 indices fill six lists of 8 and start a seventh: no list was started twice.
    expect(Math.max(...got.map((p) => p.list))).toBe(7);
    for (let list = 1; list <= 6; list++) {
      expect(
        got
          .filter((p) => p.list === list)
          .map((p) => p.index)
          .sort((a, b) => a - b),
      ).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    }
  });

  it('never hands out one index twice when nodes reserve blocks of different sizes at once', async () => {
    const database = await freshDatabase(engine);
    const nodes = [await database.node(), await database.node()];
    const blocks = await inParallel(60, async (i) => {
      const count = 1 + (i % 5);
      const start = await nodes[i % 2]!.statusLists.allocate(2000, 16, count);
      return Array.from({ length: count }, (_, k) => ({ list: start.list, index: start.index + k }));
    });
    const indices = blocks.flat();
    expect(indices.every((p) => p.index < 16)).toBe(true);
    expect(new Set(indices.map(key)).size).toBe(indices.length);
  });

  it('moves a list version strictly forward on each revocation, even within one millisecond', async () => {
    const node = await (await freshDatabase(engine)).node();
    await grant(node);
    const one = await node.statusLists.allocate(1000, 2, 2);
    const two = await node.statusLists.allocate(1000, 2, 1);
    await token(node, 'a', one);
    await token(node, 'b', { list: one.list, index: one.index + 1 });
    await token(node, 'c', two);
    const first = await node.statusLists.markRevoked(['c', 'a', 'unknown'], 5000);
    expect(first).toEqual([
      { list: 1, previousVersion: 1000, version: 5000, indices: [0] },
      { list: 2, previousVersion: 1000, version: 5000, indices: [0] },
    ]);
    expect(await node.statusLists.markRevoked(['b'], 5000)).toEqual([
      { list: 1, previousVersion: 5000, version: 5001, indices: [1] },
    ]);
    expect(await node.statusLists.markRevoked(['a', 'b'], 4000)).toEqual([
      { list: 1, previousVersion: 5001, version: 5002, indices: [0, 1] },
    ]);
    expect(await node.statusLists.markRevoked([], 6000)).toEqual([]);
    expect(await node.statusLists.markRevoked(['unknown'], 6000)).toEqual([]);
  });

  it('gives concurrent revocations on two nodes distinct, chained versions', async () => {
    const database = await freshDatabase(engine);
    const nodes = [await database.node(), await database.node()];
    await grant(nodes[0]!);
    const start = await nodes[0]!.statusLists.allocate(1000, 64, 40);
    for (let i = 0; i < 40; i++) await token(nodes[0]!, `t${i}`, { list: start.list, index: i });
    const changes = (await inParallel(40, (i) => nodes[i % 2]!.statusLists.markRevoked([`t${i}`], 5000))).flat();
    expect(changes).toHaveLength(40);
    // Each change moved the version from the one the change before it left: one chain, no version twice.
    const versions = changes.map((c) => c.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 40 }, (_, i) => 5000 + i));
    expect(changes.map((c) => c.previousVersion).sort((a, b) => a - b)).toEqual([1000, ...versions.slice(0, -1)]);
  });

  it('reads a list whole: its version, its size and its revoked indices', async () => {
    const node = await (await freshDatabase(engine)).node();
    await grant(node);
    const start = await node.statusLists.allocate(1000, 8, 4);
    await token(node, 'live', start);
    await token(node, 'gone', { list: start.list, index: 2 }, 1500);
    await token(node, 'gone too', { list: start.list, index: 3 }, 1500);
    const snapshot = await node.statusLists.snapshot(start.list);
    expect({ ...snapshot, revoked: [...snapshot!.revoked].sort() }).toEqual({
      version: 1000,
      size: 8,
      revoked: [2, 3],
    });
    expect(await node.statusLists.snapshot(99)).toBeUndefined();
  });

  it("moves versions inside another repository's transaction, strictly forward", async () => {
    const node = await (await freshDatabase(engine)).node();
    await node.statusLists.allocate(1000, 2, 2);
    await node.statusLists.allocate(1000, 2, 1);
    await node.touchStatusLists([1, 2, 1], 1000);
    expect((await node.statusLists.find(1))?.updatedAt).toBe(1001);
    expect((await node.statusLists.find(2))?.updatedAt).toBe(1001);
    await node.touchStatusLists([2], 9000);
    await node.touchStatusLists([], 9999);
    expect((await node.statusLists.find(1))?.updatedAt).toBe(1001);
    expect((await node.statusLists.find(2))?.updatedAt).toBe(9000);
  });

  it('lists the lists that may hold tokens issued since a time', async () => {
    const node = await (await freshDatabase(engine)).node();
    expect(await node.statusLists.listIdsSince(0)).toEqual([]);
    await node.statusLists.allocate(1000, 1, 1);
    await node.statusLists.allocate(2000, 1, 1);
    await node.statusLists.allocate(3000, 1, 1);
    expect(await node.statusLists.listIdsSince(0)).toEqual([1, 2, 3]);
    expect(await node.statusLists.listIdsSince(1999)).toEqual([1, 2, 3]);
    expect(await node.statusLists.listIdsSince(2000)).toEqual([2, 3]);
    expect(await node.statusLists.listIdsSince(5000)).toEqual([3]);
  });
});

describe('status lists on postgres, a list being started by another node', () => {
  it('is the list a reservation takes from once it is committed, not the one before it', async () => {
    const database = await freshDatabase('postgres');
    const node = await database.node();
    expect(await node.statusLists.allocate(1000, 8, 7)).toEqual({ list: 1, index: 0 }); // one index left
    // Another node, finding no room for its block of 4, starts list 2 and has not committed yet.
    const creator = new pg.Client({ connectionString: database.url });
    await creator.connect();
    try {
      await creator.query('begin');
      await creator.query('select pg_advisory_xact_lock($1)', [NEWEST_LIST_LOCK]);
      await creator.query(
        'insert into status_lists (size, next_index, created_at, updated_at) values (8, 4, 2000, 2000)',
      );
      const reservation = node.statusLists.allocate(2000, 8, 1);
      // The reservation waits for the creator rather than taking list 1's last index after list 2
      // exists (a token issued then would be missed by listIdsSince).
      const waiting = async () => {
        for (;;) {
          const { rows } = await creator.query(
            "select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted",
          );
          if (rows[0].n > 0) return 'waiting';
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      expect(await Promise.race([reservation.then(() => 'done'), waiting()])).toBe('waiting');
      await creator.query('commit');
      expect(await reservation).toEqual({ list: 2, index: 4 });
      expect(await node.statusLists.find(1)).toMatchObject({ nextIndex: 7 });
    } finally {
      await creator.end();
    }
  });
});
