/**
 * The repositories on both engines: each assertion runs against the SQLite store and against the
 * PostgreSQL repositories on a real throwaway server, a fresh database per test. A behaviour
 * difference between the engines fails here. Races run across two "nodes": two SQLite connections
 * to one file, or two PostgreSQL pools on one database, with requests alternating between them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startThrowawayPostgres, type ThrowawayPostgres } from '@tessera/shared/testing';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  EmailTakenError,
  openStore,
  type Client,
  type Grant,
  type Interaction,
  type Store,
} from '../src/store/index.js';
import { migratePostgres } from '../src/store/pg/migrate.js';
import * as pgSchema from '../src/store/pg/schema.js';
import { auditRepository } from '../src/store/pg/audit.js';
import { clientRepository, resourceRepository } from '../src/store/pg/clients.js';
import { consentRepository } from '../src/store/pg/consents.js';
import { grantRepository } from '../src/store/pg/grants.js';
import { interactionRepository } from '../src/store/pg/interactions.js';
import { refreshTokenRepository } from '../src/store/pg/refresh-tokens.js';
import { sessionRepository } from '../src/store/pg/sessions.js';
import { userRepository } from '../src/store/pg/users.js';
import type { AuthorizationRequest } from '../src/model/authorization-request.js';

type Repositories = Pick<
  Store,
  'users' | 'sessions' | 'clients' | 'resources' | 'consents' | 'interactions' | 'audit' | 'grants' | 'refreshTokens'
>;
type Row = Record<string, unknown>;

/** One database reached by several nodes, and a raw statement (`?` placeholders) to set up or inspect it. */
interface Opened {
  nodes: Repositories[];
  query(text: string, params?: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

interface Engine {
  name: string;
  /** Once per file, before the first open. */
  start?(): Promise<void>;
  open(nodes: number): Promise<Opened>;
}

const sqlite: Engine = {
  name: 'sqlite',
  async open(n) {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-repos-'));
    const stores = await Promise.all(Array.from({ length: n }, async () => openStore(join(dir, 'issuer.db'))));
    return {
      nodes: stores,
      query: (text, params) => stores[0]!.database.query(text, params),
      async close() {
        for (const s of stores) s.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

let cluster: ThrowawayPostgres | undefined;
let admin: pg.Pool | undefined;
let databases = 0;

/** A migrated database every test's database is copied from: migrating once is the slow part. */
const TEMPLATE = 'repositories_template';

const postgres: Engine = {
  name: 'postgres',
  async start() {
    if (cluster) return;
    cluster = await startThrowawayPostgres();
    admin = new pg.Pool({ connectionString: cluster.url, max: 1 });
    await admin.query(`create database ${TEMPLATE}`);
    const template = new pg.Pool({ connectionString: urlOf(TEMPLATE), max: 1 });
    await migratePostgres(template);
    await template.end();
  },
  async open(n) {
    const name = `repositories_${++databases}`;
    await admin!.query(`create database ${name} template ${TEMPLATE}`);
    const pools = Array.from({ length: n }, () => new pg.Pool({ connectionString: urlOf(name), max: 10 }));
    const nodes = pools.map((pool) => {
      const db = drizzle({ client: pool, schema: pgSchema });
      return {
        users: userRepository(db),
        sessions: sessionRepository(db),
        clients: clientRepository(db),
        resources: resourceRepository(db),
        consents: consentRepository(db),
        interactions: interactionRepository(db),
        audit: auditRepository(db),
        grants: grantRepository(db),
        refreshTokens: refreshTokenRepository(db),
      };
    });
    return {
      nodes,
      async query(text, params = []) {
        let i = 0;
        return (
          await pools[0]!.query(
            text.replace(/\?/g, () => `$${++i}`),
            [...params],
          )
        ).rows;
      },
      async close() {
        await Promise.all(pools.map((p) => p.end()));
      },
    };
  },
};

function urlOf(database: string): string {
  const url = new URL(cluster!.url);
  url.pathname = `/${database}`;
  return url.toString();
}

afterAll(async () => {
  await admin?.end();
  await cluster?.stop();
});

const USER = 'user-1';
const client = (id: string, over: Partial<Client> = {}): Client => ({
  id,
  name: `Client ${id}`,
  type: 'confidential',
  party: 'third',
  secretDigest: 'secret-digest',
  redirectUris: [`https://${id}.example.test/callback`],
  postLogoutRedirectUris: [],
  backchannelLogoutUri: null,
  allowedScopes: ['openid', 'profile', 'offline_access'],
  allowedResources: [`https://${id}.example.test/api`],
  grantTypes: ['authorization_code', 'refresh_token'],
  dpopBound: false,
  exchangeTargets: [],
  jwks: null,
  jwksUri: null,
  requirePushedAuthorizationRequests: false,
  requireMfa: false,
  fedcmOrigins: [],
  policyUri: null,
  tosUri: null,
  createdAt: 1000,
  ...over,
});

const code = (digest: string, over: Record<string, unknown> = {}) => ({
  digest,
  clientId: 'app',
  userId: USER,
  sessionId: 'sid-1',
  redirectUri: 'https://app.example.test/callback',
  scope: 'openid profile',
  resource: 'https://app.example.test/api',
  nonce: null,
  codeChallenge: 'challenge',
  authTime: 1000,
  amr: ['pwd'],
  createdAt: 1000,
  expiresAt: 61_000,
  consumedAt: null,
  origin: null,
  ...over,
});

const grantFrom =
  (id: string, over: Partial<Grant> = {}) =>
  (c: {
    clientId: string;
    userId: string;
    sessionId: string;
    scope: string;
    resource: string;
    digest: string;
    amr: string[];
  }) =>
    ({
      id,
      clientId: c.clientId,
      userId: c.userId,
      sessionId: c.sessionId,
      codeDigest: c.digest,
      scope: c.scope,
      resource: c.resource,
      amr: c.amr,
      createdAt: 2000,
      expiresAt: 9_000_000,
      dpopJkt: null,
      offline: false,
      revokedAt: null,
      ...over,
    }) satisfies Grant;

const refresh = (digest: string, grantId: string) => ({
  digest,
  grantId,
  createdAt: 2000,
  expiresAt: 5_000_000,
  rotatedAt: null,
  revokedAt: null,
});

/** How many callers won: the results that are truthy. */
const winners = (results: unknown[]) => results.filter(Boolean).length;

describe.each([sqlite, postgres])('repositories on $name', (engine) => {
  let opened: Opened | undefined;
  beforeAll(async () => engine.start?.());
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });

  /** A fresh database with a user, a client and a session; `n` nodes on it. */
  async function open(n = 1): Promise<Opened & { store: Repositories }> {
    opened = await engine.open(n);
    const store = opened.nodes[0]!;
    await store.users.create({ sub: USER, email: 'Ada@Example.test', displayName: 'Ada', passwordHash: 'h', now: 1 });
    await store.clients.create(client('app'));
    await store.sessions.create({
      id: 'sid-1',
      secretDigest: 'cookie-digest',
      fedcmDigest: 'fedcm-digest',
      userId: USER,
      authTime: 1000,
      amr: ['pwd'],
      createdAt: 1000,
      lastSeenAt: 1000,
      expiresAt: 100_000,
      userAgent: 'test',
      ip: '127.0.0.1',
    });
    return { ...opened, store };
  }

  /**
   * Redeems `digest` into grant `grantId` with access token `jti` (and a refresh token `r-<grantId>`),
   * the grant built from the code as read, as the token endpoint builds it.
   */
  const redeem = async (store: Repositories, digest: string, grantId: string, jti: string, over: Partial<Grant> = {}) =>
    store.grants.redeemCode(digest, 2000, grantFrom(grantId, over)((await store.grants.findCode(digest))!), {
      refreshToken: refresh(`r-${grantId}`, grantId),
      accessToken: { jti, expiresAt: 3_000_000 },
    });

  const activeAccessTokens = async (q: Opened['query'], grantId: string) =>
    (await q('select jti from access_tokens where grant_id = ? and revoked_at is null order by jti', [grantId])).map(
      (r) => r.jti,
    );

  describe('users', () => {
    it('creates, finds by email case-insensitively and by sub, updates the password hash, lists', async () => {
      const { store } = await open();
      expect(await store.users.findByEmail('  ADA@example.TEST ')).toEqual({
        sub: USER,
        email: 'ada@example.test',
        displayName: 'Ada',
        passwordHash: 'h',
        emailVerified: false,
        createdAt: 1,
        admin: false,
        disabledAt: null,
      });
      expect(await store.users.findBySub('nobody')).toBeUndefined();
      expect(await store.users.findByEmail('nobody@example.test')).toBeUndefined();
      const bob = await store.users.create({
        sub: 'u2',
        email: 'bob@x.test',
        displayName: 'Bob',
        passwordHash: 'b',
        now: 5,
      });
      expect(bob).toEqual({
        sub: 'u2',
        email: 'bob@x.test',
        displayName: 'Bob',
        passwordHash: 'b',
        emailVerified: false,
        createdAt: 5,
        admin: false,
        disabledAt: null,
      });
      await store.users.updatePasswordHash('u2', 'b2', 6);
      expect((await store.users.findBySub('u2'))?.passwordHash).toBe('b2');
      expect((await store.users.list()).map((u) => u.sub)).toEqual([USER, 'u2']);
    });

    it('grants and takes back the admin role, disables and enables, each change once', async () => {
      const { store } = await open();
      expect(await store.users.setAdmin(USER, true, 2)).toBe(true);
      expect(await store.users.setAdmin(USER, true, 3)).toBe(false);
      expect((await store.users.findBySub(USER))?.admin).toBe(true);
      expect(await store.users.setDisabled(USER, true, 4)).toBe(true);
      expect(await store.users.setDisabled(USER, true, 5)).toBe(false);
      expect(await store.users.findBySub(USER)).toMatchObject({ admin: true, disabledAt: 4 });
      expect(await store.users.setDisabled(USER, false, 6)).toBe(true);
      expect(await store.users.setDisabled(USER, false, 7)).toBe(false);
      expect(await store.users.setAdmin(USER, false, 8)).toBe(true);
      expect(await store.users.findBySub(USER)).toMatchObject({ admin: false, disabledAt: null });
      expect(await store.users.setAdmin('nobody', true, 9)).toBe(false);
      expect(await store.users.setDisabled('nobody', true, 9)).toBe(false);
    });

    it('finds people by part of the email or name, any case, wildcards literal, ordered and bounded', async () => {
      const { store } = await open();
      for (const [sub, email, name] of [
        ['u-1', 'zed@x.test', 'Zed Percent%'],
        ['u-2', 'bea_t@x.test', 'Bea'],
        ['u-3', 'beat@x.test', 'Bob Back\\slash'],
      ])
        await store.users.create({ sub: sub!, email: email!, displayName: name!, passwordHash: 'h', now: 2 });
      const subs = async (text: string, limit = 10) => (await store.users.search(text, limit)).map((u) => u.sub);
      expect(await subs('BEA')).toEqual(['u-2', 'u-3']);
      expect(await subs('a_t')).toEqual(['u-2']);
      expect(await subs('%')).toEqual(['u-1']);
      expect(await subs('k\\s')).toEqual(['u-3']);
      expect(await subs('ada')).toEqual([USER]);
      expect(await subs('x.test', 2)).toEqual(['u-2', 'u-3']);
      expect(await subs('nobody')).toEqual([]);
    });

    it('marks an address verified only while it is the account’s, and moves an account to a free address', async () => {
      const { store } = await open();
      expect(await store.users.markEmailVerified(USER, 'old@example.test', 2)).toBe(false);
      expect((await store.users.findBySub(USER))?.emailVerified).toBe(false);
      expect(await store.users.markEmailVerified(USER, 'ADA@example.test', 2)).toBe(true);
      expect((await store.users.findBySub(USER))?.emailVerified).toBe(true);
      await store.users.create({ sub: 'u2', email: 'bob@x.test', displayName: 'Bob', passwordHash: 'b', now: 5 });
      // From an address that is no longer the account's: nothing moves.
      expect(await store.users.changeEmail('u2', 'old@x.test', 'new@x.test', 6)).toBe(false);
      await expect(store.users.changeEmail('u2', 'bob@x.test', 'Ada@example.test', 6)).rejects.toThrow(EmailTakenError);
      expect(await store.users.changeEmail('u2', 'bob@x.test', 'New@X.test', 6)).toBe(true);
      expect(await store.users.findBySub('u2')).toMatchObject({ email: 'new@x.test', emailVerified: true });
      expect(await store.users.findByEmail('bob@x.test')).toBeUndefined();
    });

    it('moves one of two accounts racing for one address, across nodes', async () => {
      const { nodes } = await open(2);
      for (const sub of ['u2', 'u3'])
        await nodes[0]!.users.create({ sub, email: `${sub}@x.test`, displayName: sub, passwordHash: 'h', now: 5 });
      const outcomes = await Promise.allSettled(
        ['u2', 'u3'].map((sub, i) => nodes[i]!.users.changeEmail(sub, `${sub}@x.test`, 'wanted@x.test', 6)),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled' && o.value).length).toBe(1);
      const lost = outcomes.filter((o) => o.status === 'rejected');
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(EmailTakenError);
    });

    it('refuses a second user with the same email, however it is cased, once across nodes racing', async () => {
      const { nodes } = await open(2);
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          nodes[i % 2]!.users.create({
            sub: `racer-${i}`,
            email: i % 2 ? 'RACE@x.test' : 'race@x.test',
            displayName: 'R',
            passwordHash: 'h',
            now: 10,
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(EmailTakenError);
    });
  });

  describe('sessions', () => {
    it('finds by secret digest and id, touches, re-authenticates with a new secret, ends once', async () => {
      const { store } = await open();
      const expected = {
        id: 'sid-1',
        userId: USER,
        authTime: 1000,
        amr: ['pwd'],
        createdAt: 1000,
        lastSeenAt: 1000,
        expiresAt: 100_000,
        userAgent: 'test',
        ip: '127.0.0.1',
        endedAt: null,
      };
      expect(await store.sessions.findBySecretDigest('cookie-digest')).toEqual(expected);
      expect(await store.sessions.findByFedcmDigest('fedcm-digest')).toEqual(expected);
      // Each cookie's digest finds the session through its own column only.
      expect(await store.sessions.findByFedcmDigest('cookie-digest')).toBeUndefined();
      expect(await store.sessions.findBySecretDigest('fedcm-digest')).toBeUndefined();
      expect(await store.sessions.findById('sid-1')).toEqual(expected);
      await store.sessions.touch('sid-1', 1500);
      expect((await store.sessions.findById('sid-1'))?.lastSeenAt).toBe(1500);
      await store.sessions.reauthenticate('sid-1', {
        secretDigest: 'new-digest',
        fedcmDigest: 'new-fedcm-digest',
        authTime: 2000,
        amr: ['pwd', 'otp', 'mfa'],
        expiresAt: 200_000,
      });
      expect(await store.sessions.findBySecretDigest('cookie-digest')).toBeUndefined();
      expect(await store.sessions.findByFedcmDigest('fedcm-digest')).toBeUndefined();
      expect((await store.sessions.findByFedcmDigest('new-fedcm-digest'))?.id).toBe('sid-1');
      expect(await store.sessions.findBySecretDigest('new-digest')).toEqual({
        ...expected,
        authTime: 2000,
        amr: ['pwd', 'otp', 'mfa'],
        lastSeenAt: 2000,
        expiresAt: 200_000,
      });
      expect((await store.sessions.listActiveForUser(USER)).map((s) => s.id)).toEqual(['sid-1']);
      expect(await store.sessions.end('sid-1', 3000)).toBe(true);
      expect(await store.sessions.end('sid-1', 3001)).toBe(false);
      expect((await store.sessions.findById('sid-1'))?.endedAt).toBe(3000);
      expect(await store.sessions.listActiveForUser(USER)).toEqual([]);
    });

    it('tells exactly one of many nodes ending a session at once that it was active', async () => {
      const { nodes } = await open(2);
      const ended = await Promise.all(
        Array.from({ length: 50 }, (_, i) => nodes[i % 2]!.sessions.end('sid-1', 3000 + i)),
      );
      expect(winners(ended)).toBe(1);
    });
  });

  describe('clients and resources', () => {
    it('round-trips a registration, lists by creation, replaces it', async () => {
      const { store } = await open();
      const b = client('b', { createdAt: 500, type: 'public', party: 'first', secretDigest: null, grantTypes: [] });
      expect(await store.clients.create(b)).toEqual(b);
      expect(await store.clients.findById('app')).toEqual(client('app'));
      expect(await store.clients.findById('none')).toBeUndefined();
      expect((await store.clients.list()).map((c) => c.id)).toEqual(['b', 'app']);
      const changed = { ...b, redirectUris: ['https://b.example.test/new'], backchannelLogoutUri: 'https://b.test/bc' };
      await store.clients.update(changed);
      expect(await store.clients.findById('b')).toEqual(changed);

      const api = { id: 'https://api.example.test', name: 'API', scopes: ['read', 'write'], createdAt: 7 };
      expect(await store.resources.create(api)).toEqual(api);
      await store.resources.create({ id: 'https://early.example.test', name: 'Early', scopes: [], createdAt: 3 });
      expect(await store.resources.findById(api.id)).toEqual(api);
      expect(await store.resources.findById('https://none.test')).toBeUndefined();
      expect((await store.resources.list()).map((r) => r.id)).toEqual(['https://early.example.test', api.id]);
    });
  });

  describe('consents', () => {
    it('adds scopes to what was allowed, in order, without repeats', async () => {
      const { store } = await open();
      expect(await store.consents.grantedScopes(USER, 'app')).toEqual([]);
      await store.consents.remember(USER, 'app', ['openid', 'profile', 'openid'], 10);
      expect(await store.consents.grantedScopes(USER, 'app')).toEqual(['openid', 'profile']);
      await store.consents.remember(USER, 'app', ['email', 'profile', 'offline_access'], 11);
      expect(await store.consents.grantedScopes(USER, 'app')).toEqual(['openid', 'profile', 'email', 'offline_access']);
      const [row] = await opened!.query('select updated_at from consents where user_id = ?', [USER]);
      expect(Number(row!.updated_at)).toBe(11);
    });

    it('lists the clients a person has a consent for, and forgets one (FedCM connections)', async () => {
      const { store } = await open();
      await store.clients.create(client('other'));
      expect(await store.consents.clientIdsForUser(USER)).toEqual([]);
      await store.consents.remember(USER, 'other', ['openid'], 10);
      await store.consents.remember(USER, 'app', ['openid'], 10);
      expect(await store.consents.clientIdsForUser(USER)).toEqual(['app', 'other']);
      expect(await store.consents.clientIdsForUser('someone-else')).toEqual([]);
      expect(await store.consents.forget(USER, 'app')).toBe(true);
      expect(await store.consents.forget(USER, 'app')).toBe(false);
      expect(await store.consents.clientIdsForUser(USER)).toEqual(['other']);
      expect(await store.consents.grantedScopes(USER, 'app')).toEqual([]);
    });

    it('loses no scope when nodes remember different ones at once', async () => {
      const { nodes, store } = await open(2);
      const scopes = Array.from({ length: 30 }, (_, i) => `scope-${i}`);
      await Promise.all(scopes.map((s, i) => nodes[i % 2]!.consents.remember(USER, 'app', [s], 10 + i)));
      expect((await store.consents.grantedScopes(USER, 'app')).sort()).toEqual([...scopes].sort());
    });
  });

  describe('interactions', () => {
    const request = {
      clientId: 'app',
      redirectUri: 'https://app.example.test/callback',
      scope: ['openid'],
      state: 's',
      nonce: null,
    } as unknown as AuthorizationRequest;
    const interaction = (id: string, expiresAt: number, req: AuthorizationRequest | null = request): Interaction => ({
      id,
      browserDigest: 'browser',
      csrfToken: 'csrf',
      request: req,
      sessionId: null,
      returnTo: null,
      pendingUserId: null,
      createdAt: 0,
      expiresAt,
    });

    it('finds an unexpired one, records its session, and is consumed by exactly one of many nodes', async () => {
      const { nodes, store } = await open(2);
      expect(await store.interactions.create(interaction('i1', 5000))).toEqual(interaction('i1', 5000));
      await store.interactions.create(interaction('i2', 5000, null));
      expect(await store.interactions.find('i1', 4999)).toEqual(interaction('i1', 5000));
      expect(await store.interactions.find('i1', 5000)).toBeUndefined();
      expect(await store.interactions.find('i2', 0)).toEqual(interaction('i2', 5000, null));
      await store.interactions.setSession('i1', 'sid-1');
      expect((await store.interactions.find('i1', 0))?.sessionId).toBe('sid-1');
      const consumed = await Promise.all(
        Array.from({ length: 50 }, (_, i) => nodes[i % 2]!.interactions.consume('i1')),
      );
      expect(winners(consumed)).toBe(1);
      expect(await store.interactions.find('i1', 0)).toBeUndefined();
    });

    it('deletes expired ones in batches, never an unexpired one', async () => {
      const { store } = await open();
      for (let i = 0; i < 5; i++) await store.interactions.create(interaction(`old-${i}`, 100 + i));
      await store.interactions.create(interaction('live', 1000));
      await store.interactions.create(interaction('edge', 500));
      const counts = [];
      for (let i = 0; i < 4; i++) counts.push(await store.interactions.deleteExpired(500, 2));
      expect(counts).toEqual([2, 2, 1, 0]);
      expect(await store.interactions.find('live', 0)).toBeDefined();
      expect(await store.interactions.find('edge', 0)).toBeDefined();
      expect(await store.interactions.find('old-4', 0)).toBeUndefined();
    });

    it('lets sweeps on several nodes at once delete each expired one once', async () => {
      const { nodes, store } = await open(2);
      for (let i = 0; i < 40; i++) await store.interactions.create(interaction(`old-${i}`, 100));
      const sweep = async (node: Repositories) => {
        let total = 0;
        for (let n = -1; n !== 0; total += n) n = await node.interactions.deleteExpired(500, 3);
        return total;
      };
      const totals = await Promise.all([sweep(nodes[0]!), sweep(nodes[1]!), sweep(nodes[0]!), sweep(nodes[1]!)]);
      expect(totals.reduce((a, b) => a + b)).toBe(40);
      expect(await opened!.query('select id from interactions')).toEqual([]);
    });
  });

  describe('audit', () => {
    it('records events and lists them newest first, by type and since a time', async () => {
      const { store } = await open();
      const event = (at: number, type: string, detail: Record<string, unknown> | null) => ({
        at,
        type,
        subject: USER,
        clientId: null,
        ip: '127.0.0.1',
        detail,
      });
      await store.audit.record(event(10, 'sign_in', { method: 'password', nested: { n: 1 } }));
      await store.audit.record(event(20, 'sign_out', null));
      await store.audit.record(event(30, 'sign_in', {}));
      const all = await store.audit.list({ limit: 10 });
      expect(all.map((e) => e.at)).toEqual([30, 20, 10]);
      expect(all[2]).toEqual({ id: all[0]!.id - 2, ...event(10, 'sign_in', { method: 'password', nested: { n: 1 } }) });
      expect(all[1]!.detail).toBeNull();
      expect(typeof all[0]!.id).toBe('number');
      expect((await store.audit.list({ type: 'sign_in', limit: 10 })).map((e) => e.at)).toEqual([30, 10]);
      expect((await store.audit.list({ since: 20, limit: 10 })).map((e) => e.at)).toEqual([30, 20]);
      expect((await store.audit.list({ type: 'sign_in', since: 11, limit: 10 })).map((e) => e.at)).toEqual([30]);
      expect((await store.audit.list({ limit: 1 })).map((e) => e.at)).toEqual([30]);
    });

    it('filters by person, client and a time range, and pages by id', async () => {
      const { store } = await open();
      for (const [at, subject, clientId] of [
        [10, USER, null],
        [20, 'u-other', 'app'],
        [30, USER, 'app'],
        [40, USER, null],
      ] as const)
        await store.audit.record({ at, type: 't.x', subject, clientId, ip: null, detail: null });
      const ats = async (filter: Parameters<Repositories['audit']['list']>[0]) =>
        (await store.audit.list(filter)).map((e) => e.at);
      expect(await ats({ subject: USER, limit: 10 })).toEqual([40, 30, 10]);
      expect(await ats({ clientId: 'app', limit: 10 })).toEqual([30, 20]);
      expect(await ats({ since: 20, until: 30, limit: 10 })).toEqual([30, 20]);
      const [first, second] = await store.audit.list({ limit: 2 });
      expect([first?.at, second?.at]).toEqual([40, 30]);
      expect(await ats({ before: second!.id, limit: 10 })).toEqual([20, 10]);
      expect(await ats({ subject: USER, before: first!.id, limit: 1 })).toEqual([30]);
    });
  });

  describe('codes and grants', () => {
    it('stores a code and gives it back whole', async () => {
      const { store } = await open();
      await store.grants.createCode(code('c1', { nonce: 'n' }));
      expect(await store.grants.findCode('c1')).toEqual(code('c1', { nonce: 'n' }));
      expect(await store.grants.findCode('none')).toBeUndefined();
      // A FedCM code: no redirect URI, the page's origin instead.
      const fedcm = code('c2', { redirectUri: '', origin: 'http://app.localhost:4001' });
      await store.grants.createCode(fedcm);
      expect(await store.grants.findCode('c2')).toEqual(fedcm);
    });

    it('keeps how the person signed in from the code to its grant', async () => {
      const { store } = await open();
      const amr = ['pwd', 'otp', 'mfa'];
      await store.grants.createCode(code('c1', { amr }));
      expect((await store.grants.findCode('c1'))?.amr).toEqual(amr);
      await redeem(store, 'c1', 'g1', 'at-0');
      expect((await store.refreshTokens.find('r-g1'))?.grant.amr).toEqual(amr);
    });

    it('lets exactly one of 50 redemptions across two nodes win, and only the winner writes', async () => {
      const { nodes, store, query } = await open(2);
      await store.grants.createCode(code('c1'));
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => redeem(nodes[i % 2]!, 'c1', `g-${i}`, `at-${i}`, { offline: true })),
      );
      expect(winners(results)).toBe(1);
      const i = results.findIndex(Boolean);
      expect(results[i]).toBe(true);
      expect((await store.grants.findCode('c1'))?.consumedAt).toBe(2000);
      expect(await query('select id from grants')).toEqual([{ id: `g-${i}` }]);
      expect(await query('select jti from access_tokens')).toEqual([{ jti: `at-${i}` }]);
      expect(await query('select digest from refresh_tokens')).toEqual([{ digest: `r-g-${i}` }]);
      expect(await store.refreshTokens.find(`r-g-${i}`)).toEqual({
        token: refresh(`r-g-${i}`, `g-${i}`),
        grant: grantFrom(`g-${i}`, { offline: true })(code('c1')),
      });
      expect(await store.grants.isAccessTokenActive(`at-${i}`)).toBe(true);
    });

    it('lets every replay that loses the race find the grant to revoke', async () => {
      // As the token endpoint does: a redemption that loses revokes what the code granted. The
      // grant commits with the code's consumption, so the losers always find it.
      const { nodes, store, query } = await open(2);
      for (let round = 0; round < 5; round++) {
        const digest = `c-${round}`;
        await store.grants.createCode(code(digest));
        const revoked = await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const node = nodes[i % 2]!;
            if (await redeem(node, digest, `g-${round}-${i}`, `at-${round}-${i}`)) return 0;
            return node.grants.revokeByCode(digest, 2500);
          }),
        );
        expect(revoked.reduce((a, b) => a + b)).toBe(1);
        const [winner] = await query('select id from grants where code_digest = ?', [digest]);
        expect(await activeAccessTokens(query, winner!.id as string)).toEqual([]);
      }
    });

    it("revokes a replayed code's grants and access tokens, and moves their status lists forward", async () => {
      const { store, query } = await open();
      await query(
        'insert into status_lists (id, size, next_index, created_at, updated_at) values (?, ?, ?, ?, ?)',
        [7, 16, 2, 0, 5000],
      );
      await store.grants.createCode(code('c1'));
      await store.grants.redeemCode('c1', 2000, grantFrom('g1')(code('c1')), {
        accessToken: { jti: 'at-1', expiresAt: 3_000_000, status: { list: 7, index: 1 } },
      });
      expect(await query('select digest from refresh_tokens')).toEqual([]);
      expect(await query('select status_list, status_index from access_tokens')).toEqual([
        { status_list: 7, status_index: 1 },
      ]);
      expect(await store.grants.revokeByCode('c1', 4000)).toBe(1);
      expect(await store.grants.isAccessTokenActive('at-1')).toBe(false);
      expect(await activeAccessTokens(query, 'g1')).toEqual([]);
      // Strictly forward even when the clock is behind the version.
      const version = async () =>
        Number((await query('select updated_at from status_lists where id = 7'))[0]!.updated_at);
      expect(await version()).toBe(5001);
      expect(await store.grants.revokeByCode('c1', 4000)).toBe(0);
      expect(await version()).toBe(5001);
      expect(await store.grants.revokeByCode('none', 4000)).toBe(0);
    });

    it('revokes one access token once, and refuses one its grant no longer backs', async () => {
      const { store } = await open();
      await store.grants.createCode(code('c1'));
      await redeem(store, 'c1', 'g1', 'at-1');
      expect(await store.grants.isAccessTokenActive('unknown')).toBe(false);
      expect(await store.grants.revokeAccessToken('at-1', 3000)).toBe(true);
      expect(await store.grants.revokeAccessToken('at-1', 3001)).toBe(false);
      expect(await store.grants.isAccessTokenActive('at-1')).toBe(false);
      expect(await store.grants.revokeAccessToken('unknown', 3000)).toBe(false);

      await store.grants.createCode(code('c2'));
      await redeem(store, 'c2', 'g2', 'at-2');
      expect(await store.grants.isAccessTokenActive('at-2')).toBe(true);
      await store.refreshTokens.revokeGrant('g2', 3000);
      expect(await store.grants.isAccessTokenActive('at-2')).toBe(false);
    });

    it('names each client that received tokens in a session once', async () => {
      const { store } = await open();
      await store.clients.create(client('other'));
      await store.grants.createCode(code('c1'));
      await store.grants.createCode(code('c2'));
      await store.grants.createCode(code('c3', { clientId: 'other' }));
      await store.grants.createCode(code('c4', { sessionId: 'sid-2' }));
      for (const [c, g] of [
        ['c1', 'g1'],
        ['c2', 'g2'],
        ['c3', 'g3'],
        ['c4', 'g4'],
      ] as const)
        await redeem(store, c, g, `at-${g}`);
      expect((await store.grants.clientIdsForSession('sid-1')).sort()).toEqual(['app', 'other']);
      expect(await store.grants.clientIdsForSession('sid-2')).toEqual(['app']);
      expect(await store.grants.clientIdsForSession('none')).toEqual([]);
    });

    it.runIf(engine.name === 'postgres')(
      'redeems a code and rotates its refresh token in one statement each: one round trip, one commit',
      async () => {
        const { store, query } = await open();
        await store.grants.createCode(code('c1'));
        const stored = (await store.grants.findCode('c1'))!;
        // Every statement a pool runs goes through its clients' `query`: BEGIN and COMMIT too.
        const statements = vi.spyOn(pg.Client.prototype, 'query');
        try {
          const redeemed = await store.grants.redeemCode('c1', 2000, grantFrom('g1')(stored), {
            refreshToken: refresh('r-g1', 'g1'),
            accessToken: { jti: 'at-1', expiresAt: 3_000_000, status: { list: 3, index: 9 } },
          });
          expect([redeemed, statements.mock.calls.length]).toEqual([true, 1]);
          statements.mockClear();
          const rotated = await store.refreshTokens.rotate('r-g1', 3000, refresh('r-g1-next', 'g1'), {
            jti: 'at-2',
            expiresAt: 4_000_000,
          });
          expect([rotated, statements.mock.calls.length]).toEqual([true, 1]);
        } finally {
          statements.mockRestore();
        }
        expect(await store.refreshTokens.find('r-g1-next')).toEqual({
          token: refresh('r-g1-next', 'g1'),
          grant: grantFrom('g1')(stored),
        });
        expect(await query('select jti, status_list, status_index from access_tokens order by jti')).toEqual([
          { jti: 'at-1', status_list: 3, status_index: 9 },
          { jti: 'at-2', status_list: null, status_index: null },
        ]);
        const [old] = await query('select rotated_at from refresh_tokens where digest = ?', ['r-g1']);
        expect(Number(old!.rotated_at)).toBe(3000);
      },
    );

    it('deletes expired codes in batches, never one still valid', async () => {
      const { store } = await open();
      for (let i = 0; i < 5; i++) await store.grants.createCode(code(`old-${i}`, { expiresAt: 100 + i }));
      await store.grants.createCode(code('live', { expiresAt: 500 }));
      const counts = [];
      for (let i = 0; i < 4; i++) counts.push(await store.grants.deleteExpiredCodes(500, 2));
      expect(counts).toEqual([2, 2, 1, 0]);
      expect(await store.grants.findCode('live')).toBeDefined();
      expect(await store.grants.findCode('old-0')).toBeUndefined();
    });
  });

  describe('refresh tokens', () => {
    /** A redeemed grant `g1` with refresh token `r-g1` and access token `at-0`. */
    async function withGrant(n = 1, over: Partial<Grant> = {}) {
      const o = await open(n);
      await o.store.grants.createCode(code('c1'));
      await redeem(o.store, 'c1', 'g1', 'at-0', over);
      return o;
    }
    const rotate = (store: Repositories, from: string, to: string, jti: string, now = 3000) =>
      store.refreshTokens.rotate(from, now, refresh(to, 'g1'), { jti, expiresAt: 4_000_000 });

    it('finds a token with its grant, rotates it once, and refuses a rotated or revoked one', async () => {
      const { store, query } = await withGrant();
      expect(await store.refreshTokens.find('none')).toBeUndefined();
      expect(await rotate(store, 'r-g1', 'r-2', 'at-2')).toBe(true);
      expect(await store.refreshTokens.find('r-g1')).toEqual({
        token: { ...refresh('r-g1', 'g1'), rotatedAt: 3000 },
        grant: grantFrom('g1')(code('c1')),
      });
      expect((await store.refreshTokens.find('r-2'))?.token).toEqual(refresh('r-2', 'g1'));
      expect(await store.grants.isAccessTokenActive('at-2')).toBe(true);
      // Refused, and nothing of the refused rotation is stored.
      expect(await rotate(store, 'r-g1', 'r-3', 'at-3')).toBe(false);
      expect(await store.refreshTokens.find('r-3')).toBeUndefined();
      expect(await query('select jti from access_tokens where jti = ?', ['at-3'])).toEqual([]);
      await store.refreshTokens.revokeGrant('g1', 3500);
      expect(await rotate(store, 'r-2', 'r-4', 'at-4')).toBe(false);
      expect(await store.refreshTokens.find('r-4')).toBeUndefined();
    });

    it('lets exactly one of 50 rotations across two nodes win; the losers, as reuse, revoke the family', async () => {
      const { nodes, store, query } = await withGrant(2);
      const results = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const node = nodes[i % 2]!;
          // As the token endpoint does: a rotation that loses is reuse, and revokes the grant.
          if (await rotate(node, 'r-g1', `r-next-${i}`, `at-next-${i}`)) return true;
          await node.refreshTokens.revokeGrant('g1', 3100);
          return false;
        }),
      );
      expect(winners(results)).toBe(1);
      const i = results.findIndex(Boolean);
      expect(await query('select digest from refresh_tokens where grant_id = ? order by digest', ['g1'])).toEqual([
        { digest: `r-g1` },
        { digest: `r-next-${i}` },
      ]);
      // The winner's successor and access token went with the family.
      const successor = await store.refreshTokens.find(`r-next-${i}`);
      expect(successor?.token.revokedAt).toBe(3100);
      expect(successor?.grant.revokedAt).toBe(3100);
      expect(await activeAccessTokens(query, 'g1')).toEqual([]);
      expect(await store.grants.isAccessTokenActive(`at-next-${i}`)).toBe(false);
    });

    it('leaves no token of a grant unrevoked when its revocation and a rotation race', async () => {
      const { nodes, query } = await open(2);
      for (let round = 0; round < 20; round++) {
        const grantId = `g-${round}`;
        await nodes[0]!.grants.createCode(code(`c-${round}`));
        await redeem(nodes[0]!, `c-${round}`, grantId, `at-${round}`);
        const [rotated, jtis] = await Promise.all([
          nodes[round % 2]!.refreshTokens.rotate(`r-${grantId}`, 3000, refresh(`r2-${grantId}`, grantId), {
            jti: `at2-${round}`,
            expiresAt: 4_000_000,
          }),
          nodes[(round + 1) % 2]!.refreshTokens.revokeGrant(grantId, 3000),
        ]);
        expect(await activeAccessTokens(query, grantId)).toEqual([]);
        expect(
          await query('select digest from refresh_tokens where grant_id = ? and revoked_at is null', [grantId]),
        ).toEqual([]);
        // Every access token the revocation caught is reported (the caller flips their status bits).
        expect(jtis.sort()).toEqual(rotated ? [`at-${round}`, `at2-${round}`] : [`at-${round}`]);
      }
    });

    it('revokes a grant with its refresh and access tokens, reporting the access tokens revoked', async () => {
      const { store, query } = await withGrant();
      await rotate(store, 'r-g1', 'r-2', 'at-2');
      expect((await store.refreshTokens.revokeGrant('g1', 4000)).sort()).toEqual(['at-0', 'at-2']);
      expect((await store.refreshTokens.find('r-2'))?.grant.revokedAt).toBe(4000);
      expect(await query('select digest from refresh_tokens where revoked_at is null')).toEqual([]);
      expect(await store.refreshTokens.revokeGrant('g1', 4001)).toEqual([]);
      expect((await store.refreshTokens.find('r-2'))?.grant.revokedAt).toBe(4000);
    });

    it("revokes a session's grants but those with offline access, once", async () => {
      const { store, query } = await open();
      await store.grants.createCode(code('c1'));
      await store.grants.createCode(code('c2'));
      await store.grants.createCode(code('c3'));
      await store.grants.createCode(code('c4', { sessionId: 'sid-2' }));
      await redeem(store, 'c1', 'g1', 'at-1');
      await redeem(store, 'c2', 'g2', 'at-2', { offline: true });
      await redeem(store, 'c3', 'g3', 'at-3');
      await redeem(store, 'c4', 'g4', 'at-4');
      expect((await store.refreshTokens.revokeSessionGrants('sid-1', 5000)).sort()).toEqual(['at-1', 'at-3']);
      expect(await store.refreshTokens.revokeSessionGrants('sid-1', 5001)).toEqual([]);
      expect((await query('select id from grants where revoked_at is null order by id')).map((r) => r.id)).toEqual([
        'g2',
        'g4',
      ]);
      expect(
        (await query('select digest from refresh_tokens where revoked_at is null order by digest')).map(
          (r) => r.digest,
        ),
      ).toEqual(['r-g2', 'r-g4']);
      expect((await store.refreshTokens.find('r-g1'))?.token.revokedAt).toBe(5000);
    });

    it("revokes every grant of a person, offline ones and other sessions' too, and no one else's", async () => {
      const { store, query } = await open();
      await store.users.create({
        sub: 'other',
        email: 'bo@example.test',
        displayName: 'Bo',
        passwordHash: 'h',
        now: 1,
      });
      await store.grants.createCode(code('c1'));
      await store.grants.createCode(code('c2'));
      await store.grants.createCode(code('c3', { sessionId: 'sid-2' }));
      await store.grants.createCode(code('c4', { userId: 'other' }));
      await redeem(store, 'c1', 'g1', 'at-1');
      await redeem(store, 'c2', 'g2', 'at-2', { offline: true });
      await redeem(store, 'c3', 'g3', 'at-3');
      await redeem(store, 'c4', 'g4', 'at-4');
      expect((await store.refreshTokens.revokeUserGrants(USER, 5000)).sort()).toEqual(['at-1', 'at-2', 'at-3']);
      expect(await store.refreshTokens.revokeUserGrants(USER, 5001)).toEqual([]);
      expect((await query('select id from grants where revoked_at is null')).map((r) => r.id)).toEqual(['g4']);
      expect((await query('select digest from refresh_tokens where revoked_at is null')).map((r) => r.digest)).toEqual([
        'r-g4',
      ]);
    });

    it('revokes each grant of a session once when nodes end it at once', async () => {
      const { nodes, store } = await open(2);
      for (let i = 0; i < 5; i++) {
        await store.grants.createCode(code(`c${i}`));
        await redeem(store, `c${i}`, `g${i}`, `at-${i}`);
      }
      const reported = await Promise.all(
        Array.from({ length: 10 }, (_, i) => nodes[i % 2]!.refreshTokens.revokeSessionGrants('sid-1', 5000 + i)),
      );
      expect(reported.flat().sort()).toEqual(['at-0', 'at-1', 'at-2', 'at-3', 'at-4']);
    });
  });
});

