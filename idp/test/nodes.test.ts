/**
 * The N-node properties over HTTP (docs/architecture.md, "State across nodes"): three issuer
 * nodes on one PostgreSQL database — one in this process (the test registers clients and people
 * through it), two as processes of their own running `src/main.ts` as production does — and
 * requests spread over them as a load balancer without stickiness spreads them. What one node
 * decides, every node abides by: a code or refresh token used at two nodes at once wins once and
 * the loser is a replay; a client changed through one node, or deleted with the CLI, is refused
 * by all at once; a logout ended at one node is delivered once however many nodes' notifiers
 * watch the queue; wrong passwords sent to different nodes add up. The key ring across nodes is
 * in nodes-keys.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createCookieJarClient, eventually, formValue, type CookieJarClient } from '@tessera/shared/testing';
import type { PasswordParams } from '../src/crypto/passwords.js';
import { registerClient, updateClient } from '../src/protocol/registration.js';
import { accountThrottleKey } from '../src/protocol/sign-in-throttle.js';
import {
  authorizeQuery,
  basicAuth,
  browserFlow,
  getAuthorize,
  postToken,
  redeem,
  signInAndRedeem,
} from './support/browser.js';
import { PASSWORD, registerPerson, registerWebClient } from './support/fixture.js';
import { LogoutReceiver } from './support/logout-receiver.js';
import { runCli } from './support/issuer-process.js';
import { countOf, useNodeProcesses, useNodeServer, type NodeAddress } from './support/nodes.js';

/** Cheap argon2id: what is under test is the bookkeeping across nodes, not the hashing. */
const FAST: PasswordParams = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const RACES = 50;

useNodeServer();

/**
 * The nodes of every test here, started once: on one database, so each test uses clients, people
 * and addresses of its own. Node 0 hashes cheaply and looks at the back-channel queue every 20 ms
 * (see the logout test); the trusted proxy lets the throttle test speak from many addresses.
 */
const set = useNodeProcesses(3, {
  env: { TESSERA_TRUST_PROXY: '1' },
  first: { issuer: { passwordParams: FAST, backchannel: { baseDelayMs: 50, pollMs: 20 } } },
});
const { nodes, fx, db } = set;

const userinfo = async (node: NodeAddress, accessToken: string) => {
  const res = await fetch(new URL('/userinfo', node.url), { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: res.status, error: ((await res.json()) as { error?: string }).error };
};

describe('authorization codes at three nodes', () => {
  let jar: CookieJarClient;

  /** A fresh code for the public client through alice's SSO session, issued by `node`. */
  async function freshCode(node: NodeAddress) {
    const flow = await browserFlow(node.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri }, null, jar);
    return {
      code: flow.callback.searchParams.get('code')!,
      code_verifier: flow.verifier,
      redirect_uri: fx.redirectUri,
      client_id: fx.publicClient.id,
    };
  }

  it(`are redeemed once when sent to two nodes at the same instant, ${RACES} times over`, async () => {
    ({ jar } = await signInAndRedeem(nodes[0]!.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri }));
    const bodies = [];
    for (let i = 0; i < RACES; i++) bodies.push(await freshCode(nodes[i % 3]!));
    const revokedBefore = await countOf(db, 'select count(*) as n from grants where revoked_at is not null');

    const races = await Promise.all(
      bodies.map((body, i) => Promise.all([redeem(nodes[i % 3]!.url, body), redeem(nodes[(i + 1) % 3]!.url, body)])),
    );
    const winners = races.flatMap((race) => race.filter((r) => r.status === 200));
    const losers = races.flatMap((race) => race.filter((r) => r.status !== 200));
    expect(races.map((race) => race.map((r) => r.status).sort())).toEqual(Array(RACES).fill([200, 400]));
    expect(winners).toHaveLength(RACES);
    expect(losers.map((r) => r.json.error)).toEqual(Array(RACES).fill('invalid_grant'));

    // RFC 6749 §4.1.2: the losing use is a replay, and the winner's tokens are revoked with its
    // grant, as on one node (refusals-token.test.ts) — at every node.
    expect(await countOf(db, 'select count(*) as n from grants where revoked_at is not null')).toBe(
      revokedBefore + RACES,
    );
    const infos = await Promise.all(winners.map((w, i) => userinfo(nodes[i % 3]!, w.json.access_token as string)));
    expect(infos).toEqual(Array(RACES).fill({ status: 401, error: 'invalid_token' }));
  });

  it('are refused at every node once redeemed at one, and the replay revokes what the first use got', async () => {
    const body = await freshCode(nodes[1]!);
    const first = await redeem(nodes[2]!.url, body);
    expect(first.status).toBe(200);
    expect(await userinfo(nodes[0]!, first.json.access_token as string)).toEqual({ status: 200, error: undefined });
    const replay = await redeem(nodes[0]!.url, body);
    expect([replay.status, replay.json.error]).toEqual([400, 'invalid_grant']);
    for (const node of nodes)
      expect(await userinfo(node, first.json.access_token as string)).toEqual({
        status: 401,
        error: 'invalid_token',
      });
  });
});

