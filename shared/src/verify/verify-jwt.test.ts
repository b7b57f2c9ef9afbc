/**
 * The shared JWT verification on both of its paths: node:crypto (withNodeSignatures: the compact
 * form, signature and registered claims read by compact-jws.ts and registered-claims.ts) and Web
 * Crypto (jose's jwtVerify). Each token below is refused — code, claim, message and
 * issuedAtOffsetSec — or accepted exactly as jose refused or accepted it on the node:crypto path
 * before the kit read tokens itself, and the same on both paths but where a line says otherwise.
 */
import { KeyObject, sign as nodeSign } from 'node:crypto';
import fc from 'fast-check';
import { base64url, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { createLocalKeySet } from '../jwks/local-key-set.js';
import { withNodeSignatures } from '../jwks/node-signatures.js';
import { API, ISSUER, accessTokenClaims, createSigningKey, idTokenClaims, sign } from '../../test/support/issuer.js';
import { TokenVerificationError } from './errors.js';
import { createAccessTokenVerifier, verifyAccessToken } from './verify-access-token.js';
import { verifyIdToken } from './verify-id-token.js';

const key = await createSigningKey('ES256');
const other = await createSigningKey('ES256');
const webKeys = await createLocalKeySet({ keys: [key.publicJwk] });
const PATHS = { 'node:crypto': withNodeSignatures(webKeys), 'Web Crypto': webKeys } as const;
type Path = keyof typeof PATHS;

/** Our clock: half a second into the second T. */
const T = 1_800_000_000;
const NOW_MS = T * 1000 + 500;

const claims = (changes: Record<string, unknown> = {}): JWTPayload =>
  accessTokenClaims({ iat: T, exp: T + 300, jti: 'j-1', ...changes });
const HEADER = { alg: 'ES256', kid: key.kid, typ: 'at+jwt' };

const b64 = (bytes: string | Uint8Array) =>
  base64url.encode(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
const json = (value: unknown) => b64(JSON.stringify(value));

/** A token over exactly these encoded parts, signed with `signer` (the issuer's key by default). */
function signedParts(header: string, payload: string, signer = key): string {
  const signature = nodeSign('sha256', Buffer.from(`${header}.${payload}`), {
    key: KeyObject.from(signer.privateKey),
    dsaEncoding: 'ieee-p1363',
  });
  return `${header}.${payload}.${b64(signature)}`;
}
const signed = (header: unknown, payload: unknown) => signedParts(json(header), json(payload));

type Outcome = 'accepted' | { code: string; claim?: string; message: string; issuedAtOffsetSec?: number };

async function outcome(path: Path, token: string, clock: () => number = () => NOW_MS): Promise<Outcome> {
  try {
    await verifyAccessToken(token, { issuer: ISSUER, audience: API, keySet: PATHS[path], now: clock });
    return 'accepted';
  } catch (error) {
    if (!(error instanceof TokenVerificationError)) throw error;
    return {
      code: error.code,
      ...(error.claim === undefined ? {} : { claim: error.claim }),
      message: error.message,
      ...(error.issuedAtOffsetSec === undefined ? {} : { issuedAtOffsetSec: error.issuedAtOffsetSec }),
    };
  }
}

const malformed = { code: 'ERR_TOKEN_MALFORMED', message: 'the access token is malformed' } as const;
const claimInvalid = (claim: string) => ({
  code: 'ERR_TOKEN_CLAIM',
  claim,
  message: `the access token "${claim}" claim is invalid`,
});
const wrongAlg = { code: 'ERR_TOKEN_ALG', claim: 'alg', message: 'the access token algorithm is not allowed' };
const wrongType = { code: 'ERR_TOKEN_TYPE', claim: 'typ', message: 'the token is not an access token' };
const noKid = { code: 'ERR_TOKEN_KID_UNKNOWN', claim: 'kid', message: 'the access token has no kid' };
const wrongIssuer = {
  code: 'ERR_TOKEN_ISSUER',
  claim: 'iss',
  message: 'the access token issuer is not the expected one',
};
const wrongAudience = {
  code: 'ERR_TOKEN_AUDIENCE',
  claim: 'aud',
  message: 'the access token is not for this audience',
};
const notYet = (claim: string, issuedAtOffsetSec: number) => ({
  code: 'ERR_TOKEN_NOT_YET_VALID',
  claim,
  message: 'the access token is not valid yet',
  issuedAtOffsetSec,
});
const expired = (issuedAtOffsetSec: number) => ({
  code: 'ERR_TOKEN_EXPIRED',
  claim: 'exp',
  message: 'the access token has expired',
  issuedAtOffsetSec,
});

const genuine = signed(HEADER, claims());
const [h, p, s] = genuine.split('.') as [string, string, string];
// An ES256 signature is 64 bytes: 86 characters, the last holding 2 bits and 4 unused ones.
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const unusedBitsSet = `${s.slice(0, -1)}${BASE64URL[BASE64URL.indexOf(s.at(-1)!) | 0b1111]}`;

/** `part` with "A"s added up to a length of 4n+1: a last character alone, carrying no whole byte (RFC 4648 §4). */
const lengthened = (part: string) => part + 'A'.repeat((((1 - part.length) % 4) + 4) % 4 || 4);

/** [what, the token, the outcome on both paths, or per path]. */
const CASES: [string, () => string, Outcome | Record<Path, Outcome>][] = [
  // RFC 7515 §7.1: three base64url parts.
  ['one part', () => 'not-a-jwt', malformed],
  ['two parts', () => `${h}.${p}`, malformed],
  ['four parts', () => `${genuine}.${s}`, malformed],
  ['five parts (a JWE shape)', () => `${h}.${p}.${s}.${s}.${s}`, malformed],
  ['an empty header', () => `.${p}.${s}`, malformed],
  ['an empty payload', () => `${h}..${s}`, malformed],
  [
    'an empty signature',
    () => `${h}.${p}.`,
    { code: 'ERR_TOKEN_SIGNATURE', message: 'the access token signature is invalid' },
  ],
  // RFC 7515 §2: base64url, unpadded, nothing else.
  ['padding in the header', () => `${h}=.${p}.${s}`, malformed],
  ['standard base64 "+" in the signature', () => `${h}.${p}.+${s.slice(1)}`, malformed],
  ['a "/" in the payload', () => `${h}.${p.slice(0, -1)}/.${s}`, malformed],
  ['a space in the payload', () => `${h}.${p.slice(0, 8)} ${p.slice(8)}.${s}`, malformed],
  ['a line break in the header', () => `${h.slice(0, 4)}\n${h.slice(4)}.${p}.${s}`, malformed],
  ['a non-ASCII letter in the payload', () => `${h}.${p.slice(0, -1)}é.${s}`, malformed],
  ['a header of a length base64url cannot have (4n+1)', () => `${lengthened(h)}.${p}.${s}`, malformed],
  ['a signature of a length base64url cannot have (4n+1)', () => `${h}.${p}.${lengthened(s)}`, malformed],
  ['a payload of a length base64url cannot have (4n+1), signed', () => signedParts(h, lengthened(p)), malformed],
  [
    'unused bits set in the last signature character (ignored, as atob does)',
    () => `${h}.${p}.${unusedBitsSet}`,
    'accepted',
  ],
  // RFC 7515 §5.2: the header, UTF-8 JSON, an object.
  ['a header that is not UTF-8', () => `${b64(new Uint8Array([0x7b, 0xff, 0x7d]))}.${p}.${s}`, malformed],
  ['a header that is not JSON', () => `${b64('{"alg":')}.${p}.${s}`, malformed],
  ['a header that is a JSON array', () => `${json([HEADER])}.${p}.${s}`, malformed],
  ['a header that is a JSON string', () => `${json('ES256')}.${p}.${s}`, malformed],
  ['a header that is JSON null', () => `${json(null)}.${p}.${s}`, malformed],
  ['a header that is a JSON number', () => `${json(1)}.${p}.${s}`, malformed],
  [
    'a header with a byte order mark (RFC 8259 §8.1: ignored)',
    () => signedParts(b64(`\uFEFF${JSON.stringify(HEADER)}`), p),
    'accepted',
  ],
  // RFC 7515 §4: a member named twice keeps its last value.
  [
    'alg named twice, none then ES256',
    () => signedParts(b64(`{"alg":"none","alg":"ES256","kid":"${key.kid}","typ":"at+jwt"}`), p),
    'accepted',
  ],
  [
    'alg named twice, ES256 then none',
    () => signedParts(b64(`{"alg":"ES256","alg":"none","kid":"${key.kid}","typ":"at+jwt"}`), p),
    wrongAlg,
  ],
  [
    'typ named twice, at+jwt then JWT',
    () => signedParts(b64(`{"alg":"ES256","kid":"${key.kid}","typ":"at+jwt","typ":"JWT"}`), p),
    wrongType,
  ],
  [
    'kid named twice, another then the key',
    () => signedParts(b64(`{"alg":"ES256","kid":"other","kid":"${key.kid}","typ":"at+jwt"}`), p),
    'accepted',
  ],
  [
    'alg only inside a "__proto__" member',
    () => signedParts(b64(`{"__proto__":{"alg":"ES256"},"kid":"${key.kid}","typ":"at+jwt"}`), p),
    wrongAlg,
  ],
  // RFC 8725 §3.1, §3.11; RFC 9068 §4.
  ['no alg', () => signed({ kid: key.kid, typ: 'at+jwt' }, claims()), wrongAlg],
  ['alg none', () => `${json({ ...HEADER, alg: 'none' })}.${p}.`, wrongAlg],
  ['alg HS256', () => signed({ ...HEADER, alg: 'HS256' }, claims()), wrongAlg],
  ['alg es256, lower case', () => signed({ ...HEADER, alg: 'es256' }, claims()), wrongAlg],
  ['alg a number', () => signed({ ...HEADER, alg: 256 }, claims()), wrongAlg],
  [
    'alg ES384 under the ES256 key',
    () => signed({ ...HEADER, alg: 'ES384' }, claims()),
    { code: 'ERR_TOKEN_ALG', claim: 'alg', message: 'the access token algorithm does not match its key' },
  ],
  ['no typ', () => signed({ alg: 'ES256', kid: key.kid }, claims()), wrongType],
  ['typ JWT', () => signed({ ...HEADER, typ: 'JWT' }, claims()), wrongType],
  ['typ AT+JWT', () => signed({ ...HEADER, typ: 'AT+JWT' }, claims()), 'accepted'],
  ['typ application/at+jwt', () => signed({ ...HEADER, typ: 'application/at+jwt' }, claims()), 'accepted'],
  ['no kid', () => signed({ alg: 'ES256', typ: 'at+jwt' }, claims()), noKid],
  ['an empty kid', () => signed({ ...HEADER, kid: '' }, claims()), noKid],
  ['a kid that is a number', () => signed({ ...HEADER, kid: 7 }, claims()), noKid],
  [
    'a kid not in the set',
    () => signed({ ...HEADER, kid: other.kid }, claims()),
    { code: 'ERR_TOKEN_KID_UNKNOWN', claim: 'kid', message: 'no key with this kid' },
  ],
  [
    'another key’s signature under the key’s kid',
    () => signedParts(h, p, other),
    { code: 'ERR_TOKEN_SIGNATURE', message: 'the access token signature is invalid' },
  ],
  // RFC 7515 §4.1.11 (crit), RFC 7797 (b64).
  ['an unknown critical extension', () => signed({ ...HEADER, crit: ['exp-ext'], 'exp-ext': 1 }, claims()), malformed],
  ['an empty crit', () => signed({ ...HEADER, crit: [] }, claims()), malformed],
  ['crit a string', () => signed({ ...HEADER, crit: 'b64', b64: true }, claims()), malformed],
  ['b64 false, critical', () => signed({ ...HEADER, crit: ['b64'], b64: false }, claims()), malformed],
  [
    'b64 true, critical',
    () => signed({ ...HEADER, crit: ['b64'], b64: true }, claims()),
    { 'node:crypto': malformed, 'Web Crypto': 'accepted' },
  ],
  [
    'b64 false, not critical',
    () => signed({ ...HEADER, b64: false }, claims()),
    { 'node:crypto': malformed, 'Web Crypto': 'accepted' },
  ],
  [
    'crit under a kid not in the set (the key is looked up first)',
    () => signed({ ...HEADER, kid: other.kid, crit: ['exp-ext'] }, claims()),
    { code: 'ERR_TOKEN_KID_UNKNOWN', claim: 'kid', message: 'no key with this kid' },
  ],
  // RFC 7519 §7.2 step 10: the claims, UTF-8 JSON, an object.
  ['a payload that is not UTF-8, signed', () => signedParts(h, b64(new Uint8Array([0x7b, 0xc3, 0x7d]))), malformed],
  ['a payload that is not JSON, signed', () => signedParts(h, b64('{"iss":')), malformed],
  ['a payload that is a JSON array, signed', () => signedParts(h, json([claims()])), malformed],
  ['a payload that is JSON null, signed', () => signedParts(h, json(null)), malformed],
  [
    'a payload with a byte order mark, signed',
    () => signedParts(h, b64(`\uFEFF${JSON.stringify(claims())}`)),
    'accepted',
  ],
  // RFC 7519 §4.1, RFC 9068 §2.2: presence, reported in one fixed order.
  ['no iss', () => signed(HEADER, claims({ iss: undefined })), wrongIssuer],
  ['no iss and no aud', () => signed(HEADER, claims({ iss: undefined, aud: undefined })), wrongIssuer],
  ['no aud', () => signed(HEADER, claims({ aud: undefined })), wrongAudience],
  ['no aud and no exp', () => signed(HEADER, claims({ aud: undefined, exp: undefined })), wrongAudience],
  ['no scope and no sub', () => signed(HEADER, claims({ scope: undefined, sub: undefined })), claimInvalid('scope')],
  [
    'no jti and no client_id',
    () => signed(HEADER, claims({ jti: undefined, client_id: undefined })),
    claimInvalid('jti'),
  ],
  ['no iat and no exp', () => signed(HEADER, claims({ iat: undefined, exp: undefined })), claimInvalid('iat')],
  ['no sub and no exp', () => signed(HEADER, claims({ sub: undefined, exp: undefined })), claimInvalid('sub')],
  ['no exp', () => signed(HEADER, claims({ exp: undefined })), claimInvalid('exp')],
  ['iss null', () => signed(HEADER, claims({ iss: null })), wrongIssuer],
  ['iss a number', () => signed(HEADER, claims({ iss: 42 })), wrongIssuer],
  ['iss with a trailing slash', () => signed(HEADER, claims({ iss: `${ISSUER}/` })), wrongIssuer],
  ['aud another', () => signed(HEADER, claims({ aud: `${API}/` })), wrongAudience],
  ['aud an empty array', () => signed(HEADER, claims({ aud: [] })), wrongAudience],
  ['aud an object', () => signed(HEADER, claims({ aud: { [API]: true } })), wrongAudience],
  ['aud an array holding it among others', () => signed(HEADER, claims({ aud: [7, 'x', API] })), 'accepted'],
  // RFC 7519 §4.1.4–4.1.6, with the leeway of clock-tolerance.ts (60 s by default).
  ['iat a string', () => signed(HEADER, claims({ iat: String(T) })), claimInvalid('iat')],
  ['iat null', () => signed(HEADER, claims({ iat: null })), claimInvalid('iat')],
  ['nbf a string', () => signed(HEADER, claims({ nbf: String(T) })), notYet('nbf', 0)],
  ['nbf at the end of the leeway', () => signed(HEADER, claims({ nbf: T + 60 })), 'accepted'],
  ['nbf past the leeway', () => signed(HEADER, claims({ nbf: T + 61 })), notYet('nbf', 0)],
  ['exp a string', () => signed(HEADER, claims({ exp: String(T + 300) })), claimInvalid('exp')],
  ['exp null', () => signed(HEADER, claims({ exp: null })), claimInvalid('exp')],
  ['exp within the leeway', () => signed(HEADER, claims({ iat: T - 600, exp: T - 59 })), 'accepted'],
  ['exp at the end of the leeway', () => signed(HEADER, claims({ iat: T - 600, exp: T - 60 })), expired(-600)],
  ['iat at the end of the leeway', () => signed(HEADER, claims({ iat: T + 60, exp: T + 600 })), 'accepted'],
  [
    'iat past the leeway',
    () => signed(HEADER, claims({ iat: T + 61, exp: T + 600 })),
    { ...notYet('iat', 61), message: 'the access token was issued in the future' },
  ],
  // RFC 9068 §2.2, checked by the access-token verifier after the registered claims.
  [
    'sub empty',
    () => signed(HEADER, claims({ sub: '' })),
    { code: 'ERR_TOKEN_CLAIM', claim: 'sub', message: 'the access token "sub" claim must be a non-empty string' },
  ],
  [
    'scope a number',
    () => signed(HEADER, claims({ scope: 1 })),
    { code: 'ERR_TOKEN_CLAIM', claim: 'scope', message: 'the access token "scope" claim must be a string' },
  ],
  [
    'sid empty',
    () => signed(HEADER, claims({ sid: '' })),
    { code: 'ERR_TOKEN_CLAIM', claim: 'sid', message: 'the access token "sid" claim must be a non-empty string' },
  ],
];

describe.each(Object.keys(PATHS) as Path[])('verification with %s signature checks', (path) => {
  it.each(CASES)('%s', async (_, token, expected) => {
    const want =
      typeof expected === 'object' && path in expected ? (expected as Record<Path, Outcome>)[path] : expected;
    expect(await outcome(path, token())).toEqual(want);
  });

  it('refuses every token on a clock that reads no time', async () => {
    expect(await outcome(path, genuine, () => Number.NaN)).toEqual(malformed);
  });

  it('without leeway, refuses a token at its exp and accepts it a second before', async () => {
    const verify = (exp: number) =>
      verifyAccessToken(signed(HEADER, claims({ exp })), {
        issuer: ISSUER,
        audience: API,
        keySet: PATHS[path],
        clockToleranceSec: 0,
        now: () => NOW_MS,
      });
    await expect(verify(T + 1)).resolves.toBeDefined();
    await expect(verify(T)).rejects.toMatchObject({ code: 'ERR_TOKEN_EXPIRED', claim: 'exp' });
  });

  it('returns the claims and header as signed', async () => {
    const result = await verifyAccessToken(genuine, {
      issuer: ISSUER,
      audience: API,
      keySet: PATHS[path],
      now: () => NOW_MS,
    });
    expect(result.claims).toEqual(claims());
    expect(result.header).toEqual(HEADER);
  });

  it('gives each caller a header of its own, whatever it does with the last one', async () => {
    const options = {
      issuer: ISSUER,
      audience: 'app-a',
      keySet: PATHS[path],
      nonce: 'n-0S6_WzA2Mj',
      now: () => NOW_MS,
    };
    const idToken = await sign(key, idTokenClaims({ iat: T, exp: T + 300, auth_time: T }));
    const first = await verifyIdToken(idToken, options);
    (first.header as Record<string, unknown>).kid = 'changed';
    (first.header as Record<string, unknown>).alg = 'none';
    const second = await verifyIdToken(idToken, options);
    expect(second.header).toEqual({ alg: 'ES256', kid: key.kid });
  });

  it('checks every token whose header it has seen on a genuine one: a forged signature is still refused', async () => {
    const options = { issuer: ISSUER, audience: API, keySet: PATHS[path], now: () => NOW_MS };
    await verifyAccessToken(genuine, options);
    const forged = signedParts(h, json(claims({ sub: 'admin' })), other);
    await expect(verifyAccessToken(forged, options)).rejects.toMatchObject({ code: 'ERR_TOKEN_SIGNATURE' });
  });

  it('refuses a remembered token once expired, and asks isRevoked each time', async () => {
    let now = NOW_MS;
    let revoked = false;
    const verify = createAccessTokenVerifier({
      issuer: ISSUER,
      audience: API,
      keySet: PATHS[path],
      now: () => now,
      isRevoked: () => revoked,
    });
    const token = signed(HEADER, claims({ exp: T + 10 }));
    const first = await verify(token);
    expect((await verify(token)).claims).toBe(first.claims);
    revoked = true;
    await expect(verify(token)).rejects.toMatchObject({ code: 'ERR_TOKEN_REVOKED' });
    revoked = false;
    now += 70_000; // exp + the 60 s leeway has passed
    await expect(verify(token)).rejects.toMatchObject({ code: 'ERR_TOKEN_EXPIRED' });
  });
});

describe('registered claims on both paths', () => {
  // Each claim mostly as the issuer signs it, else of another value or type, or absent.
  const claim = <V>(usual: V, ...odd: unknown[]) =>
    fc.option(
      fc.oneof({ arbitrary: fc.constant(usual), weight: 6 }, { arbitrary: fc.constantFrom(...odd), weight: 1 }),
      {
        nil: undefined,
        freq: 12,
      },
    );
  const time = (usual: number) =>
    claim(usual, T - 60, T - 61, T + 60, T + 61, T + 0.5, T - 400, T + 400, String(T), null, true);
  const claimSets = fc.record({
    iss: claim(ISSUER, `${ISSUER}/`, 42, null),
    aud: claim(API, [API], ['x', API], ['x'], [], 7, null, { [API]: 1 }),
    sub: claim('user-1', '', 1),
    client_id: claim('app-b', 1),
    jti: claim('j-1', null),
    scope: claim('openid', '', 1),
    sid: claim('sid-1', ''),
    iat: time(T),
    nbf: fc.option(time(T), { nil: undefined }),
    exp: time(T + 300),
  });

  it('refuses or accepts every claim set alike, with jose’s code, claim, message and offset', async () => {
    await fc.assert(
      fc.asyncProperty(claimSets, fc.constantFrom(0, 60, 300), async (claimSet, clockToleranceSec) => {
        const token = signed(HEADER, claimSet);
        const outcomes = await Promise.all(
          (Object.keys(PATHS) as Path[]).map(async (path) => {
            try {
              await verifyAccessToken(token, {
                issuer: ISSUER,
                audience: API,
                keySet: PATHS[path],
                clockToleranceSec,
                now: () => NOW_MS,
              });
              return 'accepted';
            } catch (error) {
              const { code, claim, message, issuedAtOffsetSec } = error as TokenVerificationError;
              return { code, claim, message, issuedAtOffsetSec };
            }
          }),
        );
        expect(outcomes[0]).toEqual(outcomes[1]);
      }),
      { numRuns: 300 },
    );
  });
});
