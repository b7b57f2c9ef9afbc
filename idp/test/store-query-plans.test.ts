/**
 * What each statement costs as the tables grow: every statement the issuer prepares while people
 * sign in, come back through their SSO session, redeem codes, rotate refresh tokens, revoke and
 * sign out, and while its periodic jobs run, is planned by SQLite to read only the rows it needs
 * — an index search, never a walk over a table or an index whose size follows the number of
 * people, tokens or past events. Read from SQLite's own plans (EXPLAIN QUERY PLAN), so a missing
 * index or an index that stopped matching its query fails here, before a database of a million
 * people would show it (scripts/bench/scale.ts).
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signInAndRedeem, browserFlow, postToken, basicAuth, redeem } from './support/browser.js';
import { registerWebClient, useIssuer } from './support/fixture.js';
import { sqliteOf } from '../src/store/index.js';

// Records what the real driver prepares (and lets it prepare it): the statements under test.
const prepared = vi.spyOn(Database.prototype, 'prepare');
afterAll(() => prepared.mockRestore());

const { idp, fx } = useIssuer();
const web = { id: 'planned-web', name: 'Planned Web', secret: 'planned-web-secret-planned-web-secret-0123' };

/**
 * Tables whose size does not follow the number of people or tokens: a handful of signing keys, one
 * status list per 2^20 access tokens, and the places of the sign-in attempts in flight right now.
 */
const BOUNDED = new Set(['signing_keys', 'status_lists', 'sign_in_reservations', '__drizzle_migrations']);

interface Planned {
  sql: string;
  plan: string[];
}

let statements: Planned[] = [];
let partialIndexes = new Set<string>();

