/**
 * Attack battery, RFC 8725 (JWT BCP), against app B's stateless API: a real issuer, a real app B
 * server, and each forged token sent to GET /api/me as `Authorization: Bearer`. Every forgery
 * must get 401 `invalid_token` (RFC 6750 §3.1) with the fixed description of its refusal; none
 * may reach the route. Tokens with a valid issuer signature but bad claims are minted with the
 * issuer's own key ring, as a compromised or careless issuer could.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, base64url, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callMe, signInToAppB, startWorld, type World } from './support/world.js';

let world: World;
/** A genuine access token for app B's API, and the ID token issued with it. */
let accessToken: string;
let idToken: string;
/** The issuer's current public JWK (as published) and its kid. */
let issuerJwk: JWK;
let kid: string;
/** The attacker's keys. */
let attackerEs256: CryptoKey;
let attackerEs256Jwk: JWK;
let attackerEs384: CryptoKey;
let attackerRs256: CryptoKey;
/** A listener the attacker controls; `jku` and `x5u` point at it. It must never be asked. */
let foreign: { server: Server; url: string; requests: number };

beforeAll(async () => {
  world = await startWorld();
  ({ accessToken, idToken } = await signInToAppB(world));
  kid = world.issuer.issuer.ctx.keys.kid;
  const jwks = (await (await fetch(`${world.idp}/jwks`)).json()) as { keys: JWK[] };
  issuerJwk = jwks.keys.find((k) => k.kid === kid)!;
  const es256 = await generateKeyPair('ES256', { extractable: true });
  attackerEs256 = es256.privateKey;
  attackerEs256Jwk = await exportJWK(es256.publicKey);
  attackerEs384 = (await generateKeyPair('ES384')).privateKey;
  attackerRs256 = (await generateKeyPair('RS256')).privateKey;
  const server = createServer((_req, res) => {
    foreign.requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [attackerEs256Jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  foreign = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: 0 };
});
afterAll(async () => {
  foreign.server.closeAllConnections();
  await new Promise<void>((resolve) => foreign.server.close(() => resolve()));
  await world.stop();
});

const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;
const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
const nowSec = () => Math.floor(Date.now() / 1000);

/** The genuine access token's claims, with `overrides` (undefined removes a claim). */
function claims(overrides: JWTPayload = {}): JWTPayload {
  const merged: Record<string, unknown> = { ...decode(accessToken.split('.')[1]!), ...overrides };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return merged as JWTPayload;
}

/** Signed by the issuer's own current key (header alg, kid, typ as the issuer sets them). */
const issuerSigned = (payload: JWTPayload, typ = 'at+jwt') => world.issuer.issuer.ctx.keys.sign(payload, typ);

/** Signed by the attacker's key with the header given. */
const attackerSigned = (key: CryptoKey, header: Record<string, unknown>, payload: JWTPayload = claims()) =>
  new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key);

function withPart(token: string, index: 0 | 1 | 2, part: string): string {
  const parts = token.split('.');
  parts[index] = part;
  return parts.join('.');
}

/** Sends `token` to /api/me and expects the RFC 6750 §3.1 refusal with `description`. */
async function expectRefused(token: string, description: string): Promise<void> {
  const res = await callMe(world, token);
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe(`Bearer error="invalid_token", error_description="${description}"`);
  expect(await res.json()).toEqual({ error: 'invalid_token', error_description: description });
}

const D = {
  alg: 'The access token algorithm is not accepted',
  signature: 'The access token signature is invalid',
  kid: 'The access token was signed with an unknown key',
  type: 'The token is not an access token',
  issuer: 'The access token was issued by an untrusted issuer',
  audience: 'The access token is not meant for this resource',
  expired: 'The access token expired',
  notYet: 'The access token is not valid yet',
  malformed: 'The access token is malformed',
} as const;

describe('RFC 8725 at app B’s API: GET /api/me refuses forged bearer tokens with 401 invalid_token', () => {
  it('accepts the genuine token (so each refusal below is the forgery’s doing)', async () => {
    expect((await callMe(world, accessToken)).status).toBe(200);
  });

  it('refuses alg none (RFC 8725 §2.1, §3.1)', async () => {
    await expectRefused(`${encode({ alg: 'none', kid, typ: 'at+jwt' })}.${accessToken.split('.')[1]}.`, D.alg);
  });

  it('refuses HS256 keyed with the issuer’s public JWK (RFC 8725 §2.1, §3.1)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(issuerJwk));
    await expectRefused(
      await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' }).sign(secret),
      D.alg,
    );
  });

  it('refuses an ES384 header on the issuer’s ES256 key (RFC 8725 §3.1)', async () => {
    await expectRefused(await attackerSigned(attackerEs384, { alg: 'ES384', kid, typ: 'at+jwt' }), D.alg);
  });

  it('refuses an RS256 header on the issuer’s ES256 key (RFC 8725 §3.1)', async () => {
    await expectRefused(await attackerSigned(attackerRs256, { alg: 'RS256', kid, typ: 'at+jwt' }), D.alg);
  });

  it('refuses a tampered header (RFC 7515 §5.2)', async () => {
    await expectRefused(withPart(accessToken, 0, encode({ alg: 'ES256', kid, typ: 'at+jwt', cty: 'x' })), D.signature);
  });

  it('refuses a tampered payload (RFC 7515 §5.2)', async () => {
    await expectRefused(
      withPart(accessToken, 1, encode(claims({ sub: 'someone-else', scope: 'openid profile email admin' }))),
      D.signature,
    );
  });

  it('refuses a tampered signature (RFC 7515 §5.2)', async () => {
    const signature = accessToken.split('.')[2]!;
    const i = Math.floor(signature.length / 2);
    await expectRefused(
      withPart(accessToken, 2, signature.slice(0, i) + (signature[i] === 'A' ? 'B' : 'A') + signature.slice(i + 1)),
      D.signature,
    );
  });

  it.each([
    ['an unknown kid', 'attacker-key-1'],
    ['a kid with path characters', '../../etc/passwd'],
    ['a kid with SQL characters', "' OR 1=1 --"],
  ])('refuses %s (RFC 8725 §3.10)', async (_, badKid) => {
    await expectRefused(await attackerSigned(attackerEs256, { alg: 'ES256', kid: badKid, typ: 'at+jwt' }), D.kid);
  });

  it('refuses an embedded jwk header carrying the attacker’s key (RFC 8725 §3.10)', async () => {
    await expectRefused(
      await attackerSigned(attackerEs256, { alg: 'ES256', typ: 'at+jwt', jwk: attackerEs256Jwk }),
      D.kid,
    );
    await expectRefused(
      await attackerSigned(attackerEs256, { alg: 'ES256', kid, typ: 'at+jwt', jwk: attackerEs256Jwk }),
      D.signature,
    );
  });

  it('refuses jku and x5u headers pointing at a foreign listener, which receives zero requests (RFC 8725 §3.10)', async () => {
    await expectRefused(
      await attackerSigned(attackerEs256, {
        alg: 'ES256',
        kid: 'attacker-jku',
        typ: 'at+jwt',
        jku: `${foreign.url}/jwks`,
      }),
      D.kid,
    );
    await expectRefused(
      await attackerSigned(attackerEs256, { alg: 'ES256', kid, typ: 'at+jwt', jku: `${foreign.url}/jwks` }),
      D.signature,
    );
    await expectRefused(
      await attackerSigned(attackerEs256, {
        alg: 'ES256',
        kid: 'attacker-x5u',
        typ: 'at+jwt',
        x5u: `${foreign.url}/cert.pem`,
      }),
      D.kid,
    );
    expect(foreign.requests).toBe(0);
  });

  it('refuses a token from another issuer, signed with the issuer’s own key (RFC 8725 §3.8)', async () => {
    await expectRefused(await issuerSigned(claims({ iss: 'https://evil.example' })), D.issuer);
  });

  it('refuses a token for another audience (RFC 8725 §3.9, RFC 9068 §4)', async () => {
    await expectRefused(await issuerSigned(claims({ aud: 'https://other-api.example' })), D.audience);
  });

  it('refuses a token without aud (RFC 8725 §3.9)', async () => {
    await expectRefused(await issuerSigned(claims({ aud: undefined })), D.audience);
  });

  it('refuses a token of the wrong typ (JWT instead of at+jwt) (RFC 8725 §3.11, RFC 9068 §4)', async () => {
    await expectRefused(await issuerSigned(claims(), 'JWT'), D.type);
  });

  it('refuses the ID token presented as an access token (RFC 8725 §3.11)', async () => {
    await expectRefused(idToken, D.type);
  });

  it('refuses a logout token presented as an access token (RFC 8725 §3.11)', async () => {
    const logout = await issuerSigned(
      {
        iss: world.idp,
        aud: world.app,
        sub: world.alice.sub,
        iat: nowSec(),
        exp: nowSec() + 120,
        jti: 'j-1',
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      },
      'logout+jwt',
    );
    await expectRefused(logout, D.type);
  });

  it('refuses an expired token (RFC 7519 §4.1.4)', async () => {
    await expectRefused(await issuerSigned(claims({ iat: nowSec() - 900, exp: nowSec() - 600 })), D.expired);
  });

  it('refuses a token whose nbf is in the future (RFC 7519 §4.1.5)', async () => {
    await expectRefused(await issuerSigned(claims({ nbf: nowSec() + 600 })), D.notYet);
  });

  it('refuses a 1 MB token quickly, before the app parses anything (RFC 8725 §3.12 bounded work)', async () => {
    // Node's HTTP server bounds the header block at 16 KiB and answers 431 itself (RFC 6585 §5):
    // the token never reaches the app, the verifier or the JWKS. It may also close the connection
    // while the client is still sending, which is a refusal too. (The verifier's own 16 KiB
    // bound is tested in shared/test/attacks.)
    const huge = `${encode({ alg: 'ES256', kid, typ: 'at+jwt' })}.${'A'.repeat(1024 * 1024)}.AAAA`;
    const started = performance.now();
    let status: number | 'connection closed';
    try {
      status = (await callMe(world, huge)).status;
    } catch {
      status = 'connection closed';
    }
    expect(performance.now() - started).toBeLessThan(2000);
    expect(status === 431 || status === 'connection closed').toBe(true);
    // The app is unharmed: the genuine token still works.
    expect((await callMe(world, accessToken)).status).toBe(200);
  });

  it('refuses a 12 KB token with 400 invalid_request before the verifier runs (the app’s 8 KiB header value bound)', async () => {
    const big = `${encode({ alg: 'ES256', kid, typ: 'at+jwt' })}.${'A'.repeat(12 * 1024)}.AAAA`;
    const res = await callMe(world, big);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_request', error_description: 'a request header is too large' });
  });
});
