/**
 * Crash safety: the issuer runs as a child process under load and is killed with SIGKILL in the
 * middle of it, then restarted on the same database. Everything acknowledged to a client before
 * the crash must still be there — sessions, grants, the last refresh token of each family — the
 * signing keys must be the same (tokens issued before still verify), and back-channel logouts
 * that were pending at the crash (their app was down) must be delivered after the restart.
 */
import { createServer, type Server } from 'node:http';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKCHANNEL_LOGOUT_EVENT, TOKEN_TYPES } from '@tessera/shared';
import { createCookieJarClient } from '@tessera/shared/testing';
import { browserFlow, redeem } from '../support/browser.js';
import { dropDatabase, freshDatabase, readDatabase } from '../support/databases.js';
import { freePort, spawnIssuer, type IssuerProcess } from '../support/issuer-process.js';
import {
  BACKCHANNEL_CLIENT,
  LOAD_CLIENT,
  LOAD_PASSWORD,
  POST_LOGOUT_URI,
  REDIRECT_URI,
  Ledger,
  checkLedger,
  formatReport,
  refreshEveryFamily,
  runLoad,
  seedLoadDatabase,
  type LedgerCheck,
  type LoadReport,
} from '../support/load-driver.js';

/** Sessions ended while their app's back-channel endpoint is down. */
const ENDED_SESSIONS = 3;

let database: string;
let port: number;
let backchannelPort: number;
let emails: string[];
let before: IssuerProcess | undefined;
let after: IssuerProcess | undefined;
let listener: Server | undefined;
const received: string[] = [];
const ledger = new Ledger();
let report: LoadReport;
let jwksBefore: JSONWebKeySet;
const endedSids: string[] = [];

const jwksOf = async (url: string) => (await (await fetch(`${url}/jwks`)).json()) as JSONWebKeySet;

/** Rows of the back-channel queue for the sessions this test ended. */
function deliveries(): Promise<{ attempts: number; deliveredAt: number | null; failedAt: number | null }[]> {
  return readDatabase(
    database,
    async (db) =>
      // Aliases quoted: PostgreSQL folds unquoted names to lower case.
      (await db.query(
        'select attempts, delivered_at as "deliveredAt", failed_at as "failedAt" ' +
          'from backchannel_deliveries where client_id = ?',
        [BACKCHANNEL_CLIENT],
      )) as { attempts: number; deliveredAt: number | null; failedAt: number | null }[],
  );
}

/** Signs a person in at the back-channel client and signs them out with an id_token_hint (no confirmation). */
async function signInAndOut(email: string): Promise<void> {
  const jar = createCookieJarClient();
  const flow = await browserFlow(
    before!.url,
    { clientId: BACKCHANNEL_CLIENT, redirectUri: REDIRECT_URI },
    { email, password: LOAD_PASSWORD },
    jar,
  );
  const tokens = await redeem(before!.url, {
    code: flow.callback.searchParams.get('code')!,
    code_verifier: flow.verifier,
    redirect_uri: REDIRECT_URI,
    client_id: BACKCHANNEL_CLIENT,
  });
  expect(tokens.status).toBe(200);
  const idToken = tokens.json.id_token as string;
  const logout = new URL('/logout', before!.url);
  logout.search = new URLSearchParams({
    id_token_hint: idToken,
    post_logout_redirect_uri: POST_LOGOUT_URI,
    state: 'bye',
  }).toString();
  const res = await jar.fetch(logout);
  expect(res.status).toBe(303);
  endedSids.push(decodeJwt(idToken).sid as string);
}

beforeAll(async () => {
  database = await freshDatabase();
  port = await freePort();
  // Nothing listens here until after the crash: every delivery attempt before it fails.
  backchannelPort = await freePort();
  ({ emails } = await seedLoadDatabase(database, {
    users: 3,
    backchannelLogoutUri: `http://127.0.0.1:${backchannelPort}/backchannel-logout`,
  }));
  before = await spawnIssuer({ database, port });
  jwksBefore = await jwksOf(before.url);
}, 60_000);

afterAll(async () => {
  await before?.kill9();
  await after?.stop();
  await new Promise<void>((r) => (listener ? listener.close(() => r()) : r()));
  if (database) await dropDatabase(database);
});