describe('refresh tokens at three nodes', () => {
  const web = { id: 'web-refresh', name: 'Web (refresh)', secret: 'web-refresh-secret-web-refresh-secret' };
  const refresh = (node: NodeAddress, token: string) =>
    postToken(
      node.url,
      { grant_type: 'refresh_token', refresh_token: token },
      { authorization: basicAuth(web.id, web.secret) },
    );

  it(`are rotated once at two nodes at once, the loser revoking the family, ${RACES} times over`, async () => {
    await registerWebClient(set.first, fx, web);
    const first = await signInAndRedeem(nodes[0]!.url, { clientId: web.id, redirectUri: fx.redirectUri, auth: web });
    const families: { refresh: string; access: string }[] = [
      { refresh: first.tokens.refresh_token as string, access: first.tokens.access_token as string },
    ];
    while (families.length < RACES) {
      const node = nodes[families.length % 3]!;
      const flow = await browserFlow(node.url, { clientId: web.id, redirectUri: fx.redirectUri }, null, first.jar);
      const res = await redeem(
        node.url,
        { code: flow.callback.searchParams.get('code')!, code_verifier: flow.verifier, redirect_uri: fx.redirectUri },
        web,
      );
      expect(res.status).toBe(200);
      families.push({ refresh: res.json.refresh_token as string, access: res.json.access_token as string });
    }

    const races = await Promise.all(
      families.map((f, i) => Promise.all([refresh(nodes[i % 3]!, f.refresh), refresh(nodes[(i + 1) % 3]!, f.refresh)])),
    );
    expect(races.map((race) => race.map((r) => r.status).sort())).toEqual(Array(RACES).fill([200, 400]));
    const winners = races.map((race) => race.find((r) => r.status === 200)!);
    expect(races.map((race) => race.find((r) => r.status === 400)!.json.error)).toEqual(
      Array(RACES).fill('invalid_grant'),
    );

    // RFC 9700 §4.14.2: the losing use is a reuse, as on one node (refresh.test.ts): the winner's
    // new refresh and access tokens die with the family, whichever node is asked.
    const after = await Promise.all(
      winners.map(async (w, i) => ({
        refresh: (await refresh(nodes[(i + 2) % 3]!, w.json.refresh_token as string)).json.error,
        access: (await userinfo(nodes[(i + 2) % 3]!, w.json.access_token as string)).status,
        original: (await userinfo(nodes[i % 3]!, families[i]!.access)).status,
      })),
    );
    expect(after).toEqual(Array(RACES).fill({ refresh: 'invalid_grant', access: 401, original: 401 }));
  });
});

