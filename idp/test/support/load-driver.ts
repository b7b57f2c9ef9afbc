/**
 * A bounded load on a running issuer, from many concurrent clients, with a ledger of every write
 * the issuer acknowledged (a response was received): SSO sessions, grants and the refresh tokens
 * of each grant's family. After the load (or a crash) the ledger is checked against the database:
 * nothing acknowledged may be missing.
 */
import { performance } from 'node:perf_hooks';
import { decodeJwt } from 'jose';
import { createCookieJarClient, type CookieJarClient } from '@tessera/shared/testing';
import { systemClock } from '@tessera/shared';
import { createPasswordHasher } from '../../src/crypto/passwords.js';
import { registerClient, registerResource, registerUser } from '../../src/protocol/registration.js';
import { openStore } from '../../src/store/index.js';
import { browserFlow, redeem } from './browser.js';
import { readDatabase } from './databases.js';
import { secretDigest } from './db-digest.js';

export const LOAD_PASSWORD = 'load test password, long enough';
export const REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const POST_LOGOUT_URI = 'http://127.0.0.1:9/';
export const LOAD_CLIENT = 'load-rp';
export const BACKCHANNEL_CLIENT = 'backchannel-rp';
export const LOAD_API = 'https://api.load.test';

/** Seeds users, an API and the clients into a database (a location), before the issuer process starts. */
export async function seedLoadDatabase(
  location: string,
  options: { users: number; backchannelLogoutUri?: string },
): Promise<{ emails: string[] }> {
  const store = await openStore(location);
  try {
    const clock = systemClock;
    // The issuer's own parameters, so a sign-in never rehashes (a write the ledger does not expect).
    const passwords = await createPasswordHasher();
    const emails: string[] = [];
    for (let i = 0; i < options.users; i++) {
      const email = `load-user-${i}@example.test`;
      await registerUser(
        { store, passwords, clock },
        { email, displayName: `Load User ${i}`, password: LOAD_PASSWORD },
      );
      emails.push(email);
    }
    await registerResource({ store, clock }, { id: LOAD_API, name: 'Load API' });
    const common = {
      type: 'public' as const,
      party: 'first' as const,
      redirectUris: [REDIRECT_URI],
      postLogoutRedirectUris: [POST_LOGOUT_URI],
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      resources: [LOAD_API],
      grantTypes: ['refresh_token'],
    };
    await registerClient({ store, clock }, { ...common, id: LOAD_CLIENT, name: 'Load RP' });
    if (options.backchannelLogoutUri) {
      await registerClient(
        { store, clock },
        {
          ...common,
          id: BACKCHANNEL_CLIENT,
          name: 'Back-channel RP',
          backchannelLogoutUri: options.backchannelLogoutUri,
        },
      );
    }
    return { emails };
  } finally {
    await store.close();
  }
}

/** An SSO session the issuer acknowledged: its cookie was received. */
export interface AckSession {
  secret: string;
  jar: CookieJarClient;
  sid?: string;
}

/** One grant's refresh-token family, as far as the client knows it. */
export interface Family {
  clientId: string;
  /** Every refresh token received, oldest first; the last one is the one to use. */
  tokens: string[];
  /** A worker is using it (a family is never refreshed twice at once: that is reuse). */
  busy: boolean;
  /** A refresh was sent and no answer came back (the process died): the last token may be rotated. */
  inFlight: boolean;
}

const RECENT = 256;

export class Ledger {
  sessions: AckSession[] = [];
  families: Family[] = [];
  /** Recent access and ID tokens (for userinfo, and to verify after a restart). */
  accessTokens: string[] = [];
  idTokens: string[] = [];

  addTokens(json: Record<string, unknown>, clientId: string): void {
    const family: Family = { clientId, tokens: [json.refresh_token as string], busy: false, inFlight: false };
    if (typeof json.refresh_token !== 'string') throw new Error('the token response has no refresh_token');
    this.families.push(family);
    this.remember(json);
  }

  remember(json: Record<string, unknown>): void {
    if (typeof json.access_token === 'string') push(this.accessTokens, json.access_token);
    if (typeof json.id_token === 'string') push(this.idTokens, json.id_token);
  }
}

function push(ring: string[], value: string): void {
  ring.push(value);
  if (ring.length > RECENT) ring.shift();
}

const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(Math.random() * xs.length)];

export type Operation = 'sign-in' | 'authorize' | 'code exchange' | 'refresh' | 'userinfo' | 'jwks';
const OPERATIONS: Operation[] = ['sign-in', 'authorize', 'code exchange', 'refresh', 'userinfo', 'jwks'];