describe('an issuer killed with SIGKILL under load', () => {
  it('answers every request before the kill as expected', async () => {
    let crashed = false;
    const load = runLoad({
      issuer: before!.url,
      emails,
      ledger,
      seconds: 30,
      workers: 12,
      signInWorkers: 1,
      crashed: () => crashed,
    });
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < ENDED_SESSIONS; i++) await signInAndOut(emails[i % emails.length]!);
    // Let the first delivery attempts fail (retries are due 1 s, 3 s, 7 s and 15 s later), with
    // the load still running, then kill mid-flight.
    const until = Date.now() + 5000;
    let pending = await deliveries();
    while ((pending.length < ENDED_SESSIONS || pending.some((d) => d.attempts < 1)) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      pending = await deliveries();
    }
    crashed = true;
    await before!.kill9();
    report = await load;
    console.log(formatReport('load until SIGKILL', report));

    expect(pending).toHaveLength(ENDED_SESSIONS);
    for (const d of pending) expect(d).toMatchObject({ deliveredAt: null, failedAt: null });
    for (const d of pending) expect(d.attempts).toBeGreaterThanOrEqual(1);
    expect(report.errors).toEqual([]);
    expect(report.ops.refresh.count).toBeGreaterThan(0);
    expect(before!.unhandled).toEqual([]);
  }, 60_000);
});

describe('the same issuer restarted on the same database', () => {
  let check: LedgerCheck;

  beforeAll(async () => {
    // The app's back-channel endpoint comes up before the issuer does.
    listener = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const token = new URLSearchParams(body).get('logout_token');
        if (req.method === 'POST' && req.url === '/backchannel-logout' && token) received.push(token);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => listener!.listen(backchannelPort, '127.0.0.1', () => r()));
    after = await spawnIssuer({ database, port });
  }, 60_000);

  it('publishes the same signing keys', async () => {
    const kids = (set: JSONWebKeySet) => set.keys.map((k) => k.kid).sort();
    expect(kids(await jwksOf(after!.url))).toEqual(kids(jwksBefore));
  });

  it('verifies access and ID tokens issued before the crash against the JWKS served after it', async () => {
    const keys = createLocalJWKSet(await jwksOf(after!.url));
    expect(ledger.accessTokens.length).toBeGreaterThan(0);
    for (const token of ledger.accessTokens.slice(-50)) {
      await jwtVerify(token, keys, { issuer: after!.url, typ: TOKEN_TYPES.accessToken, algorithms: ['ES256'] });
    }
    for (const token of ledger.idTokens.slice(-50)) {
      await jwtVerify(token, keys, { issuer: after!.url, audience: LOAD_CLIENT, algorithms: ['ES256'] });
    }
  });

  it('has every session, grant and refresh token acknowledged before the crash', async () => {
    const inFlight = ledger.families.filter((f) => f.inFlight).length;
    check = await checkLedger(database, ledger);
    console.log(
      `after restart: ${check.sessions} sessions, ${check.families} grants, ` +
        `${check.refreshTokens} refresh tokens acknowledged; ` +
        `${inFlight} refreshes cut off by the kill (${check.committedInFlight} had committed); ` +
        `lost: ${check.lost.length}`,
    );
    expect(check.lost).toEqual([]);
    expect(check.families).toBeGreaterThan(0);
  });

  it('refreshes every family with its last acknowledged refresh token', async () => {
    const result = await refreshEveryFamily(after!.url, ledger);
    console.log(
      `after restart: ${result.refreshed} families refreshed, ` +
        `${result.skipped} skipped (last refresh cut off and committed)`,
    );
    expect(result.failures).toEqual([]);
    expect(result.refreshed + result.skipped).toBe(ledger.families.length);
    expect(result.skipped).toBe(check.committedInFlight);
  }, 60_000);

  it('keeps the SSO sessions: a browser signed in before the crash gets a code without a password', async () => {
    for (const session of ledger.sessions.slice(0, 5)) {
      const flow = await browserFlow(
        after!.url,
        { clientId: LOAD_CLIENT, redirectUri: REDIRECT_URI, extra: { prompt: 'none' } },
        null,
        session.jar,
      );
      expect(flow.callback.searchParams.get('code')).toBeTruthy();
    }
  });

  it('delivers the back-channel logouts that were pending at the crash', async () => {
    const deadline = Date.now() + 20_000;
    while (received.length < ENDED_SESSIONS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(received).toHaveLength(ENDED_SESSIONS);
    const keys = createLocalJWKSet(await jwksOf(after!.url));
    const sids: string[] = [];
    for (const token of received) {
      const { payload } = await jwtVerify(token, keys, {
        issuer: after!.url,
        audience: BACKCHANNEL_CLIENT,
        typ: TOKEN_TYPES.logoutToken,
        algorithms: ['ES256'],
      });
      expect(payload.events).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
      expect(payload).not.toHaveProperty('nonce');
      sids.push(payload.sid as string);
    }
    expect(sids.sort()).toEqual([...endedSids].sort());
    // The queue records them as delivered, so they are not sent again at the next start.
    const deadlineDb = Date.now() + 5000;
    while ((await deliveries()).some((d) => d.deliveredAt === null) && Date.now() < deadlineDb)
      await new Promise((r) => setTimeout(r, 100));
    for (const d of await deliveries()) expect(d.deliveredAt).not.toBeNull();
  }, 30_000);

  it('logged no unhandled error', () => {
    expect(after!.unhandled).toEqual([]);
  });
});
