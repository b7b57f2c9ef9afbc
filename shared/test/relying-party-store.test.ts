/**
 * The relying-party store on both engines, a real SQLite file and a real PostgreSQL server (one
 * per file, a fresh database per test): what a restart must keep (sessions, login transactions,
 * used jtis, revoked sessions), what a second process on the same database sees at once, the
 * single use of a jti under concurrency, the clean-up of expired rows, and the schema's migration.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AccessTokenClaims } from '../src/protocol.js';
import { openRelyingPartyStore, type OpenRelyingPartyStoreOptions } from '../src/store/index.js';
import { eventually } from '../src/testing/eventually.js';
import { withClaims } from '../src/testing/jwt-forgeries.js';
import { engines, stopEngines } from './support/engines.js';

function testClock() {
  let now = Date.UTC(2030, 0, 1);
  return { now: () => now, advance: (seconds: number) => (now += seconds * 1000) };
}

const alice = {
  sub: 'alice',
  sid: 'sid-1',
  email: 'alice@example.com',
  name: 'Alice',
  idToken: 'id.token.jwt',
  accessToken: 'access.token.jwt',
  accessTokenExpiresAt: Date.UTC(2030, 0, 1, 0, 5),
};

const signedInWithMfa = { acr: 'urn:tessera:acr:mfa', amr: ['pwd', 'otp', 'mfa'], authTime: 1_893_456_000 };

/** The columns version 3 of the schema added; dropped, a database is as version 2 left it. */
const VERSION_3_COLUMNS = [
  'ALTER TABLE rp_sessions DROP COLUMN acr',
  'ALTER TABLE rp_sessions DROP COLUMN amr',
  'ALTER TABLE rp_sessions DROP COLUMN auth_time',
  'ALTER TABLE rp_login_transactions DROP COLUMN acr_values',
  'ALTER TABLE rp_login_transactions DROP COLUMN max_age',
  'ALTER TABLE rp_login_transactions DROP COLUMN return_to',
];

/** A token's claims with `over` applied: `undefined` leaves a claim out. */
const claims = (
  over: { [K in keyof AccessTokenClaims]?: AccessTokenClaims[K] | undefined },
  clock: { now(): number },
): AccessTokenClaims =>
  withClaims<AccessTokenClaims>(
    {
      iss: 'http://idp.localhost:4000',
      sub: 'alice',
      aud: 'http://app-b.localhost:4002',
      client_id: 'app-b',
      scope: 'openid',
      jti: 'j',
      sid: 'sid-1',
      iat: Math.floor(clock.now() / 1000) - 10,
      exp: Math.floor(clock.now() / 1000) + 290,
    },
    over,
  );

afterAll(stopEngines);

