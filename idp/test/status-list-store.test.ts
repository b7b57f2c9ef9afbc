/** Status list indices and versions in the store, and the issuer component over them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { inflateStatusList, statusAt } from '@tessera/shared';
import { StatusLists, type StatusListReference } from '../src/status-list/status-lists.js';
import { openStore } from '../src/store/index.js';
import { dropDatabase, freshDatabase, type OpenedStore } from './support/databases.js';
import { sql, startIssuer, type RunningIssuer } from './support/fixture.js';

describe('status list repository', () => {
  let database: string;
  let store: OpenedStore;
  beforeAll(async () => {
    database = await freshDatabase();
    store = await openStore(database);
  });
  afterAll(async () => {
    await store?.close();
    await dropDatabase(database);
  });

  /** A grant to hang access tokens on, straight in the database. */
  const token = (jti: string, list: number, index: number) =>
    store.database.query(
      'insert into access_tokens (jti, grant_id, expires_at, status_list, status_index) values (?, ?, ?, ?, ?)',
      [jti, 'g', 0, list, index],
    );

  it('hands out consecutive indices of the newest list, and starts a new list when it is full', async () => {
    const got: { list: number; index: number }[] = [];
    for (let i = 0; i < 5; i++) got.push(await store.statusLists.allocate(1000, 2, 1));
    expect(got).toEqual([
      { list: 1, index: 0 },
      { list: 1, index: 1 },
      { list: 2, index: 0 },
      { list: 2, index: 1 },
      { list: 3, index: 0 },
    ]);
    expect(await store.statusLists.find(3)).toMatchObject({ size: 2, nextIndex: 1, createdAt: 1000 });
  });

  it('never hands out one index twice, however many ask at once', async () => {
    const got = await Promise.all(Array.from({ length: 200 }, () => store.statusLists.allocate(2000, 64, 1)));
    expect(new Set(got.map((p) => `${p.list}/${p.index}`)).size).toBe(200);
  });

  it('reserves a block of indices at once, starting a new list when the block does not fit', async () => {
    // Fill the newest list first, so the next reservation starts a list of size 10.
    const newest = (await store.statusLists.find((await store.statusLists.allocate(3000, 10, 1)).list))!;
    if (newest.size > newest.nextIndex)
      await store.statusLists.allocate(3000, newest.size, newest.size - newest.nextIndex);
    const a = await store.statusLists.allocate(3000, 10, 4);
    const b = await store.statusLists.allocate(3000, 10, 4);
    const c = await store.statusLists.allocate(3000, 10, 4); // 8 + 4 > 10: a new list
    expect(a.index).toBe(0);
    expect(b).toEqual({ list: a.list, index: a.index + 4 });
    expect(c).toEqual({ list: a.list + 1, index: 0 });
    expect(await store.statusLists.find(c.list)).toMatchObject({ nextIndex: 4 });
  });

  it('moves a list version strictly forward on each revocation, even within one millisecond', async () => {
    await store.database.query(
      'insert into users (id, email, display_name, password_hash, created_at, updated_at) ' +
        "values ('u', 'u@example.test', 'U', 'x', 0, 0)",
    );
    await store.database.query(
      'insert into clients (id, name, type, party, redirect_uris, post_logout_redirect_uris, ' +
        'allowed_scopes, allowed_resources, created_at) ' +
        "values ('c', 'C', 'public', 'first', '[]', '[]', '[]', '[]', 0)",
    );
    await store.database.query(
      'insert into grants (id, client_id, user_id, session_id, scope, resource, created_at) ' +
        "values ('g', 'c', 'u', 's', '', '', 0)",
    );
    await token('a', 1, 0);
    await token('b', 1, 1);
    await token('c', 2, 0);
    const before = (await store.statusLists.find(1))!.updatedAt;
    const first = await store.statusLists.markRevoked(['a', 'c', 'unknown'], 5000);
    expect(first).toEqual([
      { list: 1, previousVersion: before, version: 5000, indices: [0] },
      { list: 2, previousVersion: expect.any(Number), version: 5000, indices: [0] },
    ]);
    const second = await store.statusLists.markRevoked(['b'], 5000);
    expect(second).toEqual([{ list: 1, previousVersion: 5000, version: 5001, indices: [1] }]);
    expect(await store.statusLists.markRevoked([], 6000)).toEqual([]);
  });

  it('lists the lists that may hold tokens issued since a time', async () => {
    const all = (await store.database.query('select id, created_at as at from status_lists order by id')) as {
      id: number;
      at: number;
    }[];
    expect(await store.statusLists.listIdsSince(0)).toEqual(all.map((l) => l.id));
    const last = all.at(-1)!;
    expect(await store.statusLists.listIdsSince(last.at + 1)).toEqual(
      all.filter((l) => l.id >= last.id).map((l) => l.id),
    );
  });
});

