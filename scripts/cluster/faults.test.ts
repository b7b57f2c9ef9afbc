/**
 * Faults in `npm run start:cluster`'s deployment: three issuer nodes on one PostgreSQL server
 * behind nginx (round robin, no stickiness), under load — people rotating refresh tokens through
 * the load balancer. Each fault is bounded in time; each ends with the acknowledged writes checked.
 *
 * - A node killed with SIGKILL: the balancer routes around it; only requests in flight on it fail;
 *   no acknowledged rotation is lost; restarted, it serves again (it alone, at the end).
 * - PostgreSQL stopped and started again: every node reports not-ready (/readyz 503) while it is
 *   down, refuses rather than answers from memory, reconnects on its own and serves again; the
 *   stored grants, tokens and sessions are consistent afterwards.
 * - One node cut off from the database (a black-hole partition of its connections): that node
 *   stops serving — not-ready, and a session ended elsewhere is never honoured by it — while the
 *   others serve; healed, it serves again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { withDPoP } from '@tessera/shared';
import { startThrowawayPostgres, type ThrowawayPostgres } from '@tessera/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoStack, type DemoStack } from '../src/demo-stack.js';
import { freePorts } from '../src/free-ports.js';
import { rotate, signIn, startRefreshLoad, type HeldRefreshToken } from './refresh-load.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const PASSWORD = 'fault-test-password';
const EMAIL = 'alice@example.com';
const PEOPLE = 6;

let postgres: ThrowawayPostgres;
let stack: DemoStack;
let proxies: TcpProxy[];
let dir: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The node's readiness, asked of the node itself (not through the balancer). */
async function readiness(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) })).status;
  } catch {
    return 0;
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
  return Date.now() - started;
}