interface OpStats {
  count: number;
  errors: number;
  /** Requests cut off by a crash the test caused (not errors). */
  interrupted: number;
  latencies: number[];
}

export interface LoadReport {
  seconds: number;
  ops: Record<
    Operation,
    { count: number; errors: number; interrupted: number; perSecond: number; p50: number; p95: number; p99: number }
  >;
  totalRequests: number;
  errors: string[];
}

export interface LoadOptions {
  issuer: string;
  emails: string[];
  ledger: Ledger;
  seconds: number;
  /** Concurrent clients doing code exchanges, refreshes, userinfo and JWKS requests. */
  workers: number;
  /** Concurrent clients doing password sign-ins (argon2id-bound: keep it small). */
  signInWorkers: number;
  /** True once the test has killed the issuer on purpose: failures after it are interruptions. */
  crashed?: () => boolean;
  /** Stops the load early. */
  stopped?: () => boolean;
}

class UnexpectedResponse extends Error {}

async function expectStatus(res: Response, status: number, what: string): Promise<Response> {
  if (res.status !== status)
    throw new UnexpectedResponse(`${what}: expected ${status}, got ${res.status} ${(await res.text()).slice(0, 200)}`);
  return res;
}

/** Runs the load for `seconds` and reports throughput and latency per operation. */
export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const stats = Object.fromEntries(
    OPERATIONS.map((op) => [op, { count: 0, errors: 0, interrupted: 0, latencies: [] } as OpStats]),
  ) as Record<Operation, OpStats>;
  const errors: string[] = [];
  const crashed = o.crashed ?? (() => false);
  const deadline = Date.now() + o.seconds * 1000;
  const running = () => Date.now() < deadline && !o.stopped?.() && !crashed();

  /** Times one step; an unexpected answer is an error, a failure after the crash an interruption. */
  async function timed<T>(op: Operation, step: () => Promise<T>): Promise<T | undefined> {
    const t0 = performance.now();
    try {
      const result = await step();
      stats[op].count++;
      stats[op].latencies.push(performance.now() - t0);
      return result;
    } catch (e) {
      if (crashed()) stats[op].interrupted++;
      else {
        stats[op].errors++;
        if (errors.length < 20) errors.push(`${op}: ${e instanceof Error ? e.message : String(e)}`);
      }
      return undefined;
    }
  }

  const tokenRequest = (body: Record<string, string>) =>
    fetch(`${o.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });

  async function signIn(email: string): Promise<void> {
    const jar = createCookieJarClient();
    const flow = await timed('sign-in', async () => {
      const f = await browserFlow(
        o.issuer,
        { clientId: LOAD_CLIENT, redirectUri: REDIRECT_URI },
        { email, password: LOAD_PASSWORD },
        jar,
      );
      const secret = jar.cookie(o.issuer, 'tessera_session');
      if (!secret || !f.callback.searchParams.get('code'))
        throw new UnexpectedResponse(`sign-in gave no session or no code: ${f.callback.href}`);
      o.ledger.sessions.push({ secret, jar });
      return f;
    });
    if (flow) await exchange(flow.callback, flow.verifier, o.ledger.sessions.at(-1));
  }

  async function exchange(callback: URL, verifier: string, session: AckSession | undefined): Promise<void> {
    await timed('code exchange', async () => {
      const res = await redeem(o.issuer, {
        code: callback.searchParams.get('code')!,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
        client_id: LOAD_CLIENT,
      });
      if (res.status !== 200) throw new UnexpectedResponse(`code exchange: ${res.status} ${JSON.stringify(res.json)}`);
      o.ledger.addTokens(res.json, LOAD_CLIENT);
      if (session && !session.sid) session.sid = decodeJwt(res.json.id_token as string).sid as string;
    });
  }

  async function newGrant(): Promise<void> {
    const session = pick(o.ledger.sessions);
    if (!session) return jwks();
    const flow = await timed('authorize', async () => {
      const f = await browserFlow(
        o.issuer,
        { clientId: LOAD_CLIENT, redirectUri: REDIRECT_URI, extra: { prompt: 'none' } },
        null,
        session.jar,
      );
      if (!f.callback.searchParams.get('code'))
        throw new UnexpectedResponse(`authorize: no code in ${f.callback.href}`);
      return f;
    });
    if (flow) await exchange(flow.callback, flow.verifier, session);
  }

  async function refresh(): Promise<void> {
    const free = o.ledger.families.filter((f) => !f.busy && !f.inFlight);
    const family = pick(free);
    if (!family) return jwks();
    family.busy = true;
    family.inFlight = true;
    await timed('refresh', async () => {
      const res = await tokenRequest({
        grant_type: 'refresh_token',
        refresh_token: family.tokens.at(-1)!,
        client_id: family.clientId,
      });
      // An answer came back: whatever it says, the client now knows the outcome.
      family.inFlight = false;
      const json = (await res.json()) as Record<string, unknown>;
      if (res.status !== 200 || typeof json.refresh_token !== 'string')
        throw new UnexpectedResponse(`refresh: ${res.status} ${JSON.stringify(json)}`);
      family.tokens.push(json.refresh_token);
      o.ledger.remember(json);
    });
    family.busy = false;
  }

  async function userinfo(): Promise<void> {
    const token = pick(o.ledger.accessTokens);
    if (!token) return jwks();
    await timed('userinfo', async () => {
      const res = await expectStatus(
        await fetch(`${o.issuer}/userinfo`, { headers: { authorization: `Bearer ${token}` } }),
        200,
        'userinfo',
      );
      const json = (await res.json()) as { sub?: unknown };
      if (typeof json.sub !== 'string') throw new UnexpectedResponse('userinfo without sub');
    });
  }

  async function jwks(): Promise<void> {
    await timed('jwks', async () => {
      const res = await expectStatus(await fetch(`${o.issuer}/jwks`), 200, 'jwks');
      const json = (await res.json()) as { keys?: unknown[] };
      if (!json.keys?.length) throw new UnexpectedResponse('an empty JWKS');
    });
  }

  // Mix of the non-password operations (weights).
  const mix: [number, () => Promise<void>][] = [
    [20, newGrant],
    [40, refresh],
    [25, userinfo],
    [15, jwks],
  ];
  const total = mix.reduce((n, [w]) => n + w, 0);
  const choose = () => {
    let r = Math.random() * total;
    for (const [w, f] of mix) {
      r -= w;
      if (r < 0) return f;
    }
    return jwks;
  };

  const started = performance.now();
  // One sign-in first, so the other operations have a session to work with.
  await signIn(o.emails[0]!);
  const workers: Promise<void>[] = [];
  for (let i = 0; i < o.signInWorkers; i++) {
    const email = o.emails[(i + 1) % o.emails.length]!;
    workers.push(
      (async () => {
        while (running()) await signIn(email);
      })(),
    );
  }
  for (let i = 0; i < o.workers; i++) {
    workers.push(
      (async () => {
        while (running()) await choose()();
      })(),
    );
  }
  await Promise.all(workers);
  const seconds = (performance.now() - started) / 1000;

  const pct = (xs: number[], p: number) => {
    if (xs.length === 0) return 0;
    const sorted = [...xs].sort((a, b) => a - b);
    return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
  };
  const ops = Object.fromEntries(
    OPERATIONS.map((op) => {
      const s = stats[op];
      return [
        op,
        {
          count: s.count,
          errors: s.errors,
          interrupted: s.interrupted,
          perSecond: Math.round((s.count / seconds) * 10) / 10,
          p50: pct(s.latencies, 50),
          p95: pct(s.latencies, 95),
          p99: pct(s.latencies, 99),
        },
      ];
    }),
  ) as LoadReport['ops'];
  // Requests on the wire: a sign-in is 3 (authorize, the page, the form); every other operation 1.
  const totalRequests =
    ops['sign-in'].count * 3 + OPERATIONS.filter((op) => op !== 'sign-in').reduce((n, op) => n + ops[op].count, 0);
  return { seconds, ops, totalRequests, errors };
}

/** The report as a table, for the test output. */
export function formatReport(title: string, r: LoadReport): string {
  const rows = OPERATIONS.map((op) => {
    const s = r.ops[op];
    return [
      op.padEnd(14),
      String(s.count).padStart(7),
      String(s.perSecond).padStart(9),
      String(s.p50).padStart(8),
      String(s.p95).padStart(8),
      String(s.p99).padStart(8),
      String(s.errors).padStart(7),
      String(s.interrupted).padStart(12),
    ].join(' ');
  });
  return [
    `${title}: ${r.seconds.toFixed(1)} s, ~${Math.round(r.totalRequests / r.seconds)} HTTP requests/s in all`,
    [
      'operation'.padEnd(14),
      'count'.padStart(7),
      'per s'.padStart(9),
      'p50 ms'.padStart(8),
      'p95 ms'.padStart(8),
      'p99 ms'.padStart(8),
      'errors'.padStart(7),
      'interrupted'.padStart(12),
    ].join(' '),
    ...rows,
  ].join('\n');
}

export interface LedgerCheck {
  sessions: number;
  families: number;
  refreshTokens: number;
  /** Families whose last refresh was cut off by the crash and did commit (a successor the client never saw). */
  committedInFlight: number;
  /** Acknowledged writes the database does not have, or has in the wrong state. */
  lost: string[];
}

/**
 * Compares the ledger with the database: every acknowledged session, grant and refresh token is
 * there. A family whose cut-off refresh turns out not to have committed is marked settled again.
 */
export function checkLedger(database: string, ledger: Ledger): Promise<LedgerCheck> {
  return readDatabase(database, async (db) => {
    // Aliases quoted: PostgreSQL folds unquoted names to lower case.
    const first = async (text: string, ...params: unknown[]) => (await db.query(text, params))[0];
    const session = (digest: string) =>
      first('select ended_at as "endedAt" from sso_sessions where secret_digest = ?', digest);
    const token = (digest: string) =>
      first(
        'select grant_id as "grantId", rotated_at as "rotatedAt", revoked_at as "revokedAt" ' +
          'from refresh_tokens where digest = ?',
        digest,
      );
    const grant = (id: string) => first('select revoked_at as "revokedAt" from grants where id = ?', id);
    const live = (grantId: string) =>
      first(
        'select count(*) as n from refresh_tokens where grant_id = ? and rotated_at is null and revoked_at is null',
        grantId,
      );
    const lost: string[] = [];
    let refreshTokens = 0;
    let committedInFlight = 0;
    for (const s of ledger.sessions) {
      const row = (await session(secretDigest(s.secret))) as { endedAt: number | null } | undefined;
      if (!row) lost.push(`session ${s.sid ?? '?'} is missing`);
      else if (row.endedAt !== null) lost.push(`session ${s.sid ?? '?'} has ended`);
    }
    for (const [i, f] of ledger.families.entries()) {
      const rows: ({ grantId: string; rotatedAt: number | null; revokedAt: number | null } | undefined)[] = [];
      for (const t of f.tokens) rows.push((await token(secretDigest(t))) as (typeof rows)[number]);
      refreshTokens += rows.length;
      if (rows.some((r) => !r)) {
        lost.push(
          `family ${i}: ${rows.filter((r) => !r).length} of ${rows.length} acknowledged refresh tokens are missing`,
        );
        continue;
      }
      const grantId = rows[0]!.grantId;
      if (rows.some((r) => r!.grantId !== grantId)) {
        lost.push(`family ${i}: tokens of different grants`);
        continue;
      }
      const g = (await grant(grantId)) as { revokedAt: number | null } | undefined;
      if (!g) {
        lost.push(`family ${i}: grant ${grantId} is missing`);
        continue;
      }
      if (g.revokedAt !== null) {
        lost.push(`family ${i}: grant ${grantId} was revoked`);
        continue;
      }
      const last = rows.at(-1)!;
      if (last.revokedAt !== null) {
        lost.push(`family ${i}: the last acknowledged token was revoked`);
        continue;
      }
      if (last.rotatedAt !== null) {
        if (!f.inFlight) {
          lost.push(`family ${i}: the last acknowledged token was rotated, but no refresh was in flight`);
          continue;
        }
        committedInFlight++;
      } else if (f.inFlight) {
        // The refresh cut off by the crash never committed: the last token is still the one to use.
        f.inFlight = false;
      }
      // Exactly one usable token per family, whatever happened.
      const n = Number((await live(grantId))?.n);
      if (n !== 1) lost.push(`family ${i}: ${n} usable refresh tokens`);
    }
    return {
      sessions: ledger.sessions.length,
      families: ledger.families.length,
      refreshTokens,
      committedInFlight,
      lost,
    };
  });
}

/**
 * Refreshes each family with its last acknowledged token (unless a crash cut off its last refresh);
 * returns the failures.
 */
export async function refreshEveryFamily(
  issuer: string,
  ledger: Ledger,
  concurrency = 8,
): Promise<{ refreshed: number; skipped: number; failures: string[] }> {
  const queue = ledger.families.map((f, i) => [f, i] as const);
  const failures: string[] = [];
  let refreshed = 0;
  let skipped = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [f, i] = next;
        if (f.inFlight) {
          skipped++;
          continue;
        }
        const res = await fetch(`${issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: f.tokens.at(-1)!,
            client_id: f.clientId,
          }),
        });
        const json = (await res.json()) as Record<string, unknown>;
        if (res.status === 200 && typeof json.refresh_token === 'string') {
          f.tokens.push(json.refresh_token);
          refreshed++;
        } else if (failures.length < 20) failures.push(`family ${i}: ${res.status} ${JSON.stringify(json)}`);
        else failures.push('…');
      }
    }),
  );
  return { refreshed, skipped, failures };
}
