/**
 * Attack battery, RFC 8725 (JSON Web Token Best Current Practices), against the three shared
 * verifiers — access token (RFC 9068), ID token (OIDC Core §3.1.3.7), logout token (OIDC
 * Back-Channel Logout 1.0 §2.6) — with the issuer's keys fetched over real HTTP from a JWKS
 * listener, as a deployed resource server or app does. Every forged token must be refused with
 * one exact `TokenVerificationError` code; headers that name a key location (`jku`, `x5u`) must
 * never cause a request to it.
 *
 * The single-verifier unit tests (src/verify/*.test.ts) check the same rules with an injected
 * fetch; this file is the end-to-end matrix SECURITY.md points at.
 */
import { SignJWT, base64url, generateKeyPair, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteKeySet } from '../../src/jwks/remote-key-set.js';
import { withNodeSignatures } from '../../src/jwks/node-signatures.js';
import type { TokenVerificationErrorCode } from '../../src/verify/errors.js';
import { createMemoryJtiStore } from '../../src/verify/jti-store.js';
import { verifyAccessToken } from '../../src/verify/verify-access-token.js';
import { verifyIdToken } from '../../src/verify/verify-id-token.js';
import { verifyLogoutToken } from '../../src/verify/verify-logout-token.js';
import { expectRefusal } from '../support/expect-refusal.js';
import {
  API,
  CLIENT_ID,
  accessTokenClaims,
  createSigningKey,
  handmade,
  idTokenClaims,
  logoutTokenClaims,
  nowSec,
  sign,
  startServer,
  type SigningKey,
  type TestServer,
} from '../support/issuer.js';

/** The issuer: its keys, and its JWKS served over HTTP (every request counted). */
let issuerKey: SigningKey;
let jwksServer: TestServer;
let issuerUrl: string;
/** The attacker's own keys, and a listener the attacker controls: it must never be asked anything. */
let attacker: SigningKey;
let attackerEs384: { privateKey: CryptoKey };
let attackerRsa: SigningKey;
let foreign: TestServer;

beforeAll(async () => {
  issuerKey = await createSigningKey('ES256');
  attacker = await createSigningKey('ES256');
  attackerRsa = await createSigningKey('RS256');
  attackerEs384 = await generateKeyPair('ES384', { extractable: true });
  jwksServer = await startServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=300' })
      .end(JSON.stringify({ keys: [issuerKey.publicJwk] }));
  });
  issuerUrl = jwksServer.url;
  foreign = await startServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [attacker.publicJwk] }));
  });
});
afterAll(async () => {
  await jwksServer.close();
  await foreign.close();
});

type Kind = 'access' | 'id' | 'logout';

const TYP: Record<Kind, string | undefined> = { access: 'at+jwt', id: undefined, logout: 'logout+jwt' };
const NONCE = 'n-0S6_WzA2Mj';

/** Claims a genuine token of `kind` from our issuer would carry. */
function claimsOf(kind: Kind, overrides: JWTPayload = {}): JWTPayload {
  const base = { iss: issuerUrl, ...overrides };
  if (kind === 'access') return accessTokenClaims(base);
  if (kind === 'id') return idTokenClaims(base);
  return logoutTokenClaims(base);
}

/** A header of `kind` (typ as the issuer sets it) plus `extra`. */
const headerOf = (kind: Kind, extra: Record<string, unknown> = {}) => ({
  ...(TYP[kind] ? { typ: TYP[kind] } : {}),
  ...extra,
});

/** A genuine token of `kind`, signed by the issuer's key. */
const genuine = (kind: Kind, overrides: JWTPayload = {}, header: Record<string, unknown> = {}) =>
  sign(issuerKey, claimsOf(kind, overrides), headerOf(kind, header));

/** How signatures are checked: through Web Crypto (browsers, default) or node:crypto (withNodeSignatures). */
const SIGNATURE_CHECKS = {
  'Web Crypto': (url: string) => createRemoteKeySet(url),
  'node:crypto': (url: string) => withNodeSignatures(createRemoteKeySet(url)),
} as const;
let makeKeySet: (url: string) => ReturnType<typeof createRemoteKeySet> = SIGNATURE_CHECKS['Web Crypto'];

/** Verifies `token` as a `kind`, with a key set that fetches the issuer's JWKS over HTTP. */
function verifyAs(kind: Kind, token: string) {
  const keySet = makeKeySet(`${issuerUrl}/jwks`);
  if (kind === 'access') return verifyAccessToken(token, { issuer: issuerUrl, audience: API, keySet });
  if (kind === 'id') return verifyIdToken(token, { issuer: issuerUrl, audience: CLIENT_ID, keySet, nonce: NONCE });
  return verifyLogoutToken(token, { issuer: issuerUrl, audience: CLIENT_ID, keySet, jtiStore: createMemoryJtiStore() });
}

/** Replaces one of the three parts of a compact JWS. */
function withPart(token: string, index: 0 | 1 | 2, part: string): string {
  const parts = token.split('.');
  parts[index] = part;
  return parts.join('.');
}