/** Rows that break what the store promises, over grants, tokens, codes and sessions: none expected. */
async function inconsistencies(): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    const checks = {
      // Each consumed code yields exactly one grant; an unconsumed one none.
      codeGrants: `select c.digest, c.consumed_at, count(g.id) as grants from authorization_codes c
        left join grants g on g.code_digest = c.digest group by c.digest, c.consumed_at
        having count(g.id) <> case when c.consumed_at is null then 0 else 1 end`,
      // A grant has at most one live refresh token (rotation replaces it in one transaction).
      liveRefreshTokens: `select grant_id, count(*) as live from refresh_tokens
        where rotated_at is null and revoked_at is null group by grant_id having count(*) > 1`,
      // Every grant was made in a session that exists (sessions are not swept while this runs).
      orphanGrants: 'select id from grants g where not exists (select 1 from sso_sessions s where s.id = g.session_id)',
    };
    const found: Record<string, unknown>[] = [];
    for (const [name, sql] of Object.entries(checks)) {
      for (const row of (await client.query(sql)).rows) found.push({ check: name, ...row });
    }
    return found;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  postgres = await startThrowawayPostgres();
  dir = mkdtempSync(join(tmpdir(), 'tessera-faults-'));
  const target = { host: '127.0.0.1', port: postgres.port };
  proxies = await Promise.all([1, 2, 3].map(() => startTcpProxy(target)));
  const [p1, p2, p3] = await freePorts(3);
  stack = await startDemoStack({
    urls: {
      issuer: `http://idp.localhost:${p1}`,
      appA: `http://app-a.localhost:${p2}`,
      appB: `http://app-b.localhost:${p3}`,
    },
    database: postgres.url,
    issuerNodes: 3,
    // Each node reaches the database through a relay of its own, which the partition test cuts.
    nodeEnv: (i) => ({ TESSERA_DATABASE: postgres.url.replace(`:${postgres.port}/`, `:${proxies[i]!.port}/`) }),
    password: PASSWORD,
    // FAULTS_DEBUG=1 shows every service's output (nginx's says which node failed when).
    output: (service, line) => {
      if (process.env.FAULTS_DEBUG) process.stderr.write(`[${service}] ${line}\n`);
    },
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all((proxies ?? []).map((p) => p.close()));
  await postgres?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const load = () =>
  startRefreshLoad({
    issuer: stack.urls.issuer,
    appB: stack.urls.appB,
    email: EMAIL,
    password: PASSWORD,
    people: PEOPLE,
  });

/** Each token must rotate once more: an acknowledged rotation the store lost would be refused. */
async function expectAllStillRotate(tokens: HeldRefreshToken[]): Promise<void> {
  const results = await Promise.all(tokens.map((t) => rotate(stack.urls.issuer, t)));
  expect(results.map((r) => r.status)).toEqual(tokens.map(() => 200));
}

describe('three issuer nodes on PostgreSQL behind nginx, under load', () => {
  it('a node killed with SIGKILL: routed around, only its in-flight requests fail, none lost, it rejoins', async () => {
    const running = await load();
    await sleep(1500);
    const victim = stack.nodes[1]!;
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    await sleep(3000);
    const failuresAfterKill = running.outcomes.filter((o) => o.at >= killedAt && o.status !== 200);
    // Each person has one request in flight at most: only those on the dead node may fail.
    const seen = failuresAfterKill.map((o) => `${o.status} at +${o.at - killedAt} ms`).join(', ');
    expect(failuresAfterKill.length, seen).toBeLessThanOrEqual(PEOPLE);
    expect(failuresAfterKill.every((o) => o.status === 502 || o.status === 0)).toBe(true);
    await victim.restart();
    await sleep(1500);
    const tokens = await running.stop();
    const succeeded = running.outcomes.filter((o) => o.status === 200).length;
    expect(succeeded).toBeGreaterThan(50);
    await expectAllStillRotate(tokens);
    expect(await inconsistencies()).toEqual([]);
    // It rejoined: with the other two stopped, it alone answers at the issuer's URL.
    const others = stack.nodes.filter((n) => n !== victim);
    for (const n of others) await n.kill('SIGTERM');
    try {
      // nginx learns of the two gone nodes from failed attempts (it has no probes of its own), and
      // may find all three marked failed for a moment (fail_timeout): a bound, not the first try.
      const signedIn = () =>
        signIn(stack.urls.issuer, stack.urls.appB, EMAIL, PASSWORD).then(
          () => true,
          () => false,
        );
      await until('the restarted node alone serving sign-ins', signedIn, 10_000);
    } finally {
      for (const n of others) await n.restart();
    }
  });

  it('PostgreSQL stopped and started: nodes not ready and refusing while it is down, then serving again', async () => {
    const running = await load();
    await sleep(1000);
    await postgres.stopServer('fast');
    const downAt = Date.now();
    const notReadyIn = await until(
      'every node not ready',
      async () => (await Promise.all(stack.nodes.map((n) => readiness(n.port)))).every((s) => s === 503),
      10_000,
    );
    await sleep(1000);
    await postgres.startServer();
    const upAt = Date.now();
    const readyIn = await until(
      'every node ready again',
      async () => (await Promise.all(stack.nodes.map((n) => readiness(n.port)))).every((s) => s === 200),
      20_000,
    );
    // Rotations are acknowledged again once nginx tries the nodes again (fail_timeout, 2 s).
    await until(
      'rotations acknowledged again',
      async () => running.outcomes.some((o) => o.at > upAt && o.status === 200),
      15_000,
    );
    await sleep(500);
    const tokens = await running.stop();
    // While the database was down nothing was acknowledged; after it came back, rotations succeed.
    const during = running.outcomes.filter((o) => o.at > downAt + 200 && o.at < upAt);
    expect(during.filter((o) => o.status === 200)).toEqual([]);
    expect(during.every((o) => o.status >= 500 || o.status === 0)).toBe(true);
    await expectAllStillRotate(tokens);
    expect(await inconsistencies()).toEqual([]);
    process.stdout.write(`not ready within ${notReadyIn} ms of the stop; ready again ${readyIn} ms after the start\n`);
  });

  it('one node cut off from the database stops serving (never a stale decision) while the others serve', async () => {
    const isolated = stack.nodes[2]!;
    let owed: HeldRefreshToken[] = [];
    const token = await signIn(stack.urls.issuer, stack.urls.appB, EMAIL, PASSWORD);
    proxies[2]!.cut();
    try {
      await until('the cut-off node not ready', async () => (await readiness(isolated.port)) === 503, 15_000);
      // The token is revoked by a node that still reaches the database …
      const revoked = await fetch(`http://127.0.0.1:${stack.nodes[0]!.port}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: token.refreshToken, client_id: 'app-b' }),
      });
      expect(revoked.status).toBe(200);
      // … and the cut-off node, asked directly, never accepts it: it refuses to answer at all.
      const res = await withDPoP(token.dpop, fetch)(`http://127.0.0.1:${isolated.port}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: token.refreshToken,
          client_id: 'app-b',
        }).toString(),
        signal: AbortSignal.timeout(30_000),
      });
      expect(res.status).toBe(503);
      // The others keep serving through the balancer. A request the balancer sends the cut-off
      // node is refused (503 after the connection timeout), and the balancer then leaves it out
      // for a while; nothing is ever answered 200 from what it remembers.
      const running = await load();
      await sleep(3000);
      owed = await running.stop();
      expect(running.outcomes.filter((o) => o.status === 200).length).toBeGreaterThan(10);
      expect(running.outcomes.filter((o) => o.status !== 200 && o.status !== 503)).toEqual([]);
    } finally {
      proxies[2]!.heal();
    }
    await until('the healed node ready again', async () => (await readiness(isolated.port)) === 200, 20_000);
    // Healed, it serves — and knows the token was revoked meanwhile.
    const res = await rotate(`http://127.0.0.1:${isolated.port}`, token);
    expect(res.status).toBe(400);
    await expectAllStillRotate(owed);
    expect(await inconsistencies()).toEqual([]);
  });
});