describe('the expiry sweep on postgres', () => {
  beforeAll(async () => postgres.start?.());

  it('finds expired interactions and codes by their expiry index, among many live ones', async () => {
    const name = `repositories_${++databases}`;
    await admin!.query(`create database ${name} template ${TEMPLATE}`);
    const pool = new pg.Pool({ connectionString: urlOf(name), max: 1 });
    try {
      // Records what the repositories send, so the very statements are planned.
      const sent: { text: string; values: unknown[] }[] = [];
      const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
      (pool as unknown as { query: unknown }).query = (config: unknown, values?: unknown[]) => {
        const text = typeof config === 'string' ? config : (config as { text: string }).text;
        const bound = values ?? (config as { values?: unknown[] }).values ?? [];
        sent.push({ text, values: bound });
        return query(config, values);
      };
      const db = drizzle({ client: pool, schema: pgSchema });
      await pool.query(
        `insert into users values ('u', 'u@x.test', 'U', 'h', 0, 0);
         insert into clients (id, name, type, party, redirect_uris, post_logout_redirect_uris, allowed_scopes,
           allowed_resources, created_at) values ('c', 'C', 'public', 'first', '[]', '[]', '[]', '[]', 0);
         insert into interactions (id, browser_digest, csrf_token, created_at, expires_at)
           select 'i' || n, 'b', 't', 0, n from generate_series(1, 20000) n;
         insert into authorization_codes (digest, client_id, user_id, session_id, redirect_uri, scope, resource,
           code_challenge, auth_time, created_at, expires_at)
           select 'c' || n, 'c', 'u', 's', 'r', 'openid', 'x', 'ch', 0, 0, n from generate_series(1, 20000) n;
         analyze interactions; analyze authorization_codes;`,
      );
      expect(await interactionRepository(db).deleteExpired(11, 500)).toBe(10);
      expect(await grantRepository(db).deleteExpiredCodes(11, 500)).toBe(10);
      const deletes = sent.filter((s) => /^delete/i.test(s.text));
      expect(deletes).toHaveLength(2);
      for (const [statement, index] of [
        [deletes[0]!, 'interactions_expiry'],
        [deletes[1]!, 'authorization_codes_expiry'],
      ] as const) {
        const { rows } = (await query(`explain ${statement.text}`, statement.values)) as pg.QueryResult;
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(plan).toContain(index);
        expect(plan).not.toMatch(/Seq Scan/);
      }
    } finally {
      await pool.end();
    }
  });
});