/** Flips one character in the middle of the signature: still base64url, no longer the signature. */
function flipSignature(token: string): string {
  const signature = token.split('.')[2]!;
  const i = Math.floor(signature.length / 2);
  return withPart(token, 2, signature.slice(0, i) + (signature[i] === 'A' ? 'B' : 'A') + signature.slice(i + 1));
}

const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));

interface Attack {
  name: string;
  /** RFC 8725 (or RFC 7515/7519) section the refusal rests on. */
  section: string;
  forge: (kind: Kind) => Promise<string>;
  code: TokenVerificationErrorCode;
}

/** The forgeries every kind of token must withstand. */
const ATTACKS: Attack[] = [
  {
    name: 'alg none (unsecured JWS)',
    section: 'RFC 8725 §2.1, §3.1',
    forge: async (kind) => handmade({ alg: 'none', kid: issuerKey.kid, ...headerOf(kind) }, claimsOf(kind)),
    code: 'ERR_TOKEN_ALG',
  },
  {
    name: 'HS256 keyed with the issuer public JWK',
    section: 'RFC 8725 §2.1, §3.1',
    forge: async (kind) =>
      new SignJWT(claimsOf(kind))
        .setProtectedHeader({ alg: 'HS256', kid: issuerKey.kid, ...headerOf(kind) })
        .sign(new TextEncoder().encode(JSON.stringify(issuerKey.publicJwk))),
    code: 'ERR_TOKEN_ALG',
  },
  {
    name: 'ES384 header on the ES256 key',
    section: 'RFC 8725 §3.1',
    forge: async (kind) =>
      new SignJWT(claimsOf(kind))
        .setProtectedHeader({ alg: 'ES384', kid: issuerKey.kid, ...headerOf(kind) })
        .sign(attackerEs384.privateKey),
    code: 'ERR_TOKEN_ALG',
  },
  {
    name: 'RS256 header on the ES256 key',
    section: 'RFC 8725 §3.1',
    forge: async (kind) => sign(attackerRsa, claimsOf(kind), headerOf(kind, { kid: issuerKey.kid })),
    code: 'ERR_TOKEN_ALG',
  },
  {
    name: 'tampered header',
    section: 'RFC 8725 §3.1; RFC 7515 §5.2',
    forge: async (kind) =>
      withPart(await genuine(kind), 0, encodeJson({ alg: 'ES256', kid: issuerKey.kid, ...headerOf(kind), cty: 'x' })),
    code: 'ERR_TOKEN_SIGNATURE',
  },
  {
    name: 'tampered payload (sub changed)',
    section: 'RFC 7515 §5.2',
    forge: async (kind) => withPart(await genuine(kind), 1, encodeJson(claimsOf(kind, { sub: 'admin' }))),
    code: 'ERR_TOKEN_SIGNATURE',
  },
  {
    name: 'tampered signature',
    section: 'RFC 7515 §5.2',
    forge: async (kind) => flipSignature(await genuine(kind)),
    code: 'ERR_TOKEN_SIGNATURE',
  },
  {
    name: 'unknown kid',
    section: 'RFC 8725 §3.10',
    forge: async (kind) => sign(attacker, claimsOf(kind), headerOf(kind)),
    code: 'ERR_TOKEN_KID_UNKNOWN',
  },
  {
    name: 'kid with path characters (../../etc/passwd)',
    section: 'RFC 8725 §3.10',
    forge: async (kind) => sign(attacker, claimsOf(kind), headerOf(kind, { kid: '../../etc/passwd' })),
    code: 'ERR_TOKEN_KID_UNKNOWN',
  },
  {
    name: "kid with SQL characters (' OR 1=1 --)",
    section: 'RFC 8725 §3.10',
    forge: async (kind) => sign(attacker, claimsOf(kind), headerOf(kind, { kid: "' OR 1=1 --" })),
    code: 'ERR_TOKEN_KID_UNKNOWN',
  },
  {
    name: 'embedded jwk header with the attacker key',
    section: 'RFC 8725 §3.10; RFC 7515 §4.1.3',
    forge: async (kind) =>
      sign(
        attacker,
        claimsOf(kind),
        headerOf(kind, { jwk: { kty: 'EC', crv: 'P-256', x: attacker.publicJwk.x, y: attacker.publicJwk.y } }),
      ),
    code: 'ERR_TOKEN_KID_UNKNOWN',
  },
  {
    name: 'embedded jwk header under the issuer kid',
    section: 'RFC 8725 §3.10; RFC 7515 §4.1.3',
    forge: async (kind) =>
      sign(
        attacker,
        claimsOf(kind),
        headerOf(kind, {
          kid: issuerKey.kid,
          jwk: { kty: 'EC', crv: 'P-256', x: attacker.publicJwk.x, y: attacker.publicJwk.y },
        }),
      ),
    code: 'ERR_TOKEN_SIGNATURE',
  },
  {
    name: 'wrong iss',
    section: 'RFC 8725 §3.8',
    forge: async (kind) => genuine(kind, { iss: 'https://evil.example' }),
    code: 'ERR_TOKEN_ISSUER',
  },
  {
    name: 'wrong aud',
    section: 'RFC 8725 §3.9',
    forge: async (kind) => genuine(kind, { aud: 'https://other.example' }),
    code: 'ERR_TOKEN_AUDIENCE',
  },
  {
    name: 'missing aud',
    section: 'RFC 8725 §3.9',
    forge: async (kind) => genuine(kind, { aud: undefined }),
    code: 'ERR_TOKEN_AUDIENCE',
  },
  {
    name: 'expired',
    section: 'RFC 7519 §4.1.4',
    forge: async (kind) => genuine(kind, { iat: nowSec() - 600, exp: nowSec() - 300 }),
    code: 'ERR_TOKEN_EXPIRED',
  },
  {
    name: 'nbf in the future',
    section: 'RFC 7519 §4.1.5',
    forge: async (kind) => genuine(kind, { nbf: nowSec() + 300 }),
    code: 'ERR_TOKEN_NOT_YET_VALID',
  },
];