beforeAll(async () => {
  await registerWebClient(idp, fx, web);
  const ctx = idp.issuer.ctx;
  const { store } = ctx;
  const client = { clientId: web.id, redirectUri: fx.redirectUri };

  // Sign-in (with the throttle's sweep), code, token: alice's first visit.
  const first = await signInAndRedeem(idp.url, { ...client, auth: web });
  // An SSO visit: authorize through the session cookie, code, token.
  const visit = await browserFlow(idp.url, client, null, first.jar);
  const again = await redeem(
    idp.url,
    { code: visit.callback.searchParams.get('code')!, code_verifier: visit.verifier, redirect_uri: fx.redirectUri },
    web,
  );
  expect(again.status).toBe(200);
  // A rotation.
  const rotated = await postToken(
    idp.url,
    { grant_type: 'refresh_token', refresh_token: again.json.refresh_token as string },
    { authorization: basicAuth(web.id, web.secret) },
  );
  expect(rotated.status).toBe(200);
  // Revocation of an access token, and a status list rebuilt and published for it.
  const revoked = await fetch(`${idp.url}/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(web.id, web.secret) },
    body: new URLSearchParams({ token: rotated.json.access_token as string }),
  });
  expect(revoked.status).toBe(200);
  const statusUri = JSON.parse(
    Buffer.from((rotated.json.access_token as string).split('.')[1]!, 'base64url').toString(),
  ).status.status_list.uri as string;
  expect((await fetch(statusUri)).status).toBe(200);
  expect((await fetch(`${idp.url}/statuslists`)).status).toBe(200);

  // What sign-out and the periodic jobs run, through the store they run it on.
  const now = idp.clock.now();
  const session = (await store.sessions.listActiveForUser(fx.alice.sub))[0]!;
  await store.grants.clientIdsForSession(session.id);
  await store.refreshTokens.revokeSessionGrants(session.id, now);
  await store.sessions.end(session.id, now);
  await store.backchannel.claimDue(now, 16, now);
  await store.backchannel.nextDue();
  await store.interactions.deleteExpired(now, 500);
  await store.pushedAuthorizationRequests.deleteExpired(now, 500);
  await store.grants.deleteExpiredCodes(now, 500);
  await store.signInThrottles.deleteLapsedReservations(now);
  await store.grants.deleteExpiredAccessTokens(now, 500);
  await store.sessions.deleteFinished(now, 500);
  await store.grants.deleteSpentGrants({ endedBefore: now, issuedBefore: now }, 500);
  await store.backchannel.deleteSettled(now, 500);
  await store.audit.deleteBefore(now, 500);

  const sqlite = sqliteOf(store);
  const seen = new Set(prepared.mock.calls.map(([sql]) => sql.replace(/\s+/g, ' ').trim()));
  statements = [...seen]
    // Inserts plan only their foreign-key checks, which run only while a deferred violation is pending.
    .filter((sql) => /^(select|update|delete|with)\b/i.test(sql) && !/__drizzle_migrations|sqlite_master/.test(sql))
    .map((sql) => {
      const params = Array<null>(sql.split('?').length - 1).fill(null);
      const rows = sqlite.prepare(`explain query plan ${sql}`).all(...params) as { detail: string }[];
      return { sql, plan: rows.map((r) => r.detail) };
    });
  const tables = sqlite.prepare("select name from sqlite_master where type = 'table'").pluck().all() as string[];
  partialIndexes = new Set(
    tables.flatMap((t) =>
      (sqlite.pragma(`index_list(${JSON.stringify(t)})`) as { name: string; partial: number }[])
        .filter((i) => i.partial === 1)
        .map((i) => i.name),
    ),
  );
});

/** The index a plan line reads, if any. */
const indexOf = (line: string) => /USING (?:COVERING )?INDEX (\S+)/.exec(line)?.[1];
const tableOf = (line: string) => /^(?:SCAN|SEARCH) (\S+)/.exec(line)?.[1] ?? '';

/** The plan of the one statement that `pattern` finds among those prepared. */
function planOf(pattern: RegExp): Planned {
  const found = statements.filter((s) => pattern.test(s.sql));
  expect(found.map((s) => s.sql)).toHaveLength(1);
  return found[0]!;
}

describe('query plans: each statement reads the rows it needs, not the table', () => {
  it('saw the statements of every path it names', () => {
    for (const table of ['users', 'sso_sessions', 'authorization_codes', 'grants', 'refresh_tokens', 'access_tokens'])
      expect(statements.some((s) => s.sql.includes(`"${table}"`))).toBe(true);
    expect(statements.length).toBeGreaterThan(25);
  });

  it('no statement walks a table that grows with people, tokens or events', () => {
    const walks = statements.flatMap(({ sql, plan }) =>
      plan
        .filter((line) => {
          const table = tableOf(line);
          if (BOUNDED.has(table)) return false;
          // A walk over a partial index reads only the rows it holds (the pending ones, the revoked ones).
          if (line.startsWith('SCAN ')) return !partialIndexes.has(indexOf(line) ?? '');
          return /TEMP B-TREE FOR ORDER BY/.test(line);
        })
        .map((line) => `${line}   ← ${sql}`),
    );
    expect(walks).toEqual([]);
  });

  it('a range of an index is read only where the index holds just the rows wanted, or by a sweep deleting them', () => {
    const ranges = statements.flatMap(({ sql, plan }) =>
      plan
        .filter((line) => line.startsWith('SEARCH ') && /\([^)]*[<>][^)]*\)/.test(line))
        .filter((line) => !BOUNDED.has(tableOf(line)) && !partialIndexes.has(indexOf(line) ?? ''))
        .filter(() => !/^delete\b/i.test(sql))
        .map((line) => `${line}   ← ${sql}`),
    );
    expect(ranges).toEqual([]);
  });

  it('the back-channel worker polls an index of the pending deliveries only', () => {
    // Delivered and failed rows stay, one per logout notice ever sent: the polls must not pass them.
    for (const pattern of [/^update "backchannel_deliveries" set "attempts"/, /^select "next_attempt_at" from/]) {
      const { plan } = planOf(pattern);
      expect(plan.map(indexOf)).toContain('backchannel_deliveries_due');
    }
    expect(partialIndexes).toContain('backchannel_deliveries_due');
  });

  it('a status list is rebuilt from an index of its revoked tokens only, not all 2^20 of its tokens', () => {
    const { plan } = planOf(/^select "status_index" from "access_tokens"/);
    const index = plan.map(indexOf).find(Boolean);
    expect(index).toBeDefined();
    expect(partialIndexes).toContain(index);
  });

  it('the sweep of expired interactions, pushed requests and codes finds them by their expiry index', () => {
    for (const [pattern, index] of [
      [/^delete from "interactions" where "interactions"."id" in/, 'interactions_expiry'],
      [
        /^delete from "pushed_authorization_requests" where "pushed_authorization_requests"."digest" in/,
        'pushed_authorization_requests_expiry',
      ],
      [/^delete from "authorization_codes" where "authorization_codes"."digest" in/, 'authorization_codes_expiry'],
    ] as const) {
      const { plan } = planOf(pattern);
      expect(plan.map(indexOf)).toContain(index);
      expect(plan.some((line) => line.startsWith('SCAN '))).toBe(false);
    }
  });

  it('the sweep of ended tokens, grants, sessions, deliveries and events finds each batch by an index', () => {
    for (const [pattern, index] of [
      [/^delete from "access_tokens" where "access_tokens"."jti" in/, 'access_tokens_expiry'],
      [/^delete from "sso_sessions" .*"sso_sessions"."ended_at" </, 'sso_sessions_ended'],
      [/^delete from "sso_sessions" .*"sso_sessions"."expires_at" </, 'sso_sessions_expiry'],
      [/^delete from "grants" .*"grants"."revoked_at" </, 'grants_revoked'],
      [/^delete from "grants" .*"grants"."expires_at" </, 'grants_expiry'],
      [/^delete from "grants" .*"grants"."expires_at" is null/, 'grants_unrefreshable'],
      [
        /^delete from "backchannel_deliveries" .*"backchannel_deliveries"."delivered_at" </,
        'backchannel_deliveries_delivered',
      ],
      [
        /^delete from "backchannel_deliveries" .*"backchannel_deliveries"."failed_at" </,
        'backchannel_deliveries_failed',
      ],
      [/^delete from "audit_events" where "audit_events"."id" in/, 'audit_events_at'],
    ] as const) {
      const { plan } = planOf(pattern);
      expect(plan.map(indexOf)).toContain(index);
      expect(plan.filter((line) => line.startsWith('SCAN '))).toEqual([]);
    }
  });

  it('a grant is swept only when its access tokens and its session are gone, each looked up by key', () => {
    for (const pattern of [/"grants"."revoked_at" </, /"grants"."expires_at" </, /"grants"."expires_at" is null/]) {
      const { plan } = planOf(new RegExp(`^delete from "grants" .*${pattern.source}`));
      expect(plan.map(indexOf)).toEqual(expect.arrayContaining(['access_tokens_grant']));
      expect(
        plan.some((line) =>
          /^SEARCH sso_sessions USING (COVERING )?INDEX sqlite_autoindex_sso_sessions_1 \(id=\?\)/.test(line),
        ),
      ).toBe(true);
    }
  });

  it('the sweep of forgotten sign-in counters reads the quiet ones by index', () => {
    const { plan } = planOf(/^delete from "sign_in_throttles" where \("sign_in_throttles"."key" like/);
    expect(plan).toEqual([expect.stringMatching(/^SEARCH sign_in_throttles USING INDEX \S+ \(last_failure_at<\?\)$/)]);
  });
});

describe('statements are prepared once', () => {
  it('an SSO visit, its code grant and a rotation prepare no statement: each was prepared at start-up', async () => {
    const client = { clientId: web.id, redirectUri: fx.redirectUri };
    const first = await signInAndRedeem(idp.url, { ...client, auth: web });
    const before = prepared.mock.calls.length;
    const visit = await browserFlow(idp.url, client, null, first.jar);
    const redeemed = await redeem(
      idp.url,
      { code: visit.callback.searchParams.get('code')!, code_verifier: visit.verifier, redirect_uri: fx.redirectUri },
      web,
    );
    expect(redeemed.status).toBe(200);
    const rotated = await postToken(
      idp.url,
      { grant_type: 'refresh_token', refresh_token: redeemed.json.refresh_token as string },
      { authorization: basicAuth(web.id, web.secret) },
    );
    expect(rotated.status).toBe(200);
    expect(prepared.mock.calls.slice(before).map(([sql]) => sql)).toEqual([]);
  });
});
