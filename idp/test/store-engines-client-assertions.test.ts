/**
 * The replay store of client assertions (RFC 7523 §3 item 7) on both engines: a `jti` is used once
 * per client, whichever node sees it and however many race for it, and the expiry sweep deletes its
 * record once the assertion has expired, not a millisecond earlier.
 */
import { silentLogger } from '@tessera/shared';
import { describe, expect, it } from 'vitest';
import { sweepExpired } from '../src/workers/expiry-sweep.js';
import { ENGINES, freshDatabase, useEngines } from './support/store-engines.js';

useEngines();

const T = 1_800_000_000_000;

describe.each(ENGINES)('client assertion jtis on %s', (engine) => {
  it('accept a jti once per client; another client may use the same value', async () => {
    const node = await (await freshDatabase(engine)).node();
    expect(await node.clientAssertions.use('a', 'j1', T)).toBe(true);
    expect(await node.clientAssertions.use('a', 'j1', T + 5)).toBe(false);
    expect(await node.clientAssertions.use('b', 'j1', T)).toBe(true);
    // The pair cannot be forged by moving the separator: client ids have no space.
    expect(await node.clientAssertions.use('a', 'j1 x', T)).toBe(true);
  });

  it('let exactly one of many concurrent uses on two nodes win', async () => {
    const database = await freshDatabase(engine);
    const nodes = [await database.node(), await database.node()];
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => nodes[i % 2]!.clientAssertions.use('a', 'raced', T)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('are swept once expired, after which the jti is free again', async () => {
    const node = await (await freshDatabase(engine)).node();
    await node.clientAssertions.use('a', 'old', T);
    await node.clientAssertions.use('a', 'live', T + 1000);
    const sweep = (now: number) =>
      sweepExpired({
        store: node,
        clock: { now: () => now },
        log: silentLogger,
        config: { accessTokenTtl: 300, auditRetentionDays: 90 },
      });
    expect((await sweep(T)).clientAssertions).toBe(0);
    expect((await sweep(T + 1)).clientAssertions).toBe(1);
    expect(await node.clientAssertions.use('a', 'live', T + 1000)).toBe(false);
    expect(await node.clientAssertions.use('a', 'old', T + 2000)).toBe(true);
  });
});
