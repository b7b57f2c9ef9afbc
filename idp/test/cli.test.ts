/**
 * `npm run idp -- users|clients|resources …`, run as an operator runs it: a separate process on
 * the issuer's database, the password on standard input, never in argv.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digest } from '../src/crypto/digest.js';
import { authorizeQuery, basicAuth, getAuthorize, postToken, signInAndRedeem } from './support/browser.js';
import { dropDatabase, freshDatabase, withStore, type OpenedStore } from './support/databases.js';
import { countRows, registerWebClient, useIssuer } from './support/fixture.js';
import { runCli } from './support/issuer-process.js';

const IDP_DIR = fileURLToPath(new URL('..', import.meta.url));
let database: string;
beforeAll(async () => {
  database = await freshDatabase();
});
afterAll(() => dropDatabase(database));

function cli(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@tessera/source', '--import', 'tsx', 'src/cli/main.ts', ...args],
      {
        cwd: IDP_DIR,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TESSERA_DATABASE: database },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** Runs a command that must succeed, and parses the JSON it printed. */
async function succeeding(args: string[], stdin = '') {
  const r = await cli(args, stdin);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** Reads the CLI's database through the store, closing it again before the next command runs. */
function readStore(read: (store: OpenedStore) => Promise<void>): Promise<void> {
  return withStore(database, read);
}

// Each call starts a TypeScript process; on a loaded two-core CI machine that can take seconds.
describe('the issuer CLI', { timeout: 60_000 }, () => {
  it('creates a user with the password read from stdin, and lists users', async () => {
    const user = await succeeding(
      ['users', 'create', '--email', 'Carol@Example.com', '--name', 'Carol', '--json'],
      'a long enough password\n',
    );
    expect(user).toMatchObject({ email: 'carol@example.com', name: 'Carol' });
    expect(user.sub).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await readStore(async (store) => {
      const stored = await store.users.findByEmail('carol@example.com');
      expect(stored?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    });
    const list = await cli(['users', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toEqual([{ sub: user.sub, email: 'carol@example.com', name: 'Carol' }]);
  });

  it('refuses a duplicate email and a short password with a message, not a stack trace', async () => {
    const dup = await cli(
      ['users', 'create', '--email', 'carol@example.com', '--name', 'Carol 2'],
      'another long password\n',
    );
    expect(dup.code).toBe(1);
    expect(dup.stderr).toBe('error: a user with this email already exists\n');
    const short = await cli(['users', 'create', '--email', 'dave@example.com', '--name', 'Dave'], 'short\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('at least 15 characters');
  });

  it('has no flag that takes a password on the command line', async () => {
    const r = await cli(['users', 'create', '--email', 'e@example.com', '--name', 'E', '--password', 'secret-secret']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--password'");
  });

  it('registers a resource and a confidential client, prints the secret once and stores only its digest', async () => {
    expect((await cli(['resources', 'create', '--id', 'https://api.example.com', '--name', 'Example API'])).code).toBe(
      0,
    );
    const out = await succeeding([
      'clients',
      'create',
      '--name',
      'Partner',
      '--type',
      'confidential',
      '--party',
      'third',
      '--redirect-uri',
      'https://partner.example/callback',
      '--resource',
      'https://api.example.com',
      '--scope',
      'openid email',
      '--json',
    ]);
    expect(out).toMatchObject({ type: 'confidential', party: 'third' });
    expect(out.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await readStore(async (store) => {
      const client = await store.clients.findById(out.client_id);
      expect(client).toMatchObject({
        redirectUris: ['https://partner.example/callback'],
        allowedResources: ['https://api.example.com'],
        allowedScopes: ['openid', 'email'],
      });
      expect(client?.secretDigest).toBe(digest(out.client_secret));
    });
    const list = JSON.parse((await cli(['clients', 'list', '--json'])).stdout);
    expect(JSON.stringify(list)).not.toContain(out.client_secret);
    expect(JSON.parse((await cli(['resources', 'list', '--json'])).stdout)).toEqual([
      { id: 'https://api.example.com', name: 'Example API', scopes: [] },
    ]);
  });

  it('registers an API with scopes, and a machine client limited to one of them with no redirect URI', async () => {
    const api = ['--id', 'https://stock.example.com', '--name', 'Stock'];
    expect(
      await succeeding(['resources', 'create', ...api, '--scope', 'stock:read', '--scope', 'stock:write', '--json']),
    ).toEqual({ id: 'https://stock.example.com', name: 'Stock', scopes: ['stock:read', 'stock:write'] });
    const machine = ['clients', 'create', '--name', 'Robot', '--type', 'confidential'];
    const out = await succeeding([
      ...machine,
      '--grant-type',
      'client_credentials',
      '--resource',
      'https://stock.example.com',
      '--scope',
      'stock:read',
      '--json',
    ]);
    await readStore(async (store) => {
      expect(await store.clients.findById(out.client_id)).toMatchObject({
        redirectUris: [],
        allowedResources: ['https://stock.example.com'],
        allowedScopes: ['stock:read'],
        grantTypes: ['client_credentials'],
      });
    });
    // A scope no API of the client defines, and a client with neither redirect URI nor machine grant.
    const unknown = await cli([...machine, '--grant-type', 'client_credentials', '--scope', 'stock:read']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('scope stock:read is neither an OpenID scope');
    const nowhere = await cli(machine);
    expect(nowhere.stderr).toContain('at least one redirect URI is required');
  });

  it('registers a client that must push its authorization requests (RFC 9126 §6), and one that need not', async () => {
    const create = (name: string, extra: string[]) =>
      succeeding([
        'clients',
        'create',
        '--name',
        name,
        '--type',
        'public',
        '--redirect-uri',
        'http://127.0.0.1:8080/callback',
        ...extra,
        '--json',
      ]);
    const required = await create('Pushes', ['--require-par']);
    const plain = await create('Plain', []);
    await readStore(async (store) => {
      expect((await store.clients.findById(required.client_id))?.requirePushedAuthorizationRequests).toBe(true);
      expect((await store.clients.findById(plain.client_id))?.requirePushedAuthorizationRequests).toBe(false);
    });
  });

  it('refuses a plain-http redirect URI on a non-loopback host and an unregistered resource', async () => {
    const http = await cli([
      'clients',
      'create',
      '--name',
      'X',
      '--type',
      'public',
      '--redirect-uri',
      'http://evil.example/cb',
    ]);
    expect(http.code).toBe(1);
    expect(http.stderr).toContain('must use https unless the host is loopback');
    const loopback = await cli([
      'clients',
      'create',
      '--name',
      'Native',
      '--type',
      'public',
      '--redirect-uri',
      'http://127.0.0.1:8400/cb',
      '--json',
    ]);
    expect(loopback.code).toBe(0);
    expect(JSON.parse(loopback.stdout).client_secret).toBeUndefined();
    const resource = await cli([
      'clients',
      'create',
      '--name',
      'Y',
      '--type',
      'public',
      '--redirect-uri',
      'https://y.example/cb',
      '--resource',
      'https://nowhere.example',
    ]);
    expect(resource.stderr).toContain('is not registered');
  });
});

describe('the audit trail from the CLI', { timeout: 60_000 }, () => {
  it('lists what happened, newest first, filtered by type', async () => {
    const all = await cli(['audit', 'list', '--json']);
    expect(all.code).toBe(0);
    const events = JSON.parse(all.stdout) as {
      type: string;
      subject: string | null;
      client_id: string | null;
      time: string;
    }[];
    const types = events.map((e) => e.type);
    expect(types).toContain('user.created');
    expect(types).toContain('client.created');
    expect(Date.parse(events[0]!.time)).toBeGreaterThanOrEqual(Date.parse(events[events.length - 1]!.time));
    const clients = JSON.parse(
      (await cli(['audit', 'list', '--type', 'client.created', '--since', '1h', '--json'])).stdout,
    ) as { type: string; client_id: string }[];
    expect(clients.length).toBeGreaterThanOrEqual(2);
    expect(clients.every((e) => e.type === 'client.created' && e.client_id)).toBe(true);
    expect((await cli(['audit', 'list', '--limit', 'many'])).code).toBe(2);
  });
});

describe('clients delete, against a running issuer', { timeout: 60_000 }, () => {
  const { idp, fx } = useIssuer();
  const gone = { id: 'web-gone', name: 'Web (gone)', secret: 'web-gone-secret-web-gone-secret-web-go' };

  it('removes the client with its grants and tokens: the issuer refuses it from its next request on', async () => {
    await registerWebClient(idp, fx, gone);
    const { tokens, jar } = await signInAndRedeem(idp.url, {
      clientId: gone.id,
      redirectUri: fx.redirectUri,
      auth: gone,
    });
    const refresh = () =>
      postToken(
        idp.url,
        { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string },
        { authorization: basicAuth(gone.id, gone.secret) },
      );
    const userinfo = () =>
      fetch(new URL('/userinfo', idp.url), { headers: { authorization: `Bearer ${tokens.access_token as string}` } });
    expect((await userinfo()).status).toBe(200);
    expect(await countRows(idp, 'grants', `client_id = '${gone.id}'`)).toBe(1);

    const run = await runCli(idp.database, ['clients', 'delete', '--id', gone.id, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ client_id: gone.id, deleted: true });

    const refused = await refresh();
    expect([refused.status, refused.json.error]).toEqual([401, 'invalid_client']);
    // RFC 6749 §4.1.2.1: an unknown client is told to the browser, never redirected to.
    const page = await getAuthorize(idp.url, authorizeQuery({ clientId: gone.id, redirectUri: fx.redirectUri }), jar);
    expect([page.status, page.headers.get('location')]).toEqual([400, null]);
    expect(await page.text()).toContain('<code>invalid_client</code>');
    expect((await userinfo()).status).toBe(401);
    expect(await countRows(idp, 'grants', `client_id = '${gone.id}'`)).toBe(0);
    expect(await countRows(idp, 'audit_events', `type = 'client.deleted' and client_id = '${gone.id}'`)).toBe(1);
    // The other clients are untouched.
    expect((await idp.issuer.ctx.store.clients.findById(fx.confidential.id))?.id).toBe(fx.confidential.id);
  });

  it('refuses a client that does not exist, and a delete without --id', async () => {
    const missing = await runCli(idp.database, ['clients', 'delete', '--id', 'no-such-client']);
    expect([missing.code, missing.stderr]).toEqual([1, 'error: client no-such-client does not exist\n']);
    const noId = await runCli(idp.database, ['clients', 'delete']);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain('--id is required');
  });
});
