/**
 * The issuer test fixture: a real issuer on an ephemeral loopback port with a fresh database on
 * the run's engine (./databases.ts), seeded with the people and clients the tests use.
 * `useIssuer()` is the one call a test file makes; `startIssuer` and `seed` are for tests that
 * start, stop and restart issuers themselves.
 * The browser side (sign-in, authorize, code exchange) is in `./browser.ts`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { silentLogger, type Clock } from '@tessera/shared';
import { keepIdleConnections } from '@tessera/shared/node';
import { loadConfig } from '../../src/config/load-config.js';
import { createIssuer, type Issuer, type IssuerOptions } from '../../src/issuer.js';
import { registerClient, registerResource, registerUser, type ClientInput } from '../../src/protocol/registration.js';
import { dropDatabase, freshDatabase } from './databases.js';

/** A clock tests can move forward. */
export class TestClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  advance(seconds: number): void {
    this.offset += seconds * 1000;
  }
}

export interface RunningIssuer {
  url: string;
  issuer: Issuer;
  clock: TestClock;
  /** Where its data is (TESSERA_DATABASE): a file path or a postgres:// URL. */
  database: string;
  /** Stops the server and closes the store (the database stays until `cleanup`). */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface StartOptions {
  /** Another issuer's `database`: restarts on its data (default: a fresh database). */
  database?: string;
  /** The loopback port: another issuer's port restarts it at the same URL (default: one the OS picks). */
  port?: number;
  /** Environment on top of TESSERA_ISSUER and TESSERA_DATABASE. */
  env?: Record<string, string>;
  issuer?: IssuerOptions;
}

export async function startIssuer(options: StartOptions = {}): Promise<RunningIssuer> {
  const database = options.database ?? (await freshDatabase());
  const server: Server = createServer();
  // As the issuer's process serves (runServer). With Node's 5 s, a test that works in process
  // for longer than that could send its next request down a connection the server is closing.
  keepIdleConnections(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject); // a given port may be taken
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const clock = new TestClock();
  let issuer: Issuer;
  try {
    const config = loadConfig({ TESSERA_ISSUER: url, TESSERA_DATABASE: database, ...options.env });
    issuer = await createIssuer(config, { clock, log: silentLogger, ...options.issuer });
  } catch (e) {
    // A failed start must not leave the listening socket behind, nor a database made for it.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (options.database === undefined) await dropDatabase(database);
    throw e;
  }
  server.on('request', issuer.listener);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await issuer.close();
  };
  return {
    url,
    issuer,
    clock,
    database,
    stop,
    async cleanup() {
      await stop();
      await dropDatabase(database);
    },
  };
}

export const PASSWORD = 'correct horse battery staple';

/** Registers a user, an API and clients the tests use. */
export async function seed(running: RunningIssuer): Promise<Fixtures> {
  const { store, passwords, clock } = running.issuer.ctx;
  const deps = { store, clock };
  const alice = await registerUser(
    { store, passwords, clock },
    { email: 'Alice@Example.com', displayName: 'Alice Liddell', password: PASSWORD },
  );
  const api = await registerResource(deps, { id: 'https://api.example.test', name: 'Example API' });
  const other = await registerResource(deps, { id: 'https://other-api.example.test', name: 'Other API' });
  const base: Omit<ClientInput, 'name' | 'type' | 'party'> = {
    redirectUris: ['http://127.0.0.1:9/callback', 'https://app.example.test/callback'],
    postLogoutRedirectUris: ['http://127.0.0.1:9/'],
    scopes: ['openid', 'profile', 'email'],
    resources: [api.id, other.id],
  };
  const confidential = await registerClient(deps, {
    ...base,
    id: 'web-app',
    name: 'Web App',
    type: 'confidential',
    party: 'first',
  });
  const publicClient = await registerClient(deps, {
    ...base,
    id: 'spa',
    name: 'Browser App',
    type: 'public',
    party: 'first',
  });
  const thirdParty = await registerClient(deps, {
    ...base,
    id: 'partner',
    name: 'Partner App',
    type: 'confidential',
    party: 'third',
  });
  return {
    alice,
    api,
    other,
    confidential: { id: confidential.client.id, secret: confidential.secret! },
    publicClient: { id: publicClient.client.id },
    thirdParty: { id: thirdParty.client.id, secret: thirdParty.secret! },
    redirectUri: 'http://127.0.0.1:9/callback',
  };
}

/** What `seed` registered: alice, two APIs, a confidential, a public and a third-party client. */
export interface Fixtures {
  alice: Awaited<ReturnType<typeof registerUser>>;
  api: Awaited<ReturnType<typeof registerResource>>;
  other: Awaited<ReturnType<typeof registerResource>>;
  confidential: { id: string; secret: string };
  publicClient: { id: string };
  thirdParty: { id: string; secret: string };
  redirectUri: string;
}

/**
 * A seeded issuer for the tests of the enclosing file or `describe`: started before them, removed
 * after them. The two objects are filled in when the issuer has started, so read them inside tests
 * and hooks (hooks registered after this call run after the issuer is seeded).
 */
export function useIssuer(options: Omit<StartOptions, 'database' | 'port'> = {}): { idp: RunningIssuer; fx: Fixtures } {
  const idp = {} as RunningIssuer;
  const fx = {} as Fixtures;
  let started: RunningIssuer | undefined;
  beforeAll(async () => {
    started = await startIssuer(options);
    Object.assign(idp, started);
    Object.assign(fx, await seed(started));
  });
  afterAll(() => started?.cleanup());
  return { idp, fx };
}

/** What the registration functions need of a running issuer. */
export const registration = (running: RunningIssuer) => ({
  store: running.issuer.ctx.store,
  passwords: running.issuer.ctx.passwords,
  clock: running.issuer.ctx.clock,
});

/** Registers another person, with the seed's password. */
export function registerPerson(running: RunningIssuer, email: string, displayName = email) {
  return registerUser(registration(running), { email, displayName, password: PASSWORD });
}

/**
 * Registers another first-party confidential client with its own secret: it redirects to the seed's
 * redirect URI and may ask for the seed's API and for refresh tokens, unless `extra` says otherwise.
 */
export function registerWebClient(
  running: RunningIssuer,
  fx: Fixtures,
  client: { id: string; name: string; secret: string },
  extra: Partial<ClientInput> = {},
) {
  return registerClient(registration(running), {
    ...client,
    type: 'confidential',
    party: 'first',
    redirectUris: [fx.redirectUri],
    resources: [fx.api.id],
    grantTypes: ['refresh_token'],
    ...extra,
  });
}

/**
 * Runs one SQL statement on the issuer's database, with `?` placeholders, and returns its rows:
 * how tests read or change stored data on either engine. Write SQL both engines run the same.
 */
export function sql(running: RunningIssuer, text: string, ...params: unknown[]): Promise<Record<string, unknown>[]> {
  return running.issuer.ctx.store.database.query(text, params);
}

/** A JSON column's value as a test reads it: SQLite stores the text, PostgreSQL's jsonb is read back parsed. */
export const storedJson = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);

/** The number of rows in a table of the issuer's database (to show a refusal changed nothing). */
export async function countRows(running: RunningIssuer, table: string, where = '1 = 1'): Promise<number> {
  const [row] = await sql(running, `select count(*) as n from ${table} where ${where}`);
  return Number(row?.n);
}