describe('a client changed through one node', () => {
  const web = { id: 'web-changed', name: 'Web (changed)', secret: 'web-changed-secret-web-changed-secret' };

  it('is refused with its old secret and redirect URI at a node that served it just before, at once', async () => {
    const { client } = await registerWebClient(set.first, fx, web, {
      redirectUris: [fx.redirectUri, 'http://127.0.0.1:9/second-callback'],
    });
    // Node 2, a process of its own, serves the client (a code redeemed with its secret, an
    // authorization to the second URI) in the session alice opened at node 0.
    const { jar } = await signInAndRedeem(nodes[0]!.url, { clientId: web.id, redirectUri: fx.redirectUri, auth: web });
    const flow = await browserFlow(nodes[2]!.url, { clientId: web.id, redirectUri: fx.redirectUri }, null, jar);
    const served = await redeem(
      nodes[2]!.url,
      { code: flow.callback.searchParams.get('code')!, code_verifier: flow.verifier, redirect_uri: fx.redirectUri },
      web,
    );
    expect(served.status).toBe(200);
    const old = served.json.refresh_token as string;
    const authorize = () =>
      browserFlow(nodes[2]!.url, { clientId: web.id, redirectUri: 'http://127.0.0.1:9/second-callback' }, null, jar);
    expect((await authorize()).callback.searchParams.get('code')).toBeTruthy();

    // The registration function the demo seeding calls, at node 0: a new secret, and the second
    // redirect URI gone.
    const changed = await updateClient({ store: set.first.issuer.ctx.store, clock: set.first.clock }, client, {
      id: web.id,
      name: web.name,
      type: 'confidential',
      party: 'first',
      redirectUris: [fx.redirectUri],
      resources: [fx.api.id],
      grantTypes: ['refresh_token'],
      secret: 'web-changed-new-secret-web-changed-new',
    });
    expect(changed.secret).toBe('web-changed-new-secret-web-changed-new');

    // Node 2 first, the process that served the client just before; then the others.
    for (const node of [nodes[2]!, nodes[0]!, nodes[1]!]) {
      const withOld = await postToken(
        node.url,
        { grant_type: 'refresh_token', refresh_token: old },
        { authorization: basicAuth(web.id, web.secret) },
      );
      expect([withOld.status, withOld.json.error]).toEqual([401, 'invalid_client']);
    }
    // RFC 6749 §4.1.2.1: a redirect URI no longer registered is not redirected to.
    await expect(authorize()).rejects.toThrow(/expected a redirect to the client, got 400/);
    // The new secret works at every node (the refresh token was not used by the refusal).
    let token = old;
    for (const node of nodes) {
      const res = await postToken(
        node.url,
        { grant_type: 'refresh_token', refresh_token: token },
        { authorization: basicAuth(web.id, changed.secret!) },
      );
      expect(res.status).toBe(200);
      token = res.json.refresh_token as string;
    }
  });

  it('is refused by every node as soon as `clients delete` has run, with the tokens it was given', async () => {
    const gone = { id: 'web-deleted', name: 'Web (deleted)', secret: 'web-deleted-secret-web-deleted-secret' };
    await registerWebClient(set.first, fx, gone);
    // Signed in at node 0: the sign-in form posts to the issuer's own origin, node 0's URL.
    const { jar, tokens } = await signInAndRedeem(nodes[0]!.url, {
      clientId: gone.id,
      redirectUri: fx.redirectUri,
      auth: gone,
    });
    const access = tokens.access_token as string;
    const refreshWith = (node: NodeAddress, refreshToken: string) =>
      postToken(
        node.url,
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        { authorization: basicAuth(gone.id, gone.secret) },
      );
    // Every node serves the client just before: a refresh each, and its access token at userinfo.
    let refreshToken = tokens.refresh_token as string;
    for (const node of nodes) {
      const res = await refreshWith(node, refreshToken);
      expect(res.status).toBe(200);
      refreshToken = res.json.refresh_token as string;
      expect((await userinfo(node, access)).status).toBe(200);
    }

    expect(await countOf(db, 'select count(*) as n from grants where client_id = $1', [gone.id])).toBe(1);
    // The operator's command, a process of its own on the nodes' database.
    const run = await runCli(set.url, ['clients', 'delete', '--id', gone.id, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ client_id: gone.id, deleted: true });

    // No node caches a client: the bound is the next request, at every node.
    for (const node of nodes) {
      const res = await refreshWith(node, refreshToken);
      expect([res.status, res.json.error]).toEqual([401, 'invalid_client']);
      // RFC 6749 §4.1.2.1: an unknown client is told to the browser, never redirected to.
      const page = await getAuthorize(
        node.url,
        authorizeQuery({ clientId: gone.id, redirectUri: fx.redirectUri }),
        jar,
      );
      expect([page.status, page.headers.get('location')]).toEqual([400, null]);
      expect(await page.text()).toContain('<code>invalid_client</code>');
      expect(await userinfo(node, access)).toEqual({ status: 401, error: 'invalid_token' });
    }
    expect(await countOf(db, 'select count(*) as n from grants where client_id = $1', [gone.id])).toBe(0);
    expect(
      await countOf(db, "select count(*) as n from audit_events where type = 'client.deleted' and client_id = $1", [
        gone.id,
      ]),
    ).toBe(1);
  });
});

