/**
 * Back-channel logout deliveries with several issuer processes on one database file: each attempt
 * is claimed in the store before it is sent, so two processes never send the same one, and an
 * attempt whose process died is made again once its claim lapses. The two issuers here are two
 * connections to one file, as two processes are to SQLite.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@tessera/shared/testing';
import type { BackchannelDelivery } from '../src/store/index.js';
import { startIssuer, type RunningIssuer } from './support/fixture.js';
import { pendingDelivery } from '../src/workers/backchannel-delivery.js';
import { LogoutReceiver } from './support/logout-receiver.js';

/** How long the claim of a process that dies lasts, in these tests. */
const LEASE_MS = 600;

let first: RunningIssuer;
let second: RunningIssuer;
const receiver = new LogoutReceiver();

beforeAll(async () => {
  await receiver.start();
  first = await startIssuer();
  second = await startIssuer({ database: first.database });
});
afterAll(async () => {
  await second.stop();
  await first.cleanup();
  receiver.stop();
});
afterEach(() => {
  receiver.tokens = [];
  receiver.statuses = [];
});

/** Pending deliveries to the receiver, due now, written straight to the queue. */
async function enqueue(n: number): Promise<BackchannelDelivery[]> {
  const now = first.clock.now();
  const rows = Array.from({ length: n }, (_, i) =>
    pendingDelivery({ clientId: 'rp', uri: receiver.url, logoutToken: `logout-token-${randomUUID()}-${i}` }, now),
  );
  await first.issuer.ctx.store.backchannel.enqueue(rows);
  return rows;
}

const row = (id: string) => first.issuer.ctx.store.backchannel.get(id);

describe('two issuers delivering from one queue', () => {
  it('send each pending delivery once, however they race for it', async () => {
    const rows = await enqueue(20);
    // Both look at the queue in the same turn of the event loop: each reads all 20 as due.
    first.issuer.ctx.backchannel.kick();
    second.issuer.ctx.backchannel.kick();
    await eventually(async () => (await Promise.all(rows.map((r) => row(r.id)))).every((r) => r?.deliveredAt));
    // A second send, had there been one, would have been answered by now as well.
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.tokens.sort()).toEqual(rows.map((r) => r.logoutToken).sort());
    for (const r of rows) expect(await row(r.id)).toMatchObject({ attempts: 1, failedAt: null });
  });

  it('send again, once its claim lapses, a delivery claimed by a process that died before sending it', async () => {
    const [delivery] = await enqueue(1);
    // A process claims it and dies: nothing else is ever written for that attempt.
    const now = first.clock.now();
    const [claimed] = await first.issuer.ctx.store.backchannel.claimDue(now, 16, now + LEASE_MS);
    expect(claimed).toMatchObject({ id: delivery!.id, attempts: 1 });
    second.issuer.ctx.backchannel.kick();
    await new Promise((r) => setTimeout(r, LEASE_MS / 2));
    expect(receiver.tokens).toEqual([]);
    await eventually(async () => (await row(delivery!.id))?.deliveredAt != null);
    expect(receiver.tokens).toEqual([delivery!.logoutToken]);
    expect(await row(delivery!.id)).toMatchObject({ attempts: 2 });
  });
});

describe('the queue', () => {
  it("records the outcome of an attempt only while that attempt's claim stands", async () => {
    const [delivery] = await enqueue(1);
    const { backchannel } = first.issuer.ctx.store;
    const t = first.clock.now();
    const [late] = await backchannel.claimDue(t, 16, t + 10);
    // The lease lapsed; another process claims the row again.
    const [current] = await backchannel.claimDue(t + 20, 16, t + 1000);
    expect([late!.attempts, current!.attempts]).toEqual([1, 2]);
    expect(await backchannel.markDelivered(delivery!.id, late!.attempts, t + 30)).toBe(false);
    expect(await backchannel.markFailed(delivery!.id, late!.attempts, t + 30, 'late')).toBe(false);
    expect(await backchannel.markRetry(delivery!.id, current!.attempts, t + 500, 'HTTP 503')).toBe(true);
    expect(await row(delivery!.id)).toMatchObject({
      attempts: 2,
      nextAttemptAt: t + 500,
      deliveredAt: null,
      failedAt: null,
    });
    // Claimed again only once that retry is due.
    expect(await backchannel.claimDue(t + 499, 16, t + 1500)).toEqual([]);
    expect(await backchannel.claimDue(t + 500, 16, t + 1500)).toMatchObject([{ id: delivery!.id, attempts: 3 }]);
    expect(await backchannel.markDelivered(delivery!.id, 3, t + 600)).toBe(true);
  });
});
