/**
 * What the expiry sweep deletes, on both engines, through the worker itself (its rules are its
 * constants) and the store's repositories: each kind of row goes exactly when its rule says and not
 * a millisecond earlier, live rows stay, a rotated refresh token still reveals a reuse for as long as
 * its family is kept, and sweeps run by two nodes at once delete each row once.
 */
import { silentLogger } from '@tessera/shared';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { auditRepository as auditOf } from '../src/store/pg/audit.js';
import { backchannelRepository as backchannelOf } from '../src/store/pg/backchannel.js';
import { grantRepository as grantsOf } from '../src/store/pg/grants.js';
import * as pgSchema from '../src/store/pg/schema.js';
import { sessionRepository as sessionsOf } from '../src/store/pg/sessions.js';
import {
  ACCESS_TOKEN_KEPT_AFTER_EXPIRY_MS,
  DELIVERY_KEPT_AFTER_SETTLED_MS,
  GRANT_KEPT_AFTER_END_MS,
  SESSION_KEPT_AFTER_END_MS,
  sweepExpired,
  type SweepCounts,
} from '../src/workers/expiry-sweep.js';
import { ENGINES, freshDatabase, type Engine, type StoreNode, useEngines } from './support/store-engines.js';

useEngines();

const DAY = 86_400_000;
/** A time far from zero, so every "before" a rule computes is a real time. */
const T = 400 * DAY;
const config = { accessTokenTtl: 300, auditRetentionDays: 90 };

const sweep = (node: StoreNode, now: number, batch?: number): Promise<SweepCounts> =>
  sweepExpired({ store: node, clock: { now: () => now }, log: silentLogger, config }, batch);

async function count(node: StoreNode, table: string, where = 'true'): Promise<number> {
  const [row] = await node.query(`select count(*) as n from ${table} where ${where}`);
  return Number(row!.n);
}

async function ids(node: StoreNode, table: string, key: string): Promise<string[]> {
  return (await node.query(`select ${key} as k from ${table} order by ${key}`)).map((r) => String(r.k));
}

/** Rows written as the issuer writes them, raw, so that every time is the test's to choose. */
function rows(engine: Engine, node: StoreNode) {
  return {
    async owner() {
      await node.query(
        'insert into users (id, email, display_name, password_hash, created_at, updated_at) ' +
          "values ('u', 'u@x.test', 'U', 'h', 0, 0)",
      );
      await node.query(
        'insert into clients (id, name, type, party, redirect_uris, post_logout_redirect_uris, allowed_scopes, ' +
          "allowed_resources, created_at) values ('c', 'C', 'public', 'first', '[]', '[]', '[]', '[]', 0)",
      );
    },
    session: (id: string, at: { expiresAt: number; endedAt?: number }) =>
      node.query(
        'insert into sso_sessions (id, secret_digest, user_id, auth_time, created_at, last_seen_at, expires_at, ' +
          "user_agent, ip, ended_at) values (?, ?, 'u', 0, 0, 0, ?, 'ua', '127.0.0.1', ?)",
        [id, `secret-${id}`, at.expiresAt, at.endedAt ?? null],
      ),
    grant: (
      id: string,
      g: { sessionId: string; createdAt?: number; expiresAt?: number; offline?: boolean; revokedAt?: number },
    ) =>
      node.query(
        'insert into grants (id, client_id, user_id, session_id, code_digest, scope, resource, created_at, ' +
          "expires_at, offline, revoked_at) values (?, 'c', 'u', ?, null, 'openid', 'r', ?, ?, ?, ?)",
        [
          id,
          g.sessionId,
          g.createdAt ?? 0,
          g.expiresAt ?? null,
          engine === 'postgres' ? (g.offline ?? false) : g.offline ? 1 : 0,
          g.revokedAt ?? null,
        ],
      ),
    accessToken: (jti: string, grantId: string, expiresAt: number, revokedAt: number | null = null) =>
      node.query(
        'insert into access_tokens (jti, grant_id, expires_at, revoked_at, status_list, status_index) ' +
          'values (?, ?, ?, ?, null, null)',
        [jti, grantId, expiresAt, revokedAt],
      ),
    refreshToken: (digest: string, grantId: string, expiresAt: number, rotatedAt: number | null = null) =>
      node.query(
        'insert into refresh_tokens (digest, grant_id, created_at, expires_at, rotated_at, revoked_at) ' +
          'values (?, ?, 0, ?, ?, null)',
        [digest, grantId, expiresAt, rotatedAt],
      ),
    delivery: (id: string, at: { deliveredAt?: number; failedAt?: number }) =>
      node.query(
        'insert into backchannel_deliveries (id, client_id, uri, logout_token, attempts, next_attempt_at, ' +
          'created_at, delivered_at, failed_at, last_error) ' +
          "values (?, 'c', 'https://c.test/bcl', 't', 1, 0, 0, ?, ?, null)",
        [id, at.deliveredAt ?? null, at.failedAt ?? null],
      ),
    auditEvent: (at: number, type: string) =>
      node.query(
        'insert into audit_events (at, type, subject, client_id, ip, detail) values (?, ?, null, null, null, null)',
        [at, type],
      ),
  };
}