describe('status lists at the issuer', () => {
  let idp: RunningIssuer;
  beforeAll(async () => {
    idp = await startIssuer();
  });
  afterAll(() => idp.cleanup());

  it('gives every token of a full list a place in the next one, each list signed on its own', async () => {
    const lists = new StatusLists(idp.issuer.ctx, { size: 8 });
    const refs: StatusListReference[] = [];
    for (let i = 0; i < 10; i++) refs.push(await lists.allocate());
    expect(refs.slice(0, 8).every((r) => r.list === refs[0]!.list)).toBe(true);
    expect(refs[8]).toMatchObject({
      list: refs[0]!.list + 1,
      index: 0,
      uri: `${idp.url}/statuslists/${refs[0]!.list + 1}`,
    });
    const second = (await lists.token(refs[8]!.list))!;
    expect(decodeJwt(second.token)).toMatchObject({ sub: refs[8]!.uri, status_list: { bits: 1 } });
    expect(await lists.token(9999)).toBeUndefined();
  });

  it('hands out indices from blocks reserved in the store: one write per block, never an index twice', async () => {
    const { store } = idp.issuer.ctx;
    let writes = 0;
    const statusLists = {
      ...store.statusLists,
      allocate: (now: number, size: number, count: number) => {
        writes++;
        return store.statusLists.allocate(now, size, count);
      },
    };
    const lists = new StatusLists(
      { ...idp.issuer.ctx, store: { ...store, statusLists } },
      { size: 1000, blockSize: 100 },
    );
    const refs = await Promise.all(Array.from({ length: 250 }, () => lists.allocate()));
    expect(writes).toBe(3);
    expect(new Set(refs.map((r) => `${r.list}/${r.index}`)).size).toBe(250);
  });

  it('patches its bits for revocations it records, and rereads the list after a change it did not make', async () => {
    const { store, clock } = idp.issuer.ctx;
    // Counts full reads of a list from the store.
    let reads = 0;
    const statusLists = {
      ...store.statusLists,
      snapshot: (id: number) => {
        reads++;
        return store.statusLists.snapshot(id);
      },
    };
    const lists = new StatusLists({ ...idp.issuer.ctx, store: { ...store, statusLists } }, { size: 16 });
    const refs: StatusListReference[] = [];
    for (let i = 0; i < 3; i++) refs.push(await lists.allocate());
    await sql(
      idp,
      'insert into users (id, email, display_name, password_hash, created_at, updated_at) ' +
        "values ('u2', 'u2@example.test', 'U', 'x', 0, 0)",
    );
    await sql(
      idp,
      'insert into clients (id, name, type, party, redirect_uris, post_logout_redirect_uris, ' +
        'allowed_scopes, allowed_resources, created_at) ' +
        "values ('c2', 'C', 'public', 'first', '[]', '[]', '[]', '[]', 0)",
    );
    await sql(
      idp,
      'insert into grants (id, client_id, user_id, session_id, scope, resource, created_at) ' +
        "values ('g2', 'c2', 'u2', 's', '', '', 0)",
    );
    for (const [i, r] of refs.entries()) {
      await sql(
        idp,
        'insert into access_tokens (jti, grant_id, expires_at, status_list, status_index) values (?, ?, ?, ?, ?)',
        `t${i}`,
        'g2',
        clock.now() + 60_000,
        r.list,
        r.index,
      );
    }
    const bit = async (i: number) => {
      const { status_list } = decodeJwt((await lists.token(refs[i]!.list))!.token) as { status_list: { lst: string } };
      return statusAt(await inflateStatusList(status_list.lst, 1 << 20), 1, refs[i]!.index);
    };
    expect(await bit(0)).toBe(0);
    expect(reads).toBe(1);

    // Through the component: the kept bits are patched, the list is not read again.
    await sql(idp, "update access_tokens set revoked_at = 1 where jti = 't0'");
    await lists.revoked(['t0']);
    expect(await bit(0)).toBe(1);
    expect(reads).toBe(1);

    // Behind its back (another instance): the version moved, so the list is read again.
    await sql(idp, "update access_tokens set revoked_at = 1 where jti = 't1'");
    await sql(idp, 'update status_lists set updated_at = updated_at + 1 where id = ?', refs[1]!.list);
    expect(await bit(1)).toBe(1);
    expect(await bit(2)).toBe(0);
    expect(reads).toBe(2);
  });
});
