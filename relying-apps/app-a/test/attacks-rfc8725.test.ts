/**
 * Attack battery, RFC 8725 (JWT BCP), against app A. App A's API answers from its own session,
 * so the place a forged token could get in is the callback: app A redeems the code at the issuer
 * and verifies the ID token and the access token it gets back before it opens a session. Here a
 * man in the middle of that back channel (or a compromised issuer response) swaps in a forged
 * token; the browser walks the real flow over real HTTP against a real issuer and a real app A.
 * Every forgery must end in the "Sign-in failed" page with code `invalid_token` (502), no
 * session cookie, and /api/me still 401.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, base64url, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FetchLike } from '@tessera/shared';
import { createCookieJarClient } from '@tessera/shared/testing';
import { me, sessionCookie, signIn, startWorld, type World } from './support/world.js';

type TokenSlot = 'id_token' | 'access_token';
type Tokens = Record<TokenSlot, string> & Record<string, unknown>;

/** What the man in the middle does to the next token response; undefined lets it through. */
let tamper: ((tokens: Tokens) => Promise<Tokens>) | undefined;

/** App A's server-side HTTP client, with the man in the middle on the token endpoint. */
const mitmFetch: FetchLike = async (input, init) => {
  const res = await fetch(input, init);
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  if (tamper === undefined || url.pathname !== '/token' || res.status !== 200) return res;
  const forged = await tamper((await res.json()) as Tokens);
  return new Response(JSON.stringify(forged), {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
};

let world: World;
let kid: string;
let issuerJwk: JWK;
let attackerEs256: CryptoKey;
let attackerEs256Jwk: JWK;
let attackerEs384: CryptoKey;
let attackerRs256: CryptoKey;
/** A listener the attacker controls; `jku` and `x5u` point at it. It must never be asked. */
let foreign: { server: Server; url: string; requests: number };

beforeAll(async () => {
  world = await startWorld({ fetch: mitmFetch });
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

const decode = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as JWTPayload;
const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
const nowSec = () => Math.floor(Date.now() / 1000);
/** The typ the issuer puts on each token (none on ID tokens but `JWT`). */
const TYP: Record<TokenSlot, string> = { id_token: 'JWT', access_token: 'at+jwt' };

function withClaims(token: string, overrides: JWTPayload): JWTPayload {
  const merged: Record<string, unknown> = { ...decode(token), ...overrides };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return merged as JWTPayload;
}

function withPart(token: string, index: 0 | 1 | 2, part: string): string {
  const parts = token.split('.');
  parts[index] = part;
  return parts.join('.');
}

const issuerSigned = (payload: JWTPayload, typ: string) => world.issuer.issuer.ctx.keys.sign(payload, typ);
const attackerSigned = (key: CryptoKey, header: Record<string, unknown>, payload: JWTPayload) =>
  new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key);

/** A forgery of the token in `slot`, made from the genuine token response. */
type Forge = (tokens: Tokens, slot: TokenSlot) => Promise<string>;

/** Forgeries of either token: the issuer's real token is the material the attacker starts from. */
const ATTACKS: [name: string, forge: Forge][] = [
  [
    'alg none (RFC 8725 §2.1, §3.1)',
    async (t, s) => `${encode({ alg: 'none', kid, typ: TYP[s] })}.${t[s].split('.')[1]}.`,
  ],
  [
    'HS256 keyed with the issuer’s public JWK (RFC 8725 §2.1, §3.1)',
    async (t, s) =>
      new SignJWT(decode(t[s]))
        .setProtectedHeader({ alg: 'HS256', kid, typ: TYP[s] })
        .sign(new TextEncoder().encode(JSON.stringify(issuerJwk))),
  ],
  [
    'an ES384 header on the issuer’s ES256 key (RFC 8725 §3.1)',
    async (t, s) => attackerSigned(attackerEs384, { alg: 'ES384', kid, typ: TYP[s] }, decode(t[s])),
  ],
  [
    'an RS256 header on the issuer’s ES256 key (RFC 8725 §3.1)',
    async (t, s) => attackerSigned(attackerRs256, { alg: 'RS256', kid, typ: TYP[s] }, decode(t[s])),
  ],
  [
    'a tampered header (RFC 7515 §5.2)',
    async (t, s) => withPart(t[s], 0, encode({ alg: 'ES256', kid, typ: TYP[s], cty: 'x' })),
  ],
  [
    'a tampered payload (RFC 7515 §5.2)',
    async (t, s) => withPart(t[s], 1, encode(withClaims(t[s], { sub: 'someone-else' }))),
  ],
  [
    'a tampered signature (RFC 7515 §5.2)',
    async (t, s) => {
      const signature = t[s].split('.')[2]!;
      const i = Math.floor(signature.length / 2);
      return withPart(t[s], 2, signature.slice(0, i) + (signature[i] === 'A' ? 'B' : 'A') + signature.slice(i + 1));
    },
  ],
  [
    'an unknown kid (RFC 8725 §3.10)',
    async (t, s) => attackerSigned(attackerEs256, { alg: 'ES256', kid: 'attacker-key-1', typ: TYP[s] }, decode(t[s])),
  ],
  [
    'a kid with path characters (RFC 8725 §3.10)',
    async (t, s) => attackerSigned(attackerEs256, { alg: 'ES256', kid: '../../etc/passwd', typ: TYP[s] }, decode(t[s])),
  ],
  [
    'a kid with SQL characters (RFC 8725 §3.10)',
    async (t, s) => attackerSigned(attackerEs256, { alg: 'ES256', kid: "' OR 1=1 --", typ: TYP[s] }, decode(t[s])),
  ],
  [
    'an embedded jwk header (RFC 8725 §3.10)',
    async (t, s) =>
      attackerSigned(attackerEs256, { alg: 'ES256', kid, typ: TYP[s], jwk: attackerEs256Jwk }, decode(t[s])),
  ],
  [
    'a jku header to a foreign URL (RFC 8725 §3.10)',
    async (t, s) =>
      attackerSigned(
        attackerEs256,
        { alg: 'ES256', kid: 'attacker-jku', typ: TYP[s], jku: `${foreign.url}/jwks` },
        decode(t[s]),
      ),
  ],
  [
    'an x5u header to a foreign URL (RFC 8725 §3.10)',
    async (t, s) =>
      attackerSigned(
        attackerEs256,
        { alg: 'ES256', kid: 'attacker-x5u', typ: TYP[s], x5u: `${foreign.url}/cert.pem` },
        decode(t[s]),
      ),
  ],
  [
    'a wrong iss, signed with the issuer’s key (RFC 8725 §3.8)',
    async (t, s) => issuerSigned(withClaims(t[s], { iss: 'https://evil.example' }), TYP[s]),
  ],
  [
    'a wrong aud, signed with the issuer’s key (RFC 8725 §3.9)',
    async (t, s) => issuerSigned(withClaims(t[s], { aud: 'someone-else' }), TYP[s]),
  ],
  [
    'a missing aud, signed with the issuer’s key (RFC 8725 §3.9)',
    async (t, s) => issuerSigned(withClaims(t[s], { aud: undefined }), TYP[s]),
  ],
  [
    'a wrong typ, signed with the issuer’s key (RFC 8725 §3.11)',
    async (t, s) => issuerSigned(decode(t[s]), s === 'id_token' ? 'at+jwt' : 'JWT'),
  ],
  [
    'an expired token, signed with the issuer’s key (RFC 7519 §4.1.4)',
    async (t, s) => issuerSigned(withClaims(t[s], { iat: nowSec() - 900, exp: nowSec() - 600 }), TYP[s]),
  ],
  [
    'an nbf in the future, signed with the issuer’s key (RFC 7519 §4.1.5)',
    async (t, s) => issuerSigned(withClaims(t[s], { nbf: nowSec() + 600 }), TYP[s]),
  ],
  [
    'a 32 KB token (over the verifier’s 16 KiB bound, RFC 8725 §3.12)',
    async (t, s) => `${t[s].split('.')[0]}.${'A'.repeat(32 * 1024)}.${t[s].split('.')[2]}`,
  ],
];

/** Signs alice in through a man in the middle that replaces `slot` with `forge`'s token. */
async function signInThrough(forge: (tokens: Tokens) => Promise<Partial<Tokens>>) {
  tamper = async (tokens) => ({ ...tokens, ...(await forge(tokens)) });
  try {
    const jar = createCookieJarClient();
    const { page } = await signIn(world, jar);
    return { jar, page };
  } finally {
    tamper = undefined;
  }
}

/** The failed sign-in: 502 page with `code`, no app session, /api/me still refused. */
async function expectSignInRefused(
  result: Awaited<ReturnType<typeof signInThrough>>,
  code = 'invalid_token',
  status = 502,
) {
  const { jar, page } = result;
  expect(page.status).toBe(status);
  expect(await page.text()).toContain(`<code>${code}</code>`);
  expect(sessionCookie(world, jar)).toBeUndefined();
  expect((await me(world, jar)).status).toBe(401);
}

describe('the battery itself', () => {
  it('signs in through the man in the middle when it changes nothing', async () => {
    const { jar, page } = await signInThrough(async () => ({}));
    expect(page.status).toBe(200);
    expect(sessionCookie(world, jar)).toBeDefined();
    expect((await me(world, jar)).status).toBe(200);
  });
});

describe.each<TokenSlot>(['id_token', 'access_token'])(
  'RFC 8725 at app A’s callback: a forged %s is refused and opens no session',
  (slot) => {
    it.each(ATTACKS)(`refuses %s (${slot})`, async (_, forge) => {
      await expectSignInRefused(await signInThrough(async (tokens) => ({ [slot]: await forge(tokens, slot) })));
    });
  },
);

describe('RFC 8725 §3.11 at app A’s callback: one kind of token never passes for another', () => {
  it('refuses the access token in place of the ID token', async () => {
    await expectSignInRefused(await signInThrough(async (t) => ({ id_token: t.access_token })));
  });

  it('refuses the ID token in place of the access token', async () => {
    await expectSignInRefused(await signInThrough(async (t) => ({ access_token: t.id_token })));
  });

  it('refuses a logout token, signed by the issuer for app A, in place of the ID token', async () => {
    await expectSignInRefused(
      await signInThrough(async (t) => {
        const id = decode(t.id_token);
        const logout = {
          iss: id.iss,
          aud: id.aud,
          sub: id.sub,
          sid: id.sid,
          iat: nowSec(),
          exp: nowSec() + 120,
          jti: 'lt-1',
          events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
        };
        return { id_token: await issuerSigned(logout, 'logout+jwt') };
      }),
    );
  });
});

describe('app A’s callback refuses what no RFC 8725 header check would catch', () => {
  it('refuses an issuer-signed ID token whose nonce is not this browser’s (OIDC Core §3.1.3.7 step 11)', async () => {
    await expectSignInRefused(
      await signInThrough(async (t) => ({
        id_token: await issuerSigned(withClaims(t.id_token, { nonce: 'someone-elses-nonce' }), 'JWT'),
      })),
    );
  });

  it('refuses an issuer-signed ID token without nonce (OIDC Core §3.1.3.7 step 11)', async () => {
    await expectSignInRefused(
      await signInThrough(async (t) => ({
        id_token: await issuerSigned(withClaims(t.id_token, { nonce: undefined }), 'JWT'),
      })),
    );
  });

  it('refuses tokens about different people: an access token of another subject (token substitution)', async () => {
    await expectSignInRefused(
      await signInThrough(async (t) => ({
        access_token: await issuerSigned(withClaims(t.access_token, { sub: 'someone-else' }), 'at+jwt'),
      })),
    );
  });

  it('refuses a 1 MB token response before parsing it (bounded read: 502 bad_gateway)', async () => {
    const started = performance.now();
    const result = await signInThrough(async (t) => ({
      id_token: `${t.id_token.split('.')[0]}.${'A'.repeat(1024 * 1024)}.AAAA`,
    }));
    await expectSignInRefused(result, 'bad_gateway');
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('never fetched anything from the foreign jku / x5u listener', () => {
    expect(foreign.requests).toBe(0);
  });
});
