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
import type { JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteKeySet } from '../../src/jwks/remote-key-set.js';
import { withNodeSignatures } from '../../src/jwks/node-signatures.js';
import type { TokenVerificationErrorCode } from '../../src/verify/errors.js';
import { createMemoryJtiStore } from '../../src/verify/jti-store.js';
import { verifyAccessToken } from '../../src/verify/verify-access-token.js';
import { verifyIdToken } from '../../src/verify/verify-id-token.js';
import { verifyLogoutToken } from '../../src/verify/verify-logout-token.js';
import {
  RFC8725_FORGERIES,
  createAttacker,
  encodeSegment,
  startForeignListener,
  type Attacker,
  type ForeignListener,
  type ForgeryMaterial,
  type Refusal,
} from '../../src/testing/index.js';
import { expectRefusal } from '../support/expect-refusal.js';
import {
  API,
  CLIENT_ID,
  accessTokenClaims,
  createSigningKey,
  idTokenClaims,
  logoutTokenClaims,
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
let attacker: Attacker;
let foreign: ForeignListener;

beforeAll(async () => {
  issuerKey = await createSigningKey('ES256');
  attacker = await createAttacker();
  jwksServer = await startServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=300' })
      .end(JSON.stringify({ keys: [issuerKey.publicJwk] }));
  });
  issuerUrl = jwksServer.url;
  foreign = await startForeignListener({ keys: [attacker.es256Jwk] });
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

/** What the attacker forges a token of `kind` from: a genuine one of our issuer. */
const materialFor = async (kind: Kind): Promise<ForgeryMaterial> => ({
  genuine: await genuine(kind),
  typ: TYP[kind],
  issuerJwk: { ...issuerKey.publicJwk, kid: issuerKey.kid },
  signAsIssuer: (payload) => sign(issuerKey, payload, headerOf(kind)),
  attacker,
  foreignUrl: foreign.url,
});

/** The verifiers' error code for each kind of refusal. */
const CODE: Record<Refusal, TokenVerificationErrorCode> = {
  alg: 'ERR_TOKEN_ALG',
  signature: 'ERR_TOKEN_SIGNATURE',
  kid: 'ERR_TOKEN_KID_UNKNOWN',
  issuer: 'ERR_TOKEN_ISSUER',
  audience: 'ERR_TOKEN_AUDIENCE',
  expired: 'ERR_TOKEN_EXPIRED',
  notYet: 'ERR_TOKEN_NOT_YET_VALID',
};

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
      it.each(RFC8725_FORGERIES.map((f) => [f.name, f] as const))(
        `refuses %s (${KIND_NAME[kind]})`,
        async (_, forgery) => {
          await expectRefusal(verifyAs(kind, await forgery.forge(await materialFor(kind))), CODE[forgery.refusal]);
        },
      );

      it(`never asks the URLs in the jku and x5u headers (RFC 8725 §3.10) (${KIND_NAME[kind]})`, async () => {
        const material = await materialFor(kind);
        for (const forgery of RFC8725_FORGERIES) {
          await expectRefusal(verifyAs(kind, await forgery.forge(material)), CODE[forgery.refusal]);
        }
        expect(foreign.requests).toBe(0);
      });

      it(`refuses a 1 MB token fast, unparsed and no keys fetched (§3.12) (${KIND_NAME[kind]})`, async () => {
        const before = jwksServer.requests.length;
        const huge = `${encodeSegment({ alg: 'ES256', kid: issuerKey.kid })}.${'A'.repeat(1024 * 1024)}.AAAA`;
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
      it('accepts each kind’s genuine token over the same HTTP key set: the attacks made every refusal', async () => {
        for (const kind of KINDS) await expect(verifyAs(kind, await genuine(kind))).resolves.toBeDefined();
      });
    });
  },
);
