/**
 * Each issuer process looks at the back-channel queue every `pollMs` on its own: a delivery that
 * falls due with no event in a process — the claim of another process that died — goes out all
 * the same, and a queue that cannot be read (the database away) is logged and looked at again,
 * never an unhandled rejection (which would end the process).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@tessera/shared';
import { eventually } from '@tessera/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingDelivery } from '../src/workers/backchannel-delivery.js';
import { startIssuer, type RunningIssuer } from './support/fixture.js';
import { LogoutReceiver } from './support/logout-receiver.js';

const LEASE_MS = 400;
const POLL_MS = 150;

const receiver = new LogoutReceiver();
const events: string[] = [];
const log: Logger = {
  info: (event) => events.push(event),
  warn: (event) => events.push(event),
  error: (event) => events.push(event),
};
let dead: RunningIssuer;
let idle: RunningIssuer;

beforeAll(async () => {
  await receiver.start();
  dead = await startIssuer();
  idle = await startIssuer({ database: dead.database, issuer: { log, backchannel: { pollMs: POLL_MS } } });
});
afterAll(async () => {
  await idle?.stop();
  await dead?.cleanup();
  receiver.stop();
});

async function enqueue() {
  const [delivery] = [
    pendingDelivery({ clientId: 'rp', uri: receiver.url, logoutToken: `t-${randomUUID()}` }, dead.clock.now()),
  ];
  await dead.issuer.ctx.store.backchannel.enqueue([delivery!]);
  return delivery!;
}

describe('the back-channel queue, polled', () => {
  it("is delivered by a process that saw nothing happen, once a dead process's claim lapses", async () => {
    const delivery = await enqueue();
    const now = dead.clock.now();
    // Claimed by a process that then dies: it never sends, and tells no one.
    await dead.issuer.ctx.store.backchannel.claimDue(now, 16, now + LEASE_MS);
    await eventually(async () => (await idle.issuer.ctx.store.backchannel.get(delivery.id))?.deliveredAt != null);
    expect(receiver.tokens).toEqual([delivery.logoutToken]);
  });

  it('is looked at again after the store failed, with the failure logged', async () => {
    const { database } = idle.issuer.ctx.store;
    await database.query('alter table backchannel_deliveries rename to backchannel_deliveries_gone');
    try {
      idle.issuer.ctx.backchannel.kick();
      await eventually(() => events.includes('backchannel_logout.queue_unavailable'));
    } finally {
      await database.query('alter table backchannel_deliveries_gone rename to backchannel_deliveries');
    }
    const delivery = await enqueue();
    await eventually(async () => (await idle.issuer.ctx.store.backchannel.get(delivery.id))?.deliveredAt != null);
  });
});