describe.each(engines)('the relying-party store on $name', (engine) => {
  let location: string;
  const opened: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    // The PostgreSQL server starts here, once for the file, not in the first test's time.
    await engine.fresh();
  });
  const open = async (options: OpenRelyingPartyStoreOptions = {}) => {
    const store = await openRelyingPartyStore(location, { sweepIntervalMs: 0, ...options });
    opened.push(store);
    return store;
  };
  const closeAll = async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  };
  const count = async (table: string) =>
    Number((await engine.query(location, `SELECT count(*) AS n FROM ${table}`))[0]!.n);

  describe('app sessions', () => {
    beforeAll(async () => {
      location = await engine.fresh();
    });
    afterAll(closeAll);

    it('keeps a session across a restart, under the cookie value only its digest is stored for', async () => {
      const clock = testClock();
      const first = await open({ clock });
      const id = await first.sessions.create(alice);
      const session = await first.sessions.find(id);
      expect(session).toMatchObject({ ...alice, createdAt: clock.now(), expiresAt: clock.now() + 8 * 3600 * 1000 });
      expect(session!.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      await first.close();

      const again = await open({ clock });
      expect(await again.sessions.find(id)).toEqual(session);
      const stored = await engine.query(location, 'SELECT id_digest FROM rp_sessions');
      expect(stored.map((row) => row.id_digest)).not.toContain(id);
    });

    it('keeps how the person signed in (acr, amr, auth_time), leaving out what the token did not state', async () => {
      const store = await open();
      const id = await store.sessions.create({ ...alice, ...signedInWithMfa });
      expect(await store.sessions.find(id)).toMatchObject(signedInWithMfa);
      const without = await store.sessions.find(await store.sessions.create(alice));
      expect(without).toBeDefined();
      for (const property of ['acr', 'amr', 'authTime']) expect(without).not.toHaveProperty(property);
    });

    it('keeps a session without sid as one without sid', async () => {
      const store = await open();
      const id = await store.sessions.create({ ...alice, sid: undefined });
      expect((await store.sessions.find(id))?.sid).toBeUndefined();
    });

    it('keeps a session without an access token as one without', async () => {
      const store = await open();
      const id = await store.sessions.create({ ...alice, accessToken: undefined, accessTokenExpiresAt: undefined });
      const session = await store.sessions.find(id);
      expect(session).toMatchObject({ sub: 'alice', idToken: 'id.token.jwt' });
      expect([session?.accessToken, session?.accessTokenExpiresAt]).toEqual([undefined, undefined]);
    });

    it('finds no session past its lifetime, and none that was destroyed', async () => {
      const clock = testClock();
      const store = await open({ clock, sessionTtlSec: 60 });
      const expiring = await store.sessions.create(alice);
      const destroyed = await store.sessions.create(alice);
      await store.sessions.destroy(destroyed);
      expect(await store.sessions.find(destroyed)).toBeUndefined();
      clock.advance(59);
      expect(await store.sessions.find(expiring)).toBeDefined();
      clock.advance(1);
      expect(await store.sessions.find(expiring)).toBeUndefined();
    });

    it('ends the sessions of an issuer session (and subject), or of a subject, for every process', async () => {
      const store = await open();
      const other = await open(); // a second process of the app, on the same database
      const a1 = await store.sessions.create({ ...alice, sid: 'bcl-1' });
      const a2 = await store.sessions.create({ ...alice, sid: 'bcl-1' });
      const b1 = await store.sessions.create({ ...alice, sub: 'bob', sid: 'bcl-1' });
      const a3 = await store.sessions.create({ ...alice, sid: 'bcl-2' });
      const c1 = await store.sessions.create({ ...alice, sub: 'carol', sid: 'bcl-3' });

      expect(await other.sessions.endByIssuerSession('bcl-1', 'bob')).toBe(1);
      expect(await store.sessions.find(b1)).toBeUndefined();
      expect(await store.sessions.find(a1)).toBeDefined();
      expect(await other.sessions.endByIssuerSession('bcl-1')).toBe(2);
      expect(await store.sessions.find(a1)).toBeUndefined();
      expect(await store.sessions.find(a2)).toBeUndefined();
      expect(await store.sessions.find(a3)).toBeDefined();
      expect(await other.sessions.endBySubject('alice')).toBeGreaterThanOrEqual(1);
      expect(await store.sessions.find(a3)).toBeUndefined();
      expect(await store.sessions.find(c1)).toBeDefined();
    });
  });

  describe('login transactions', () => {
    beforeAll(async () => {
      location = await engine.fresh();
    });
    afterAll(closeAll);

    it('hands a transaction out once, also after a restart', async () => {
      const first = await open();
      const transaction = { state: 's', nonce: 'n', codeVerifier: 'v'.repeat(43) };
      const key = await first.loginTransactions.save(transaction);
      await first.close();
      const again = await open();
      expect(await again.loginTransactions.take(key)).toEqual(transaction);
      expect(await again.loginTransactions.take(key)).toBeUndefined();
    });

    it('keeps what a step-up sign-in asked for and where it returns to', async () => {
      const store = await open();
      const transaction = {
        state: 's',
        nonce: 'n',
        codeVerifier: 'v',
        acrValues: ['urn:tessera:acr:mfa', 'phr'],
        maxAgeSec: 0,
        returnTo: '/security',
      };
      expect(await store.loginTransactions.take(await store.loginTransactions.save(transaction))).toEqual(transaction);
    });

    it('hands out no transaction past its lifetime', async () => {
      const clock = testClock();
      const store = await open({ clock, loginTransactionTtlSec: 600 });
      const key = await store.loginTransactions.save({ state: 's', nonce: 'n', codeVerifier: 'v' });
      clock.advance(600);
      expect(await store.loginTransactions.take(key)).toBeUndefined();
    });
  });

  describe('used jtis', () => {
    beforeAll(async () => {
      location = await engine.fresh();
    });
    afterAll(closeAll);

    it('refuses a replay after a restart, and takes the jti again once it has expired', async () => {
      const clock = testClock();
      const exp = Math.floor(clock.now() / 1000) + 120;
      const first = await open({ clock });
      expect(await first.jtis.consume('jti-1', exp)).toBe(true);
      expect(await first.jtis.consume('jti-1', exp)).toBe(false);
      await first.close();
      const again = await open({ clock });
      expect(await again.jtis.consume('jti-1', exp)).toBe(false);
      clock.advance(120);
      expect(await again.jtis.consume('jti-1', exp + 120)).toBe(true);
    });

    it('keeps a jti no longer than jtiTtlSec, whatever its exp', async () => {
      const clock = testClock();
      const store = await open({ clock, jtiTtlSec: 60 });
      expect(await store.jtis.consume('jti-long', Math.floor(clock.now() / 1000) + 86_400 * 365)).toBe(true);
      clock.advance(59);
      expect(await store.jtis.consume('jti-long', 0)).toBe(false);
      clock.advance(1);
      expect(await store.jtis.consume('jti-long', Math.floor(clock.now() / 1000) + 120)).toBe(true);
    });

    it('takes a released jti again, after a restart too (a logout that failed is retried with it)', async () => {
      const exp = Math.floor(Date.now() / 1000) + 120;
      const first = await open();
      expect(await first.jtis.consume('jti-failed', exp)).toBe(true);
      await first.jtis.release!('jti-failed');
      await first.close();
      const again = await open();
      expect(await again.jtis.consume('jti-failed', exp)).toBe(true);
      expect(await again.jtis.consume('jti-failed', exp)).toBe(false);
    });

    it('lets exactly one of two processes consume a jti sent to both at once', async () => {
      const one = await open();
      const two = await open();
      const exp = Math.floor(Date.now() / 1000) + 120;
      for (let race = 0; race < 20; race++) {
        const results = await Promise.all([
          one.jtis.consume(`race-${race}`, exp),
          two.jtis.consume(`race-${race}`, exp),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
      }
    });
  });

  describe('revoked sessions', () => {
    beforeAll(async () => {
      location = await engine.fresh();
    });
    afterAll(closeAll);

    it('refuses a revoked sid after a restart and in another process at once, and only that sid', async () => {
      const clock = testClock();
      const first = await open({ clock, revocationWindowSec: 900 });
      const other = await open({ clock, revocationWindowSec: 900 });
      await first.revokedSessions.revokeSession('rev-1');
      expect(await other.revokedSessions.isRevoked(claims({ sid: 'rev-1' }, clock))).toBe(true);
      expect(await other.revokedSessions.isRevoked(claims({ sid: 'rev-2' }, clock))).toBe(false);
      await first.close();
      const again = await open({ clock, revocationWindowSec: 900 });
      expect(await again.revokedSessions.isRevoked(claims({ sid: 'rev-1' }, clock))).toBe(true);
      clock.advance(900);
      expect(await again.revokedSessions.isRevoked(claims({ sid: 'rev-1' }, clock))).toBe(false);
    });

    it('refuses a revoked subject’s tokens issued up to the revocation, not later ones', async () => {
      const clock = testClock();
      const store = await open({ clock });
      const old = claims({ sub: 'dave', sid: undefined }, clock);
      await store.revokedSessions.revokeSubject('dave');
      clock.advance(5);
      expect(await store.revokedSessions.isRevoked(old)).toBe(true);
      expect(
        await store.revokedSessions.isRevoked(claims({ sub: 'dave', sid: 'new', iat: clock.now() / 1000 }, clock)),
      ).toBe(false);
      expect(await store.revokedSessions.isRevoked(claims({ sub: 'erin', sid: undefined }, clock))).toBe(false);
    });
  });

  describe('clean-up and schema', () => {
    beforeEach(async () => {
      location = await engine.fresh();
    });
    afterEach(closeAll);

    it('deletes expired rows of every table, in batches, and keeps live ones', async () => {
      const clock = testClock();
      const store = await open({ clock, sessionTtlSec: 60, loginTransactionTtlSec: 60, revocationWindowSec: 60 });
      const exp = Math.floor(clock.now() / 1000) + 60;
      // More expired jtis than one batch deletes.
      for (let i = 0; i < 2100; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, j) => store.jtis.consume(`old-${i + j}`, exp)));
      }
      await store.sessions.create(alice);
      await store.loginTransactions.save({ state: 's', nonce: 'n', codeVerifier: 'v' });
      await store.revokedSessions.revokeSession('old');
      clock.advance(60);
      const live = await store.sessions.create(alice);
      await store.jtis.consume('live', exp + 120);

      expect(await store.sweepExpired()).toBe(2100 + 3);
      expect(await count('rp_used_jtis')).toBe(1);
      expect(await count('rp_sessions')).toBe(1);
      expect(await count('rp_login_transactions')).toBe(0);
      expect(await count('rp_revoked_sessions')).toBe(0);
      expect(await store.sessions.find(live)).toBeDefined();
      expect(await store.sweepExpired()).toBe(0);
    });

    it('sweeps on its own every sweepIntervalMs', async () => {
      const clock = testClock();
      const store = await open({ clock, sessionTtlSec: 60, sweepIntervalMs: 50 });
      await store.sessions.create(alice);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await count('rp_sessions')).toBe(1);
      clock.advance(60);
      await eventually(async () => (await count('rp_sessions')) === 0);
    });

    it('migrates once when several processes open a new database at once', async () => {
      const stores = await Promise.all([open(), open(), open()]);
      expect(await engine.query(location, 'SELECT version FROM rp_schema')).toEqual([{ version: 3 }]);
      const id = await stores[0]!.sessions.create(alice);
      expect(await stores[2]!.sessions.find(id)).toBeDefined();
    });

    it('adds the access token to a version 1 database, keeping its sessions, without one', async () => {
      const clock = testClock();
      const id = await (await open({ clock })).sessions.create(alice);
      await closeAll();
      // The schema as version 1 made it: sessions without the access token's columns.
      for (const statement of [
        ...VERSION_3_COLUMNS,
        'ALTER TABLE rp_sessions DROP COLUMN access_token',
        'ALTER TABLE rp_sessions DROP COLUMN access_token_expires_at',
        'UPDATE rp_schema SET version = 1',
      ])
        await engine.query(location, statement);

      const store = await open({ clock });
      expect(await engine.query(location, 'SELECT version FROM rp_schema')).toEqual([{ version: 3 }]);
      const kept = await store.sessions.find(id);
      expect(kept).toMatchObject({ sub: 'alice', sid: 'sid-1', idToken: 'id.token.jwt' });
      expect([kept?.accessToken, kept?.accessTokenExpiresAt]).toEqual([undefined, undefined]);
      const fresh = await store.sessions.find(await store.sessions.create(alice));
      expect(fresh).toMatchObject({ accessToken: alice.accessToken, accessTokenExpiresAt: alice.accessTokenExpiresAt });
    });

    it('adds how the person signed in to a version 2 database, keeping sessions and sign-ins under way', async () => {
      const clock = testClock();
      const first = await open({ clock });
      const id = await first.sessions.create(alice);
      const key = await first.loginTransactions.save({ state: 's', nonce: 'n', codeVerifier: 'v' });
      await closeAll();
      // The schema as version 2 made it: no acr, amr, auth_time, nor what a step-up asked for.
      for (const statement of [...VERSION_3_COLUMNS, 'UPDATE rp_schema SET version = 2'])
        await engine.query(location, statement);

      const store = await open({ clock });
      expect(await engine.query(location, 'SELECT version FROM rp_schema')).toEqual([{ version: 3 }]);
      const kept = await store.sessions.find(id);
      expect(kept).toEqual({
        ...alice,
        csrfToken: kept?.csrfToken,
        createdAt: clock.now(),
        expiresAt: kept?.expiresAt,
      });
      expect(await store.loginTransactions.take(key)).toEqual({ state: 's', nonce: 'n', codeVerifier: 'v' });
      const fresh = await store.sessions.find(await store.sessions.create({ ...alice, ...signedInWithMfa }));
      expect(fresh).toMatchObject(signedInWithMfa);
    });

    it('refuses a database whose schema is newer than it knows', async () => {
      await (await open()).close();
      await engine.query(location, 'UPDATE rp_schema SET version = 99');
      await expect(openRelyingPartyStore(location, { sweepIntervalMs: 0 })).rejects.toThrow(
        /schema is at version 99, newer than this program knows \(3\)/,
      );
    });
  });
});
