/**
 * Pushed authorization requests (RFC 9126) in the store, on both engines and across nodes on one
 * database: a request is used once — of many uses at once from several nodes exactly one gets it —
 * only by the client that pushed it and only before it expires; a refused use leaves it as it was.
 */
import { describe, expect, it } from 'vitest';
import type { PushedAuthorizationRequest } from '../src/store/pushed-authorization-requests.js';
import { ENGINES, freshDatabase, inParallel, type StoreNode, useEngines } from './support/store-engines.js';

useEngines();

const request = (digest: string, over: Partial<PushedAuthorizationRequest> = {}): PushedAuthorizationRequest => ({
  digest,
  clientId: 'c',
  params: { client_id: 'c', response_type: 'code', state: `state-${digest}` },
  createdAt: 1000,
  expiresAt: 61_000,
  ...over,
});

async function withClients(node: StoreNode): Promise<void> {
  for (const id of ['c', 'other'])
    await node.query(
      'insert into clients (id, name, type, party, redirect_uris, post_logout_redirect_uris, allowed_scopes, ' +
        "allowed_resources, created_at) values (?, 'C', 'public', 'first', '[]', '[]', '[]', '[]', 0)",
      [id],
    );
}

describe.each(ENGINES)('pushed authorization requests on %s', (engine) => {
  it('stores a request as given and gives it once, to its client, before it expires', async () => {
    const node = await (await freshDatabase(engine)).node();
    await withClients(node);
    const repo = node.pushedAuthorizationRequests;
    await repo.create(request('r'));
    expect(await repo.find('r')).toEqual(request('r'));
    // Another client, or the right one too late: refused, and the request stays as it was.
    expect(await repo.consume('r', 'other', 2000)).toBeUndefined();
    expect(await repo.consume('r', 'c', 61_000)).toBeUndefined();
    expect(await repo.find('r')).toEqual(request('r'));
    expect(await repo.consume('r', 'c', 60_999)).toEqual(request('r'));
    expect(await repo.consume('r', 'c', 60_999)).toBeUndefined();
    expect(await repo.find('r')).toBeUndefined();
    expect(await repo.consume('never-pushed', 'c', 2000)).toBeUndefined();
  });

  it('gives a request used at once by 24 callers on three nodes to exactly one', async () => {
    const database = await freshDatabase(engine);
    const nodes = [await database.node(), await database.node(), await database.node()];
    await withClients(nodes[0]!);
    for (let round = 0; round < 5; round++) {
      await nodes[0]!.pushedAuthorizationRequests.create(request(`race-${round}`));
      const got = await inParallel(24, (i) =>
        nodes[i % 3]!.pushedAuthorizationRequests.consume(`race-${round}`, 'c', 2000),
      );
      expect(got.filter(Boolean)).toEqual([request(`race-${round}`)]);
    }
  });

  it('goes with its client', async () => {
    const node = await (await freshDatabase(engine)).node();
    await withClients(node);
    await node.pushedAuthorizationRequests.create(request('r', { clientId: 'other' }));
    await node.query("delete from clients where id = 'other'");
    expect(await node.pushedAuthorizationRequests.find('r')).toBeUndefined();
  });
});