describe.each(ENGINES)('retention on %s', (engine) => {
  async function open() {
    const database = await freshDatabase(engine);
    const node = await database.node();
    const write = rows(engine, node);
    await write.owner();
    return { database, node, write };
  }

  it('deletes a pushed authorization request once it expired, one still usable never', async () => {
    const { node } = await open();
    for (const [digest, expiresAt] of [
      ['spent', T],
      ['live', T + 1],
    ] as const)
      await node.pushedAuthorizationRequests.create({
        digest,
        clientId: 'c',
        params: { client_id: 'c' },
        createdAt: T - 60_000,
        expiresAt,
      });
    expect((await sweep(node, T - 1)).pushedAuthorizationRequests).toBe(0);
    expect((await sweep(node, T)).pushedAuthorizationRequests).toBe(0);
    expect((await sweep(node, T + 1)).pushedAuthorizationRequests).toBe(1);
    expect(await ids(node, 'pushed_authorization_requests', 'digest')).toEqual(['live']);
    // A request is usable while now < expires_at: at T + 1 it is no longer, and goes at the next sweep.
    expect(await node.pushedAuthorizationRequests.consume('live', 'c', T + 1)).toBeUndefined();
    expect((await sweep(node, T + 2)).pushedAuthorizationRequests).toBe(1);
    expect(await count(node, 'pushed_authorization_requests')).toBe(0);
  });

  it("keeps an access token's row until it expired past the verifiers' leeway, then deletes it", async () => {
    const { node, write } = await open();
    await write.session('live', { expiresAt: T + DAY });
    await write.grant('g', { sessionId: 'live', expiresAt: T + 30 * DAY });
    await write.accessToken('spent', 'g', T, T - 1000);
    await write.accessToken('live', 'g', T + 10 * DAY);
    const due = T + ACCESS_TOKEN_KEPT_AFTER_EXPIRY_MS;
    expect((await sweep(node, due)).accessTokens).toBe(0);
    expect(await ids(node, 'access_tokens', 'jti')).toEqual(['live', 'spent']);
    expect((await sweep(node, due + 1)).accessTokens).toBe(1);
    expect(await ids(node, 'access_tokens', 'jti')).toEqual(['live']);
    // The grant's session is alive: nothing else goes.
    expect(await ids(node, 'grants', 'id')).toEqual(['g']);
    expect(ACCESS_TOKEN_KEPT_AFTER_EXPIRY_MS).toBeGreaterThanOrEqual(300_000);
  });

  it('keeps an SSO session a day after it ended or expired, and a live one for as long as it lives', async () => {
    const { node, write } = await open();
    await write.session('ended', { expiresAt: T + 10 * DAY, endedAt: T });
    await write.session('expired', { expiresAt: T + 1000 });
    await write.session('live', { expiresAt: T + 100 * DAY });
    expect((await sweep(node, T + SESSION_KEPT_AFTER_END_MS)).sessions).toBe(0);
    expect((await sweep(node, T + SESSION_KEPT_AFTER_END_MS + 1)).sessions).toBe(1);
    expect(await ids(node, 'sso_sessions', 'id')).toEqual(['expired', 'live']);
    expect((await sweep(node, T + 1000 + SESSION_KEPT_AFTER_END_MS)).sessions).toBe(0);
    expect((await sweep(node, T + 1001 + SESSION_KEPT_AFTER_END_MS)).sessions).toBe(1);
    expect(await ids(node, 'sso_sessions', 'id')).toEqual(['live']);
  });

  it('deletes a revoked grant and its refresh tokens once its access tokens and its session are gone', async () => {
    const { node, write } = await open();
    await write.session('live', { expiresAt: T + 100 * DAY });
    // Revoked, no token left, session gone: goes once revoked for longer than the margin.
    await write.grant('revoked', { sessionId: 'gone', revokedAt: T, expiresAt: T + 30 * DAY });
    await write.refreshToken('r-old', 'revoked', T + 7 * DAY, T - DAY);
    await write.refreshToken('r-new', 'revoked', T + 7 * DAY);
    // Revoked as long ago, but an access token of it still passes a leeway: kept with it.
    await write.grant('token-left', { sessionId: 'gone', revokedAt: T, expiresAt: T + 30 * DAY });
    await write.accessToken('at', 'token-left', T + 2 * DAY, T);
    // Revoked as long ago, but its session may still be logged out of: its client must be told.
    await write.grant('session-left', { sessionId: 'live', revokedAt: T, expiresAt: T + 30 * DAY });
    const due = T + GRANT_KEPT_AFTER_END_MS;
    expect((await sweep(node, due)).grants).toBe(0);
    expect((await sweep(node, due + 1)).grants).toBe(1);
    expect(await ids(node, 'grants', 'id')).toEqual(['session-left', 'token-left']);
    expect(await count(node, 'refresh_tokens')).toBe(0);
    expect(await node.grants.clientIdsForSession('live')).toEqual(['c']);
    // The access token expires (and is swept past its leeway): its grant follows in the same sweep.
    const counts = await sweep(node, T + 2 * DAY + ACCESS_TOKEN_KEPT_AFTER_EXPIRY_MS + 1);
    expect(counts).toMatchObject({ accessTokens: 1, grants: 1 });
    expect(await ids(node, 'grants', 'id')).toEqual(['session-left']);
  });

  it('deletes a grant past its absolute end, and one never refreshable once its access token is gone', async () => {
    const { node, write } = await open();
    await write.grant('ended', { sessionId: 'gone', expiresAt: T });
    await write.refreshToken('r-ended', 'ended', T);
    // No refresh tokens: its one access token, issued at redemption, is its whole life.
    await write.grant('unrefreshable', { sessionId: 'gone', createdAt: T });
    await write.accessToken('at-u', 'unrefreshable', T + config.accessTokenTtl * 1000);
    // Offline access, unexpired: outlives its session.
    await write.grant('offline', { sessionId: 'gone', offline: true, expiresAt: T + 30 * DAY });
    await write.refreshToken('r-offline', 'offline', T + 7 * DAY);
    const ended = T + GRANT_KEPT_AFTER_END_MS;
    expect((await sweep(node, ended)).grants).toBe(0);
    expect((await sweep(node, ended + 1)).grants).toBe(1);
    expect(await ids(node, 'grants', 'id')).toEqual(['offline', 'unrefreshable']);
    const unrefreshable = T + config.accessTokenTtl * 1000 + ACCESS_TOKEN_KEPT_AFTER_EXPIRY_MS;
    expect(await sweep(node, unrefreshable)).toMatchObject({ accessTokens: 0, grants: 0 });
    expect(await sweep(node, unrefreshable + 1)).toMatchObject({ accessTokens: 1, grants: 1 });
    expect(await ids(node, 'grants', 'id')).toEqual(['offline']);
    expect(await ids(node, 'refresh_tokens', 'digest')).toEqual(['r-offline']);
    expect((await sweep(node, T + 30 * DAY + GRANT_KEPT_AFTER_END_MS + 1)).grants).toBe(1);
    expect(await count(node, 'grants')).toBe(0);
    expect(await count(node, 'refresh_tokens')).toBe(0);
  });

  it('keeps a rotated refresh token while its family lives, so its reuse still revokes the family', async () => {
    const { node, write } = await open();
    await write.grant('family', { sessionId: 'gone', offline: true, expiresAt: T + 30 * DAY });
    await write.refreshToken('rotated', 'family', T + 7 * DAY, T);
    await write.refreshToken('current', 'family', T + 8 * DAY);
    await write.accessToken('at', 'family', T + 300_000);
    // Every other rule has had its turn: tokens expired, the rotated one past its own idle limit.
    const late = T + 30 * DAY + GRANT_KEPT_AFTER_END_MS;
    expect((await sweep(node, late)).grants).toBe(0);
    const found = await node.refreshTokens.find('rotated');
    expect(found?.token.rotatedAt).toBe(T);
    expect(found?.grant.revokedAt).toBeNull();
    // What the refresh grant does on a reuse (protocol/grant-refresh-token.ts).
    await node.refreshTokens.revokeGrant(found!.grant.id, late);
    expect((await node.refreshTokens.find('current'))?.token.revokedAt).toBe(late);
    expect((await sweep(node, late + GRANT_KEPT_AFTER_END_MS + 1)).grants).toBe(1);
    expect(await count(node, 'refresh_tokens')).toBe(0);
  });

  it('keeps back-channel deliveries a week after they settled, pending ones always', async () => {
    const { node, write } = await open();
    await write.delivery('delivered', { deliveredAt: T });
    await write.delivery('failed', { failedAt: T + 1000 });
    await write.delivery('pending', {});
    expect((await sweep(node, T + DELIVERY_KEPT_AFTER_SETTLED_MS)).deliveries).toBe(0);
    expect((await sweep(node, T + DELIVERY_KEPT_AFTER_SETTLED_MS + 1)).deliveries).toBe(1);
    expect((await sweep(node, T + 1000 + DELIVERY_KEPT_AFTER_SETTLED_MS)).deliveries).toBe(0);
    expect((await sweep(node, T + 1001 + DELIVERY_KEPT_AFTER_SETTLED_MS)).deliveries).toBe(1);
    expect(await ids(node, 'backchannel_deliveries', 'id')).toEqual(['pending']);
  });

  it('keeps audit events for the configured retention', async () => {
    const { node, write } = await open();
    await write.auditEvent(T, 'old');
    await write.auditEvent(T + 1, 'newer');
    const retention = config.auditRetentionDays * DAY;
    expect((await sweep(node, T + retention)).auditEvents).toBe(0);
    expect((await sweep(node, T + retention + 1)).auditEvents).toBe(1);
    expect((await node.audit.list({ limit: 10 })).map((e) => e.type)).toEqual(['newer']);
  });

  it('deletes each row once when two nodes sweep at once, in small batches', async () => {
    const { database, node, write } = await open();
    const second = await database.node();
    const n = 60;
    for (let i = 0; i < n; i++) {
      await write.session(`s${i}`, { expiresAt: T, endedAt: T });
      await write.grant(`g${i}`, { sessionId: `s${i}`, revokedAt: T, expiresAt: T + DAY });
      await write.refreshToken(`r${i}`, `g${i}`, T + DAY, T);
      await write.accessToken(`a${i}`, `g${i}`, T);
      await write.delivery(`d${i}`, { deliveredAt: T });
      await write.auditEvent(T, 'old');
    }
    await node.query(
      'insert into authorization_codes (digest, client_id, user_id, session_id, redirect_uri, scope, resource, ' +
        "nonce, code_challenge, auth_time, created_at, expires_at, consumed_at) values ('code', 'c', 'u', 's0', " +
        "'https://c.test/cb', 'openid', 'r', null, 'ch', 0, 0, ?, null)",
      [T],
    );
    await node.query(
      'insert into device_authorizations (digest, user_code, client_id, scope, resource, device_description, ' +
        "device_ip, status, interval, created_at, expires_at) values ('device', 'BCDFGHJK', 'c', 'openid', 'r', " +
        "'TV', '127.0.0.1', 'pending', 5, 0, ?)",
      [T],
    );
    await node.query("insert into dpop_proofs (key, expires_at) values ('jkt.jti', ?)", [T]);
    const now = T + 100 * DAY;
    const counts = await Promise.all([sweep(node, now, 7), sweep(second, now, 7), sweep(node, now, 5)]);
    const total = (kind: keyof SweepCounts) => counts.reduce((sum, c) => sum + c[kind], 0);
    expect({
      codes: total('codes'),
      deviceAuthorizations: total('deviceAuthorizations'),
      dpopProofs: total('dpopProofs'),
      accessTokens: total('accessTokens'),
      sessions: total('sessions'),
      grants: total('grants'),
      deliveries: total('deliveries'),
      auditEvents: total('auditEvents'),
    }).toEqual({
      codes: 1,
      deviceAuthorizations: 1,
      dpopProofs: 1,
      accessTokens: n,
      sessions: n,
      grants: n,
      deliveries: n,
      auditEvents: n,
    });
    for (const table of [
      'grants',
      'refresh_tokens',
      'access_tokens',
      'sso_sessions',
      'audit_events',
      'device_authorizations',
    ])
      expect(await count(node, table)).toBe(0);
  });
});

