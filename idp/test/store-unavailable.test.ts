/**
 * A database that cannot serve for now — PostgreSQL refusing this node's connections, SQLite held
 * by another writer past the busy timeout — is a 503 with Retry-After and OAuth's
 * `temporarily_unavailable`, on pages and APIs alike: a condition that passes, not a server
 * fault (500), and never an answer from what the node remembers. Other database failures stay
 * 500 (hardening-errors.test.ts); once the database is back, the same request is served.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Logger } from '@tessera/shared';
import { eventually, startThrowawayPostgres, type ThrowawayPostgres } from '@tessera/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStoreUnavailable } from '../src/store/index.js';
import { authorizeQuery, getAuthorize } from './support/browser.js';
import { startIssuer, useIssuer, type RunningIssuer } from './support/fixture.js';

const form = { 'content-type': 'application/x-www-form-urlencoded' };

/** A token request and a page request, each as a client of that kind sends it. */
async function tokenRequest(idp: RunningIssuer) {
  const res = await fetch(`${idp.url}/token`, {
    method: 'POST',
    headers: { ...form, authorization: `Basic ${Buffer.from('nobody:secret').toString('base64')}` },
    body: 'grant_type=refresh_token&refresh_token=x',
  });
  const retry = res.headers.get('retry-after');
  return { status: res.status, retry, cache: res.headers.get('cache-control'), json: await res.json() };
}
async function pageRequest(idp: RunningIssuer) {
  const res = await fetch(`${idp.url}/authorize?client_id=nobody&redirect_uri=x`, { headers: { accept: 'text/html' } });
  return { status: res.status, retry: res.headers.get('retry-after'), body: await res.text() };
}

const UNAVAILABLE = {
  status: 503,
  retry: '1',
  cache: 'no-store',
  json: { error: 'temporarily_unavailable', error_description: 'try again in a moment' },
};

describe('PostgreSQL refusing the node', () => {
  const events: string[] = [];
  const log: Logger = {
    info: (event) => events.push(event),
    warn: (event) => events.push(event),
    error: (event) => events.push(event),
  };
  let server: ThrowawayPostgres;
  let admin: pg.Client;
  let idp: RunningIssuer;
  beforeAll(async () => {
    server = await startThrowawayPostgres();
    admin = new pg.Client({ connectionString: server.url.replace(/\/tessera$/, '/postgres') });
    await admin.connect();
    idp = await startIssuer({ env: { TESSERA_DATABASE: server.url }, issuer: { log } });
  }, 60_000);
  afterAll(async () => {
    await admin?.query('alter database tessera allow_connections true');
    await idp?.cleanup();
    await admin?.end();
    await server?.stop();
  });

  const servedAgain = () => eventually(async () => (await tokenRequest(idp)).status === 401, 3000);

  it('answers 503 temporarily_unavailable while it lasts, and serves again after', async () => {
    await admin.query('alter database tessera allow_connections false');
    await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = 'tessera'");
    expect(await tokenRequest(idp)).toEqual(UNAVAILABLE);
    const page = await pageRequest(idp);
    expect([page.status, page.retry]).toEqual([503, '1']);
    expect(page.body).toContain('temporarily_unavailable');

    await admin.query('alter database tessera allow_connections true');
    // The client is unknown: the ordinary answer, from a database that answers again — once the
    // circuit's probe has found it (store/pg/circuit.ts), within a second.
    await servedAgain();
    expect(await tokenRequest(idp)).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
  });

  it('survives a connection ended while checked out between statements, as inside a transaction', async () => {
    const { database } = idp.issuer.ctx.store;
    if (database.engine !== 'postgres') throw new Error('expected PostgreSQL');
    const client = await database.pool.connect();
    const [{ pid }] = (await client.query('select pg_backend_pid() as pid')).rows as [{ pid: number }];
    const before = events.length;
    await admin.query('select pg_terminate_backend($1)', [pid]);
    // Unhandled, the client's error would end the process (and fail this run as an uncaught error).
    await eventually(() => events.slice(before).includes('store.connection_lost'));
    await expect(client.query('select 1')).rejects.toThrow();
    client.release(true);
    await servedAgain();
    expect(await tokenRequest(idp)).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
  });

  it('tells an unreachable server from a failing statement', async () => {
    const down = new pg.Client({ connectionString: server.url.replace(`:${server.port}/`, ':1/') });
    const refused = await down.connect().catch((e: unknown) => e);
    expect(isStoreUnavailable(refused)).toBe(true);
    const bad = await admin.query('select * from no_such_table').catch((e: unknown) => e);
    expect(isStoreUnavailable(bad)).toBe(false);
  });
});

describe('SQLite held by another writer past the busy timeout', () => {
  const { idp, fx } = useIssuer();

  it('answers 503 temporarily_unavailable, and serves once the lock is gone', async () => {
    // A request that writes: an authorization request without a session starts an interaction.
    const signInNeeded = () =>
      getAuthorize(idp.url, authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri }));
    // Another process (here a second connection) takes the write lock and keeps it.
    const other = new Database(idp.database);
    try {
      other.exec('begin exclusive');
      const refused = await signInNeeded();
      expect([refused.status, refused.headers.get('retry-after')]).toEqual([503, '1']);
      other.exec('rollback');
      expect((await signInNeeded()).status).toBe(302);
    } finally {
      other.close();
    }
  });
});
