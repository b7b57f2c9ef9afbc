/**
 * `/metrics`: served on its own port (never the issuer's), in the Prometheus text format, read
 * here with a strict parser; the values move as requests happen — in one process, and summed over
 * a cluster's workers by the primary.
 */
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCookieJarClient, formValue, pkcePair } from '@tessera/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingDelivery } from '../src/workers/backchannel-delivery.js';
import { authorizeUrl, browserFlow, postToken, redeem, submitSignIn } from './support/browser.js';
import { dropDatabase, freshDatabase } from './support/databases.js';
import { PASSWORD, registerPerson, useIssuer } from './support/fixture.js';
import { freePort, spawnIssuer, type IssuerProcess } from './support/issuer-process.js';
import { LOAD_CLIENT, LOAD_PASSWORD, REDIRECT_URI, seedLoadDatabase } from './support/load-driver.js';
import { parsePrometheus, sampleValue, sampleValueOrZero, type MetricFamily } from './support/prometheus.js';

type Families = Map<string, MetricFamily>;

async function scrape(port: number, headers: Record<string, string> = {}): Promise<Families> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

const REQUESTS = 'tessera_http_request_duration_seconds';
const requestCount = (m: Families, method: string, route: string, status: number) =>
  sampleValueOrZero(m, `${REQUESTS}_count`, { method, route, status: String(status) });

/** A GET on a connection of its own: the cluster's primary hands each new connection to the next worker. */
function getOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

describe('the Prometheus text parser of the tests', () => {
  it('reads families, labels with escapes, and special values', () => {
    const m = parsePrometheus(
      [
        '# HELP a_total Things.',
        '# TYPE a_total counter',
        'a_total{path="x\\\\y\\"z\\n",b="2"} 3',
        '# TYPE h histogram',
        'h_bucket{le="+Inf"} 4',
        'h_sum 1.5e-3',
        'h_count 4',
        '',
      ].join('\n'),
    );
    expect(sampleValue(m, 'a_total', { path: 'x\\y"z\n' })).toBe(3);
    expect(sampleValue(m, 'h_bucket', { le: '+Inf' })).toBe(4);
    expect(sampleValue(m, 'h_sum')).toBe(0.0015);
  });

  it.each([
    ['a sample of no declared family', 'x 1\n'],
    ['a bad value', '# TYPE x gauge\nx one\n'],
    ['a bad escape', '# TYPE x gauge\nx{a="\\t"} 1\n'],
    ['a repeated label', '# TYPE x gauge\nx{a="1",a="2"} 1\n'],
    ['an unterminated label value', '# TYPE x gauge\nx{a="1} 1\n'],
    ['no final line feed', '# TYPE x gauge\nx 1'],
    ['a counter sample with a gauge suffix', '# TYPE x counter\nx_count 1\n'],
  ])('refuses %s', (_why, text) => {
    expect(() => parsePrometheus(text)).toThrow();
  });
});

