/**
 * The JWKS (RFC 7517 §5) and the discovery document (OIDC Discovery §3, RFC 8414 §2): public
 * members only, RFC 7638 thumbprints as kid, cacheable with a validator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { DEVICE_CODE_GRANT_TYPE, TOKEN_EXCHANGE_GRANT_TYPE } from '@tessera/shared';
import { startIssuer, type RunningIssuer } from './support/fixture.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/** One issuer per signing algorithm, so every key type's export is checked. */
const issuers: Record<string, RunningIssuer> = {};
let idp: RunningIssuer;

beforeAll(async () => {
  const [es, rs, ed] = await Promise.all([
    startIssuer(),
    startIssuer({ env: { TESSERA_SIGNING_ALG: 'RS256' } }),
    startIssuer({ env: { TESSERA_SIGNING_ALG: 'EdDSA', TESSERA_JWKS_MAX_AGE: '60' } }),
  ]);
  Object.assign(issuers, { ES256: es, RS256: rs, EdDSA: ed });
  idp = es;
});
afterAll(() => Promise.all(Object.values(issuers).map((i) => i.cleanup())));

const getJwks = (url: string, headers: Record<string, string> = {}) => fetch(new URL('/jwks', url), { headers });

describe('the JWKS', () => {
  it.each(['ES256', 'RS256', 'EdDSA'])('publishes %s keys without any private member', async (alg) => {
    const { keys } = (await (await getJwks(issuers[alg]!.url)).json()) as { keys: JWK[] };
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) for (const m of PRIVATE_MEMBERS) expect(key, `member ${m}`).not.toHaveProperty(m);
  });

  it.each(['ES256', 'RS256', 'EdDSA'])(
    'gives each %s key its RFC 7638 thumbprint as kid, its alg and use=sig',
    async (alg) => {
      const { keys } = (await (await getJwks(issuers[alg]!.url)).json()) as { keys: JWK[] };
      for (const key of keys) {
        expect(key.kid).toBe(await calculateJwkThumbprint(key, 'sha256'));
        expect(key.alg).toBe(alg);
        expect(key.use).toBe('sig');
      }
    },
  );

  it('is served as application/jwk-set+json, open to any origin', async () => {
    const res = await getJwks(idp.url, { origin: 'https://app.example.test' });
    expect(res.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('is cacheable for the configured max-age', async () => {
    expect((await getJwks(idp.url)).headers.get('cache-control')).toBe('public, max-age=300');
    expect((await getJwks(issuers.EdDSA!.url)).headers.get('cache-control')).toBe('public, max-age=60');
  });

  it('carries a strong ETag that is stable between requests', async () => {
    const a = (await getJwks(idp.url)).headers.get('etag');
    const b = (await getJwks(idp.url)).headers.get('etag');
    expect(a).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(b).toBe(a);
  });

  it.each([
    ['the same ETag', (etag: string) => etag],
    ['the weak form of the ETag (RFC 9110 §13.1.2 uses weak comparison)', (etag: string) => `W/${etag}`],
    ['a list containing the ETag', (etag: string) => `"other", ${etag}`],
    ['*', () => '*'],
  ])('answers If-None-Match with %s with 304 and an empty body', async (_, header) => {
    const etag = (await getJwks(idp.url)).headers.get('etag')!;
    const res = await getJwks(idp.url, { 'if-none-match': header(etag) });
    expect(res.status).toBe(304);
    expect(await res.text()).toBe('');
    // RFC 9110 §15.4.5: a 304 carries the validators and cache headers a 200 would.
    expect(res.headers.get('etag')).toBe(etag);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
  });

  it('answers a non-matching If-None-Match with the full document', async () => {
    const res = await getJwks(idp.url, { 'if-none-match': '"stale"' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
  });
});

describe('the discovery document', () => {
  const discovery = async (running: RunningIssuer = idp) => {
    const res = await fetch(new URL('/.well-known/openid-configuration', running.url));
    return { res, meta: (await res.json()) as Record<string, unknown> };
  };

  it('names the issuer exactly and its endpoints under it', async () => {
    const { meta } = await discovery();
    expect(meta).toMatchObject({
      issuer: idp.url,
      authorization_endpoint: `${idp.url}/authorize`,
      token_endpoint: `${idp.url}/token`,
      userinfo_endpoint: `${idp.url}/userinfo`,
      jwks_uri: `${idp.url}/jwks`,
    });
  });

  it('advertises the code flow with S256 PKCE only and the iss response parameter', async () => {
    const { meta } = await discovery();
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    // Exactly these: no implicit, no password grant (RFC 9700 §2.1.2, §2.4).
    expect(meta.grant_types_supported).toEqual([
      'authorization_code',
      'refresh_token',
      'client_credentials',
      DEVICE_CODE_GRANT_TYPE,
      TOKEN_EXCHANGE_GRANT_TYPE,
    ]);
    expect(meta.response_modes_supported).toEqual(['query']);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    expect(meta.subject_types_supported).toEqual(['public']);
    expect(meta.token_endpoint_auth_methods_supported).toEqual([
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      'none',
    ]);
    expect(meta.scopes_supported).toEqual(['openid', 'profile', 'email', 'offline_access']);
  });

  it.each(['ES256', 'RS256', 'EdDSA'])(
    'lists %s among the ID token signing algorithms when it signs with it',
    async (alg) => {
      const { meta } = await discovery(issuers[alg]);
      expect(meta.id_token_signing_alg_values_supported).toEqual([alg]);
    },
  );

  it('is cacheable and open to any origin', async () => {
    const res = await fetch(new URL('/.well-known/openid-configuration', idp.url), {
      headers: { origin: 'https://app.example.test' },
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('points jwks_uri at the document the keys are served from', async () => {
    const { meta } = await discovery();
    const res = await fetch(meta.jwks_uri as string);
    expect(res.status).toBe(200);
  });
});