const KINDS: Kind[] = ['access', 'id', 'logout'];
const KIND_NAME: Record<Kind, string> = { access: 'access token', id: 'ID token', logout: 'logout token' };

// Every attack runs against both ways of checking a signature; the refusal must not depend on it.
describe.each(Object.keys(SIGNATURE_CHECKS) as (keyof typeof SIGNATURE_CHECKS)[])(
  'with %s signature checks',
  (checks) => {
    beforeAll(() => {
      makeKeySet = SIGNATURE_CHECKS[checks];
    });

    describe.each(KINDS)('RFC 8725: the %s verifier refuses forged tokens', (kind) => {
      it.each(ATTACKS.map((a) => [a.name, a] as const))(`refuses %s (${KIND_NAME[kind]})`, async (_, attack) => {
        await expectRefusal(verifyAs(kind, await attack.forge(kind)), attack.code);
      });

      it(`refuses jku and x5u headers pointing at a foreign listener, which receives zero requests (RFC 8725 §3.10) (${KIND_NAME[kind]})`, async () => {
        const before = foreign.requests.length;
        for (const header of [
          { jku: `${foreign.url}/jwks` },
          { x5u: `${foreign.url}/cert.pem` },
          { jku: `${foreign.url}/jwks`, kid: issuerKey.kid },
        ]) {
          const token = await sign(attacker, claimsOf(kind), headerOf(kind, header));
          await expectRefusal(verifyAs(kind, token), 'kid' in header ? 'ERR_TOKEN_SIGNATURE' : 'ERR_TOKEN_KID_UNKNOWN');
        }
        expect(foreign.requests.length).toBe(before);
      });

      it(`refuses a 1 MB token quickly, before parsing it or fetching keys (RFC 8725 §3.12 bounded work) (${KIND_NAME[kind]})`, async () => {
        const before = jwksServer.requests.length;
        const huge = `${encodeJson({ alg: 'ES256', kid: issuerKey.kid })}.${'A'.repeat(1024 * 1024)}.AAAA`;
        const started = performance.now();
        await expectRefusal(verifyAs(kind, huge), 'ERR_TOKEN_TOO_LARGE');
        expect(performance.now() - started).toBeLessThan(50);
        expect(jwksServer.requests.length).toBe(before);
      });
    });

    describe('RFC 8725 §3.11 (explicit typing): one kind of token never passes for another', () => {
      it.each([
        ['an ID token as an access token', 'id', 'access'],
        ['a logout token as an access token', 'logout', 'access'],
        ['an access token as an ID token', 'access', 'id'],
        ['a logout token as an ID token', 'logout', 'id'],
        ['an ID token as a logout token', 'id', 'logout'],
        ['an access token as a logout token', 'access', 'logout'],
      ] as const)('refuses %s', async (_, made, presentedAs) => {
        // Same issuer, same key, and the audience the verifier expects: only the type differs.
        const aud = presentedAs === 'access' ? API : CLIENT_ID;
        const extra = presentedAs === 'id' ? { nonce: NONCE } : {};
        await expectRefusal(verifyAs(presentedAs, await genuine(made, { aud, ...extra })), 'ERR_TOKEN_TYPE');
      });

      it.each([
        ['an access token typed JWT', 'access', 'JWT'],
        ['an ID token typed at+jwt', 'id', 'at+jwt'],
        ['a logout token typed JWT', 'logout', 'JWT'],
        ['an access token typed secevent+jwt', 'access', 'secevent+jwt'],
      ] as const)('refuses %s (wrong typ)', async (_, kind, typ) => {
        await expectRefusal(verifyAs(kind, await genuine(kind, {}, { typ })), 'ERR_TOKEN_TYPE');
      });
    });

    describe('the battery itself', () => {
      it('accepts the genuine token of each kind over the same HTTP key set (so every refusal above is the attack’s doing)', async () => {
        for (const kind of KINDS) await expect(verifyAs(kind, await genuine(kind))).resolves.toBeDefined();
      });
    });
  },
);