describe('the sweep on postgres', () => {
  it('finds each batch through an index, among many live rows, and looks its grants up by key', async () => {
    const database = await freshDatabase('postgres');
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    try {
      // Records what the repositories send, so the very statements are planned.
      const sent: { text: string; values: unknown[] }[] = [];
      const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
      (pool as unknown as { query: unknown }).query = (statement: unknown, values?: unknown[]) => {
        const text = typeof statement === 'string' ? statement : (statement as { text: string }).text;
        sent.push({ text, values: values ?? (statement as { values?: unknown[] }).values ?? [] });
        return query(statement, values);
      };
      const db = drizzle({ client: pool, schema: pgSchema });
      await pool.query(
        `insert into users values ('u', 'u@x.test', 'U', 'h', 0, 0);
         insert into clients (id, name, type, party, redirect_uris, post_logout_redirect_uris, allowed_scopes,
           allowed_resources, created_at) values ('c', 'C', 'public', 'first', '[]', '[]', '[]', '[]', 0);
         insert into sso_sessions select 's' || n, 'd' || n, 'u', 0, 0, 0, ${T} + n, 'ua', 'ip',
           case when n % 2 = 0 then ${T} + n end from generate_series(1, 20000) n;
         insert into grants select 'g' || n, 'c', 'u', 's' || n, null, 'openid', 'r', ${T} + n,
           case when n % 3 > 0 then ${T} + n end, false, case when n % 3 = 1 then ${T} + n end
           from generate_series(1, 20000) n;
         insert into access_tokens select 'a' || n, 'g' || n, ${T} + n, null, null, null
           from generate_series(1, 20000) n;
         insert into backchannel_deliveries select 'd' || n, 'c', 'u', 't', 1, 0, 0,
           case when n % 2 = 0 then ${T} + n end, case when n % 2 = 1 then ${T} + n end, null
           from generate_series(1, 20000) n;
         insert into audit_events (at, type) select ${T} + n, 't' from generate_series(1, 20000) n;
         analyze;`,
      );
      const before = T + 11;
      await grantsOf(db).deleteExpiredAccessTokens(before, 500);
      await sessionsOf(db).deleteFinished(before, 500);
      await grantsOf(db).deleteSpentGrants({ endedBefore: before, issuedBefore: before }, 500);
      await backchannelOf(db).deleteSettled(before, 500);
      await auditOf(db).deleteBefore(before, 500);
      const deletes = sent.filter((s) => /^delete/i.test(s.text));
      const expected = [
        'access_tokens_expiry',
        'sso_sessions_ended',
        'sso_sessions_expiry',
        'grants_revoked',
        'grants_expiry',
        'grants_unrefreshable',
        'backchannel_deliveries_delivered',
        'backchannel_deliveries_failed',
        'audit_events_at',
      ];
      expect(deletes).toHaveLength(expected.length);
      for (const [i, index] of expected.entries()) {
        const { rows: plan } = (await query(`explain ${deletes[i]!.text}`, deletes[i]!.values)) as pg.QueryResult;
        const text = plan.map((r) => r['QUERY PLAN']).join('\n');
        expect(text).toContain(index);
        expect(text).not.toMatch(/Seq Scan/);
        if (index.startsWith('grants_')) expect(text).toMatch(/access_tokens_grant[\s\S]*sso_sessions_pkey/);
      }
    } finally {
      await pool.end();
    }
  });
});
