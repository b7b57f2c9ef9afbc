/**
 * Registering a private_key_jwt client (OIDC Dynamic Client Registration §2 `jwks` / `jwks_uri`):
 * only public signing keys of accepted types, a jwks_uri over https (http on loopback only), never
 * both, never with a secret; such a client gets no secret. And the same through the CLI
 * (`clients create --jwks-file` / `--jwks-uri`), run as an operator runs it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientInput, registerClient } from '../src/protocol/registration.js';
import { dropDatabase, freshDatabase, withStore } from './support/databases.js';
import { registration, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();

let publicJwk: JWK;
let privateJwk: JWK;
beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  publicJwk = { ...(await exportJWK(publicKey)), kid: 'k1' };
  privateJwk = { ...(await exportJWK(privateKey)), kid: 'k1' };
});

let n = 0;
const register = (extra: Partial<ClientInput>) =>
  registerClient(registration(idp), {
    id: `pk-${++n}`,
    name: 'Keys',
    type: 'confidential',
    party: 'first',
    redirectUris: [fx.redirectUri],
    ...extra,
  });

describe('registering a client with keys', () => {
  it('stores an inline JWKS, makes no secret, and the client then refuses secrets', async () => {
    const { client, secret } = await register({ jwks: { keys: [publicJwk] } });
    expect(secret).toBeUndefined();
    expect(client).toMatchObject({ secretDigest: null, jwks: { keys: [publicJwk] }, jwksUri: null });
    expect(await idp.issuer.ctx.store.clients.findById(client.id)).toMatchObject({ jwks: { keys: [publicJwk] } });
  });

  it.each([
    ['https://keys.example.test/jwks.json'],
    ['http://127.0.0.1:8080/jwks'],
    ['http://localhost:8080/jwks'],
    ['http://keys.localhost:8080/jwks'],
  ])('accepts the jwks_uri %s', async (uri) => {
    const { client, secret } = await register({ jwksUri: uri });
    expect(secret).toBeUndefined();
    expect(client.jwksUri).toBe(uri);
  });

  it.each<[string, () => Partial<ClientInput>, RegExp]>([
    ['a private key', () => ({ jwks: { keys: [privateJwk] } }), /is not a public key \(it has d\)/],
    ['a symmetric key', () => ({ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 's' }] } }), /not a public key/],
    ['an HMAC alg', () => ({ jwks: { keys: [{ ...publicJwk, alg: 'HS256' }] } }), /alg must be one of ES256/],
    ['an alg of another curve', () => ({ jwks: { keys: [{ ...publicJwk, alg: 'ES384' }] } }), /alg must be/],
    ['a key without kid', () => ({ jwks: { keys: [{ ...publicJwk, kid: undefined }] } }), /needs a kid/],
    ['a kid twice', () => ({ jwks: { keys: [publicJwk, publicJwk] } }), /kid k1 is used twice/],
    ['an encryption key', () => ({ jwks: { keys: [{ ...publicJwk, use: 'enc' }] } }), /signing key/],
    ['a broken key', () => ({ jwks: { keys: [{ ...publicJwk, x: 'AAAA' }] } }), /cannot be imported/],
    ['no keys', () => ({ jwks: { keys: [] } }), /must hold 1–10 keys/],
    ['not a JWK Set', () => ({ jwks: [publicJwk] }), /is not a JWK Set/],
    ['a plain-http jwks_uri', () => ({ jwksUri: 'http://keys.example.test/jwks' }), /must use https unless/],
    ['a relative jwks_uri', () => ({ jwksUri: '/jwks' }), /is not an absolute URI/],
    ['jwks and jwks_uri', () => ({ jwks: { keys: [publicJwk] }, jwksUri: 'https://k.test/jwks' }), /not both/],
    ['keys for a public client', () => ({ type: 'public', jwks: { keys: [publicJwk] } }), /only a confidential/],
    ['keys and a secret', () => ({ secret: 'a secret', jwks: { keys: [publicJwk] } }), /has no secret/],
  ])('refuses %s', async (_name, extra, message) => {
    const count = (await idp.issuer.ctx.store.clients.list()).length;
    await expect(register(extra())).rejects.toThrow(message);
    expect((await idp.issuer.ctx.store.clients.list()).length).toBe(count);
  });
});

const IDP_DIR = fileURLToPath(new URL('..', import.meta.url));

describe('the CLI', { timeout: 60_000 }, () => {
  let database: string;
  let dir: string;
  beforeAll(async () => {
    database = await freshDatabase();
    dir = mkdtempSync(join(tmpdir(), 'tessera-jwks-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropDatabase(database);
  });

  const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
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
      child.stdin.end();
    });
  const create = (...extra: string[]) =>
    cli([
      'clients',
      'create',
      '--name',
      'Service',
      '--type',
      'confidential',
      '--redirect-uri',
      'https://s.test/cb',
      ...extra,
    ]);

  it('registers a client with --jwks-file, with no secret', async () => {
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [publicJwk] }));
    const r = await create('--jwks-file', file, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ type: 'confidential', token_endpoint_auth_method: 'private_key_jwt' });
    expect(out).not.toHaveProperty('client_secret');
    await withStore(database, async (store) => {
      expect(await store.clients.findById(out.client_id)).toMatchObject({
        jwks: { keys: [publicJwk] },
        secretDigest: null,
      });
    });
  });

  it('registers a client with --jwks-uri, and refuses a private key file with the reason', async () => {
    const r = await create('--jwks-uri', 'https://service.example.test/jwks', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt' });
    const file = join(dir, 'private.json');
    writeFileSync(file, JSON.stringify({ keys: [privateJwk] }));
    const refused = await create('--jwks-file', file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is not a public key (it has d)');
  });
});