describe('/metrics of one issuer process', () => {
  let database: string;
  let issuer: IssuerProcess;
  let metricsPort: number;
  let email: string;

  beforeAll(async () => {
    database = await freshDatabase();
    ({
      emails: [email = ''],
    } = await seedLoadDatabase(database, { users: 1 }));
    metricsPort = await freePort();
    issuer = await spawnIssuer({
      database,
      port: await freePort(),
      env: { TESSERA_METRICS_PORT: String(metricsPort) },
    });
  }, 60_000);
  afterAll(async () => {
    await issuer?.stop();
    await dropDatabase(database);
  });

  it("is not served on the issuer's public port", async () => {
    const res = await fetch(`${issuer.url}/metrics`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not_found' });
    // And the metrics port serves nothing of the issuer.
    expect((await fetch(`http://127.0.0.1:${metricsPort}/jwks`)).status).toBe(404);
  });

  it('counts requests by route pattern and status, sign-ins by result, tokens by grant type, reuse', async () => {
    const before = await scrape(metricsPort);
    // A person signs in (success) and the app redeems its code, refreshes, then replays the old refresh token.
    const flow = await browserFlow(
      issuer.url,
      { clientId: LOAD_CLIENT, redirectUri: REDIRECT_URI },
      { email, password: LOAD_PASSWORD },
    );
    const redeemed = await redeem(issuer.url, {
      code: flow.callback.searchParams.get('code')!,
      code_verifier: flow.verifier,
      redirect_uri: REDIRECT_URI,
      client_id: LOAD_CLIENT,
    });
    expect(redeemed.status).toBe(200);
    const refresh = { grant_type: 'refresh_token', client_id: LOAD_CLIENT };
    const refreshToken = redeemed.json.refresh_token as string;
    expect((await postToken(issuer.url, { ...refresh, refresh_token: refreshToken })).status).toBe(200);
    const reused = await postToken(issuer.url, { ...refresh, refresh_token: refreshToken });
    expect([reused.status, reused.json.error]).toEqual([400, 'invalid_grant']);
    // Someone else gives a wrong password.
    const jar = createCookieJarClient();
    const step = await jar.follow(
      authorizeUrl(issuer.url, { clientId: LOAD_CLIENT, redirectUri: REDIRECT_URI, challenge: pkcePair().challenge }),
      { stopWhen: (u) => u.pathname === '/sign-in' },
    );
    const refused = await submitSignIn(jar, issuer.url, step.location!, email, 'not the password at all');
    expect(refused.status).toBe(401);
    await refused.arrayBuffer();
    // The published documents (answered before the app) and a path no route knows.
    for (let i = 0; i < 2; i++) expect((await fetch(`${issuer.url}/jwks`)).status).toBe(200);
    const stray = `/no-such-page-${randomBytes(8).toString('hex')}`;
    expect((await fetch(`${issuer.url}${stray}`)).status).toBe(404);

    const after = await scrape(metricsPort);
    const moved = (name: string, labels: Record<string, string> = {}) =>
      sampleValueOrZero(after, name, labels) - sampleValueOrZero(before, name, labels);
    expect(moved('tessera_sign_ins_total', { result: 'success' })).toBe(1);
    expect(moved('tessera_sign_ins_total', { result: 'bad_credentials' })).toBe(1);
    expect(moved('tessera_sign_ins_total', { result: 'throttled' })).toBe(0);
    expect(moved('tessera_tokens_issued_total', { grant_type: 'authorization_code' })).toBe(1);
    expect(moved('tessera_tokens_issued_total', { grant_type: 'refresh_token' })).toBe(1);
    expect(moved('tessera_refresh_token_reuse_detected_total')).toBe(1);
    const requests = (method: string, route: string, status: number) =>
      requestCount(after, method, route, status) - requestCount(before, method, route, status);
    expect(requests('POST', '/token', 200)).toBe(2);
    expect(requests('POST', '/token', 400)).toBe(1);
    expect(requests('POST', '/sign-in', 401)).toBe(1);
    expect(requests('GET', '/jwks', 200)).toBe(2);
    expect(requests('GET', 'unmatched', 404)).toBe(1);
    // Bounded cardinality: no label holds a path a client chose.
    const labelValues = [...after.values()].flatMap((f) => f.samples.flatMap((s) => Object.values(s.labels)));
    expect(labelValues.filter((v) => v.includes('no-such-page'))).toEqual([]);
    // A histogram's +Inf bucket counts every request it counted.
    const token200 = { method: 'POST', route: '/token', status: '200' };
    expect(sampleValue(after, `${REQUESTS}_bucket`, { ...token200, le: '+Inf' })).toBe(
      sampleValue(after, `${REQUESTS}_count`, token200),
    );
    expect(sampleValue(after, `${REQUESTS}_sum`, token200)).toBeGreaterThan(0);
  });

  it('reports the signing key, the back-channel queue and the event loop', async () => {
    const m = await scrape(metricsPort);
    const now = Date.now() / 1000;
    const age = sampleValue(m, 'tessera_signing_key_age_seconds');
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(600);
    // The default rotation period is 30 days, counted from when the key began to sign.
    expect(sampleValue(m, 'tessera_signing_key_next_rotation_timestamp_seconds')).toBeCloseTo(
      now - age + 30 * 86_400,
      -1,
    );
    expect(sampleValue(m, 'tessera_backchannel_logout_deliveries_pending')).toBe(0);
    expect(sampleValue(m, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(m.get('tessera_database_errors_total')?.type).toBe('counter');
  });
});

describe('sign-ins the throttle refuses, in the metrics', () => {
  // Cheap argon2id: many attempts. The issuer trusts X-Forwarded-For so that each attempt has its IP.
  const { idp } = useIssuer({
    env: { TESSERA_TRUST_PROXY: 'true' },
    issuer: { passwordParams: { memoryCost: 1024, timeCost: 1, parallelism: 1 } },
  });
  const signIns = async () => {
    const m = parsePrometheus(await idp.issuer.ctx.metrics.registry.metrics());
    const of = (result: string) => sampleValue(m, 'tessera_sign_ins_total', { result });
    return { success: of('success'), bad: of('bad_credentials'), throttled: of('throttled'), locked: of('locked') };
  };
  const attempt = async (email: string, password: string, ip: string) => {
    const jar = createCookieJarClient();
    const page = await (await jar.fetch(new URL('/sign-in', idp.url))).text();
    const res = await jar.fetch(new URL('/sign-in', idp.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.url, 'x-forwarded-for': ip },
      body: new URLSearchParams({
        interaction: formValue(page, 'interaction')!,
        csrf_token: formValue(page, 'csrf_token')!,
        email,
        password,
      }),
    });
    await res.arrayBuffer();
    return res.status;
  };

  it('counts a throttled attempt and a locked one apart from wrong passwords', async () => {
    await registerPerson(idp, 'bob@example.com');
    await registerPerson(idp, 'erin@example.com');
    expect(await signIns()).toEqual({ success: 0, bad: 0, throttled: 0, locked: 0 });
    // Five wrong passwords, then the right one inside the backoff delay: throttled.
    for (let i = 0; i < 5; i++) expect(await attempt('bob@example.com', 'wrong password', '198.51.100.1')).toBe(401);
    expect(await attempt('bob@example.com', PASSWORD, '198.51.100.1')).toBe(401);
    expect(await signIns()).toEqual({ success: 0, bad: 5, throttled: 1, locked: 0 });
    // Twenty wrong passwords from as many IPs, each delay waited out: the account is locked.
    for (let i = 1; i <= 20; i++) {
      expect(await attempt('erin@example.com', 'wrong password', `192.0.2.${i}`)).toBe(401);
      idp.clock.advance(60);
    }
    expect(await attempt('erin@example.com', PASSWORD, '192.0.2.100')).toBe(401);
    expect(await signIns()).toEqual({ success: 0, bad: 25, throttled: 1, locked: 1 });
    idp.clock.advance(15 * 60);
    expect(await attempt('erin@example.com', PASSWORD, '192.0.2.100')).toBe(303);
    expect(await signIns()).toEqual({ success: 1, bad: 25, throttled: 1, locked: 1 });
  });
});

describe('back-channel logout deliveries in the metrics', () => {
  const { idp, fx } = useIssuer({ issuer: { backchannel: { maxAttempts: 1, baseDelayMs: 50 } } });
  let receiver: Server;
  let received = 0;
  beforeAll(async () => {
    receiver = createServer((_req, res) => {
      received++;
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  const metrics = async () => parsePrometheus(await idp.issuer.ctx.metrics.registry.metrics());

  it('counts deliveries sent and failed, and reads the pending ones from the store', async () => {
    const { store, clock, backchannel } = idp.issuer.ctx;
    const now = clock.now();
    const to = (uri: string) => ({ clientId: fx.confidential.id, uri, logoutToken: 'a.b.c' });
    const { port } = receiver.address() as AddressInfo;
    await store.backchannel.enqueue([
      pendingDelivery(to(`http://127.0.0.1:${port}/backchannel-logout`), now),
      // Nothing listens on port 9 (discard) on the test machine: the one attempt fails.
      pendingDelivery(to('http://127.0.0.1:9/backchannel-logout'), now),
      // Due in an hour: pending until then.
      { ...pendingDelivery(to(`http://127.0.0.1:${port}/later`), now), nextAttemptAt: now + 3_600_000 },
    ]);
    expect(sampleValue(await metrics(), 'tessera_backchannel_logout_deliveries_pending')).toBe(3);
    backchannel.kick();
    const settled = async () => {
      const m = await metrics();
      return (
        sampleValue(m, 'tessera_backchannel_logout_deliveries_total', { outcome: 'sent' }) === 1 &&
        sampleValue(m, 'tessera_backchannel_logout_deliveries_total', { outcome: 'failed' }) === 1
      );
    };
    const deadline = Date.now() + 10_000;
    while (!(await settled()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await settled()).toBe(true);
    expect(received).toBe(1);
    expect(sampleValue(await metrics(), 'tessera_backchannel_logout_deliveries_pending')).toBe(1);
  });
});

describe('/metrics of a cluster, behind a bearer token', () => {
  const token = randomBytes(32).toString('base64url');
  let database: string;
  let issuer: IssuerProcess;
  let metricsPort: number;

  beforeAll(async () => {
    database = await freshDatabase();
    await seedLoadDatabase(database, { users: 1 });
    metricsPort = await freePort();
    issuer = await spawnIssuer({
      database,
      port: await freePort(),
      env: { TESSERA_WORKERS: '2', TESSERA_METRICS_PORT: String(metricsPort), TESSERA_METRICS_TOKEN: token },
    });
    const deadline = Date.now() + 30_000;
    while (!issuer.processEvents.some((e) => e.event === 'cluster.listening') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
  }, 60_000);
  afterAll(async () => {
    await issuer?.stop();
    await dropDatabase(database);
  });

  it('refuses a scrape without the token, or with another', async () => {
    const without = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect([without.status, without.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="metrics"']);
    expect(await without.text()).not.toContain('tessera_');
    const wrong = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
      headers: { authorization: `Bearer ${randomBytes(32).toString('base64url')}` },
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('tessera_');
  });

  it("sums every worker's requests", async () => {
    const auth = { authorization: `Bearer ${token}` };
    const before = requestCount(await scrape(metricsPort, auth), 'GET', '/healthz', 200);
    const n = 20;
    for (let i = 0; i < n; i++) expect(await getOnNewConnection(`${issuer.url}/healthz`)).toBe(200);
    const after = requestCount(await scrape(metricsPort, auth), 'GET', '/healthz', 200);
    // The connections went to both workers in turn: one worker's metrics alone would show about half.
    expect(after - before).toBe(n);
  });
});