describe('back-channel logout with three nodes delivering', () => {
  // Every node delivers at once what it queues itself. The two processes look at the queue every
  // 10 s besides (their default); node 0 every 20 ms, so the deliveries a process queues when a
  // logout ends there are claimed by two processes at once, with nothing shared but the rows.
  const apps = [new LogoutReceiver(), new LogoutReceiver()];
  const secret = 'rp-logout-secret-rp-logout-secret-rp';
  const SESSIONS = 10;

  it('sends each app exactly one logout token per ended session, whichever node ended it', async () => {
    for (const app of apps) await app.start();
    try {
      for (const [i, app] of apps.entries())
        await registerClient(
          { store: set.first.issuer.ctx.store, clock: set.first.clock },
          {
            id: `rp-${i}`,
            name: `RP ${i}`,
            type: 'confidential',
            party: 'first',
            redirectUris: [fx.redirectUri],
            backchannelLogoutUri: app.url,
            resources: [fx.api.id],
            secret,
          },
        );
      const sids: string[] = [];
      for (let s = 0; s < SESSIONS; s++) {
        // A browser signs in at one node and gets tokens for both apps at the others.
        const jar = createCookieJarClient();
        let idToken = '';
        for (const [i] of apps.entries()) {
          // The sign-in form posts to the issuer's own origin (node 0's URL); the rest spreads.
          const node = i === 0 ? nodes[0]! : nodes[(s + i) % 3]!;
          const flow = await browserFlow(
            node.url,
            { clientId: `rp-${i}`, redirectUri: fx.redirectUri },
            i === 0 ? { email: 'alice@example.com' } : null,
            jar,
          );
          const res = await redeem(
            node.url,
            {
              code: flow.callback.searchParams.get('code')!,
              code_verifier: flow.verifier,
              redirect_uri: fx.redirectUri,
            },
            { id: `rp-${i}`, secret },
          );
          idToken = res.json.id_token as string;
        }
        sids.push(JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString()).sid as string);
        const logout = await jar.fetch(
          `${nodes[(s + 2) % 3]!.url}/logout?${new URLSearchParams({ id_token_hint: idToken })}`,
        );
        expect(logout.status).toBe(200);
      }
      await eventually(
        async () =>
          (await countOf(db, 'select count(*) as n from backchannel_deliveries where delivered_at is not null')) ===
          2 * SESSIONS,
        10_000,
      );
      // Long enough for a second claim of any row by node 0's poller (150 looks).
      await new Promise((r) => setTimeout(r, 3000));
      for (const app of apps) {
        const received = app.tokens.map(
          (t) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { sid: string; jti: string },
        );
        expect(received.map((c) => c.sid).sort()).toEqual([...sids].sort());
        expect(new Set(received.map((c) => c.jti)).size).toBe(SESSIONS);
      }
      expect(await countOf(db, 'select count(*) as n from backchannel_deliveries where attempts <> 1')).toBe(0);
      // The processes delivered some of them: the claims were made by processes of their own.
      const deliveredByProcesses = set.processes.flatMap((p) =>
        p.output.filter((line) => line.includes('"event":"backchannel_logout.delivered"')),
      );
      expect(deliveredByProcesses.length).toBeGreaterThan(0);
    } finally {
      for (const app of apps) app.stop();
    }
  });
});

describe('the sign-in throttle across three nodes', () => {
  // The people are registered through node 0 with cheap hashes, which every node verifies as stored.
  /** One attempt at the sign-in form of `node`, from a new browser at `ip`: the status. */
  async function attempt(node: NodeAddress, email: string, password: string, ip: string): Promise<number> {
    const jar = createCookieJarClient();
    const page = await (await jar.fetch(new URL('/sign-in', node.url))).text();
    const res = await jar.fetch(new URL('/sign-in', node.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        // The issuer's origin: the form is the issuer's page, whichever node served it.
        origin: new URL(nodes[0]!.url).origin,
        'x-forwarded-for': ip,
      },
      body: new URLSearchParams({
        interaction: formValue(page, 'interaction')!,
        csrf_token: formValue(page, 'csrf_token')!,
        email,
        password,
      }),
    });
    await res.arrayBuffer();
    return res.status;
  }
  /** The reasons of the refusals the audit trail recorded for `ip`, tallied. */
  async function refusals(ipPrefix: string): Promise<Record<string, number>> {
    const { rows } = await db.query<{ reason: string; n: string }>(
      "select detail->>'reason' as reason, count(*) as n from audit_events " +
        "where type = 'sign_in.failed' and ip like $1 group by 1",
      [`${ipPrefix}%`],
    );
    return Object.fromEntries(rows.map((r) => [r.reason, Number(r.n)]));
  }

  it('counts five wrong passwords sent to three nodes as five, as one node does', async () => {
    await registerPerson(set.first, 'bob@example.com');
    const ip = '198.51.100.1';
    for (let i = 0; i < 5; i++) expect(await attempt(nodes[i % 3]!, 'bob@example.com', 'wrong password', ip)).toBe(401);
    // The right password, at a node that saw two of the five, is refused within the delay …
    expect(await attempt(nodes[2]!, 'bob@example.com', PASSWORD, ip)).toBe(401);
    // … and accepted at another once the one-second delay has passed (throttle-sign-in.test.ts).
    await new Promise((r) => setTimeout(r, 1000));
    expect(await attempt(nodes[0]!, 'bob@example.com', PASSWORD, ip)).toBe(303);
    expect(await refusals(ip)).toEqual({ bad_credentials: 5, throttled: 1 });
  });

  it('checks five of 30 wrong passwords sent to three nodes at once, refusing the rest as throttled', async () => {
    await registerPerson(set.first, 'gus@example.com');
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => attempt(nodes[i % 3]!, 'gus@example.com', 'wrong password', `10.61.0.${i}`)),
    );
    expect(statuses).toEqual(Array(30).fill(401));
    expect(await refusals('10.61.0.')).toEqual({ bad_credentials: 5, throttled: 25 });
    const key = accountThrottleKey(set.first.issuer.ctx.config, 'gus@example.com');
    expect(await countOf(db, 'select failures as n from sign_in_throttles where key = $1', [key])).toBe(5);
  });
});
