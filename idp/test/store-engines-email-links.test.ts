/**
 * Links mailed to people, on both engines: only unused, unexpired links of the right purpose are
 * found or used; a use is won by exactly one of any number of concurrent uses, on any node; a
 * newer link of the same purpose for the same holder voids the older, and nobody else's.
 */
import { silentLogger } from '@tessera/shared';
import { describe, expect, it } from 'vitest';
import type { EmailLink } from '../src/store/index.js';
import { sweepExpired } from '../src/workers/expiry-sweep.js';
import { ENGINES, freshDatabase, inParallel, type StoreNode, useEngines } from './support/store-engines.js';

useEngines();

const T = 1_800_000_000_000;
const MINUTE = 60_000;

async function withPeople(node: StoreNode, ...ids: string[]): Promise<void> {
  for (const id of ids)
    await node.query(
      'insert into users (id, email, display_name, password_hash, created_at, updated_at) values (?, ?, ?, ?, ?, ?)',
      [id, `${id}@example.com`, id, 'x', T, T],
    );
}

const link = (over: Partial<EmailLink> = {}): Omit<EmailLink, 'usedAt'> => ({
  digest: 'digest-1',
  purpose: 'password_reset',
  userId: 'alice',
  email: 'alice@example.com',
  createdAt: T,
  expiresAt: T + 30 * MINUTE,
  ...over,
});

describe.each(ENGINES)('email links on %s', (engine) => {
  it('find and use a link only for its purpose, unused and unexpired, and once', async () => {
    const node = await (await freshDatabase(engine)).node();
    await withPeople(node, 'alice');
    await node.emailLinks.issue(link());
    expect(await node.emailLinks.findUsable('digest-1', 'password_reset', T + 1)).toEqual({ ...link(), usedAt: null });
    expect(await node.emailLinks.findUsable('digest-1', 'email_verification', T + 1)).toBeUndefined();
    expect(await node.emailLinks.use('digest-1', 'email_change', T + 1)).toBeUndefined();
    expect(await node.emailLinks.findUsable('digest-1', 'password_reset', T + 30 * MINUTE)).toBeUndefined();
    expect(await node.emailLinks.use('digest-1', 'password_reset', T + 30 * MINUTE)).toBeUndefined();
    expect(await node.emailLinks.findUsable('nope', 'password_reset', T + 1)).toBeUndefined();
    expect(await node.emailLinks.use('bad\u0000digest', 'password_reset', T + 1)).toBeUndefined();

    expect(await node.emailLinks.use('digest-1', 'password_reset', T + 5)).toEqual({ ...link(), usedAt: T + 5 });
    expect(await node.emailLinks.use('digest-1', 'password_reset', T + 6)).toBeUndefined();
    expect(await node.emailLinks.findUsable('digest-1', 'password_reset', T + 6)).toBeUndefined();
  });

  it('give a link to exactly one of many concurrent uses, across nodes', async () => {
    const database = await freshDatabase(engine);
    const nodes = [await database.node(), await database.node(), await database.node()];
    await withPeople(nodes[0]!, 'alice');
    await nodes[0]!.emailLinks.issue(link());
    const uses = await inParallel(24, (i) => nodes[i % 3]!.emailLinks.use('digest-1', 'password_reset', T + 1));
    expect(uses.filter((u) => u !== undefined)).toHaveLength(1);
  });

  it('void the older link of the same purpose and holder when a newer one is issued, and only that', async () => {
    const node = await (await freshDatabase(engine)).node();
    await withPeople(node, 'alice', 'bob');
    await node.emailLinks.issue(link());
    await node.emailLinks.issue(link({ digest: 'verify-1', purpose: 'email_verification' }));
    await node.emailLinks.issue(link({ digest: 'bob-1', userId: 'bob', email: 'bob@example.com' }));
    // Invitations are held by an address: a newer one to the same address voids the older.
    await node.emailLinks.issue(
      link({ digest: 'invite-1', purpose: 'invitation', userId: null, email: 'c@example.com' }),
    );
    await node.emailLinks.issue(
      link({ digest: 'invite-d', purpose: 'invitation', userId: null, email: 'd@example.com' }),
    );

    await node.emailLinks.issue(link({ digest: 'digest-2', createdAt: T + 1 }));
    await node.emailLinks.issue(
      link({ digest: 'invite-2', purpose: 'invitation', userId: null, email: 'c@example.com', createdAt: T + 1 }),
    );
    expect(await node.emailLinks.use('digest-1', 'password_reset', T + 2)).toBeUndefined();
    expect(await node.emailLinks.use('invite-1', 'invitation', T + 2)).toBeUndefined();
    for (const [digest, purpose] of [
      ['digest-2', 'password_reset'],
      ['verify-1', 'email_verification'],
      ['bob-1', 'password_reset'],
      ['invite-2', 'invitation'],
      ['invite-d', 'invitation'],
    ] as const)
      expect(await node.emailLinks.findUsable(digest, purpose, T + 2), digest).toBeDefined();

    expect(await node.emailLinks.voidForUser('alice', 'password_reset', T + 3)).toBe(1);
    expect(await node.emailLinks.findUsable('digest-2', 'password_reset', T + 3)).toBeUndefined();
    expect(await node.emailLinks.findUsable('verify-1', 'email_verification', T + 3)).toBeDefined();
    expect(await node.emailLinks.findUsable('bob-1', 'password_reset', T + 3)).toBeDefined();
  });

  it('are swept once expired, not a millisecond earlier, and go with the account', async () => {
    const node = await (await freshDatabase(engine)).node();
    await withPeople(node, 'alice', 'bob');
    await node.emailLinks.issue(link());
    await node.emailLinks.issue(link({ digest: 'later', purpose: 'email_verification', expiresAt: T + 60 * MINUTE }));
    await node.emailLinks.issue(link({ digest: 'bob-1', userId: 'bob', email: 'bob@example.com' }));
    const sweep = async (now: number) =>
      (
        await sweepExpired({
          store: node,
          clock: { now: () => now },
          log: silentLogger,
          config: { accessTokenTtl: 300, auditRetentionDays: 90 },
        })
      ).emailLinks;
    expect(await sweep(T + 30 * MINUTE)).toBe(0);
    expect(await sweep(T + 30 * MINUTE + 1)).toBe(2);
    expect(await node.emailLinks.findUsable('later', 'email_verification', T)).toBeDefined();
    await node.query('delete from users where id = ?', ['alice']);
    expect(await node.emailLinks.findUsable('later', 'email_verification', T)).toBeUndefined();
  });
});
