/** Starts a real issuer on an ephemeral loopback port with a fresh SQLite file, for tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import type { Clock } from '@tessera/shared';
import { loadConfig } from '../src/config/load-config.js';
import { createIssuer, type Issuer, type IssuerOptions } from '../src/issuer.js';
import { silentLogger } from '@tessera/shared';
import { registerClient, registerResource, registerUser, type ClientInput } from '../src/protocol/registration.js';

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
  dir: string;
  databaseFile: string;
  /** Stops the server and closes the store (the database file stays until `cleanup`). */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startIssuer(
  options: { dir?: string; env?: Record<string, string>; issuer?: IssuerOptions } = {},
): Promise<RunningIssuer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tessera-idp-'));
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const databaseFile = join(dir, 'tessera.db');
  const clock = new TestClock();
  let issuer: Issuer;
  try {
    const config = loadConfig({ TESSERA_ISSUER: url, TESSERA_DATABASE: databaseFile, ...options.env });
    issuer = await createIssuer(config, { clock, log: silentLogger, ...options.issuer });
  } catch (e) {
    // A failed start must not leave the listening socket behind.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw e;
  }
  server.on('request', getRequestListener(issuer.app.fetch));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    issuer.close();
  };
  return {
    url,
    issuer,
    clock,
    dir,
    databaseFile,
    stop,
    async cleanup() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const PASSWORD = 'correct horse battery staple';

/** Registers a user, an API and clients the tests use. */
export async function seed(running: RunningIssuer) {
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

/** The number of rows in a table of the issuer's database (to show a refusal changed nothing). */
export function countRows(running: RunningIssuer, table: string, where = '1 = 1'): number {
  const row = running.issuer.ctx.store.database.sqlite
    .prepare(`select count(*) as n from ${table} where ${where}`)
    .get() as { n: number };
  return row.n;
}
