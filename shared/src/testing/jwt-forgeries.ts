/**
 * The attacker's toolkit for the RFC 8725 (JWT Best Current Practices) batteries: the verifiers'
 * own (shared/test/attacks), app A's callback and app B's API. Each forgery starts from a genuine
 * token of the issuer and names the kind of refusal it must meet; each battery says what that
 * refusal looks like where it tests (an error code, a 401 description, a failed sign-in page).
 */
import { SignJWT, base64url, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';

export const nowSec = (): number => Math.floor(Date.now() / 1000);

/** One part of a compact JWS: base64url of the JSON. */
export const encodeSegment = (value: unknown): string => base64url.encode(JSON.stringify(value));

/** The claims of a compact JWS, unverified. */
export const decodePayload = (token: string): JWTPayload =>
  JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1] ?? ''))) as JWTPayload;

/** Changes to a claim set: a value replaces the claim, `undefined` removes it. */
export type ClaimChanges = Readonly<Record<string, unknown>>;

/** `claims` with `changes` applied (a JWT header takes them just as well). */
export function withClaims<T extends object>(claims: T, changes: ClaimChanges): T {
  const merged: Record<string, unknown> = { ...claims, ...changes };
  for (const [claim, value] of Object.entries(merged)) if (value === undefined) delete merged[claim];
  return merged as T;
}

/** Replaces one of the three parts of a compact JWS. */
export function withPart(token: string, index: 0 | 1 | 2, part: string): string {
  const parts = token.split('.');
  parts[index] = part;
  return parts.join('.');
}

/** Flips one character in the middle of the signature: still base64url, no longer the signature. */
export function flipSignature(token: string): string {
  const signature = token.split('.')[2] ?? '';
  const i = Math.floor(signature.length / 2);
  return withPart(token, 2, signature.slice(0, i) + (signature[i] === 'A' ? 'B' : 'A') + signature.slice(i + 1));
}

/** The attacker's own keys. */
export interface Attacker {
  es256: CryptoKey;
  /** The public half of `es256`, for embedded `jwk` headers and a foreign JWKS. */
  es256Jwk: JWK;
  es384: CryptoKey;
  rs256: CryptoKey;
}

export async function createAttacker(): Promise<Attacker> {
  const es256 = await generateKeyPair('ES256', { extractable: true });
  return {
    es256: es256.privateKey,
    es256Jwk: await exportJWK(es256.publicKey),
    es384: (await generateKeyPair('ES384')).privateKey,
    rs256: (await generateKeyPair('RS256')).privateKey,
  };
}

/** Signs `payload` with any key and any header (jose checks only that alg fits the key). */
export const signedWith = (key: CryptoKey | Uint8Array, header: Record<string, unknown>, payload: JWTPayload) =>
  new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key);

/** What a forgery is made from. */
export interface ForgeryMaterial {
  /** A genuine token of the issuer, of the kind under test. */
  genuine: string;
  /** The typ header the issuer sets on that kind of token (undefined: none). */
  typ: string | undefined;
  /** The issuer's current key, as its JWKS publishes it. */
  issuerJwk: JWK & { kid: string };
  /** Signs as the issuer does (its key, alg, kid and this kind's typ): a compromised or careless issuer. */
  signAsIssuer(payload: JWTPayload): Promise<string>;
  attacker: Attacker;
  /** A listener the attacker controls: `jku` and `x5u` point at it, and it must never be asked. */
  foreignUrl: string;
}

/** The refusal a forgery must meet, named after the rule it breaks. */
export type Refusal = 'alg' | 'signature' | 'kid' | 'issuer' | 'audience' | 'expired' | 'notYet';

export interface Forgery {
  /** What is forged, and the section the refusal rests on. */
  name: string;
  refusal: Refusal;
  forge(m: ForgeryMaterial): Promise<string>;
}

const typ = (m: ForgeryMaterial) => (m.typ === undefined ? {} : { typ: m.typ });
const attackerSigned = (m: ForgeryMaterial, header: Record<string, unknown>) =>
  signedWith(m.attacker.es256, { alg: 'ES256', ...typ(m), ...header }, decodePayload(m.genuine));
const reissued = (m: ForgeryMaterial, changes: ClaimChanges) =>
  m.signAsIssuer(withClaims(decodePayload(m.genuine), changes));

/** Forgeries every verifier of the issuer's tokens must refuse, whatever the kind of token. */
export const RFC8725_FORGERIES: readonly Forgery[] = [
  {
    name: 'alg none (RFC 8725 §2.1, §3.1)',
    refusal: 'alg',
    forge: async (m) =>
      `${encodeSegment({ alg: 'none', kid: m.issuerJwk.kid, ...typ(m) })}.${m.genuine.split('.')[1]}.`,
  },
  {
    name: 'HS256 keyed with the issuer’s public JWK (RFC 8725 §2.1, §3.1)',
    refusal: 'alg',
    forge: (m) =>
      signedWith(
        new TextEncoder().encode(JSON.stringify(m.issuerJwk)),
        { alg: 'HS256', kid: m.issuerJwk.kid, ...typ(m) },
        decodePayload(m.genuine),
      ),
  },
  {
    name: 'an ES384 header on the issuer’s ES256 key (RFC 8725 §3.1)',
    refusal: 'alg',
    forge: (m) =>
      signedWith(m.attacker.es384, { alg: 'ES384', kid: m.issuerJwk.kid, ...typ(m) }, decodePayload(m.genuine)),
  },
  {
    name: 'an RS256 header on the issuer’s ES256 key (RFC 8725 §3.1)',
    refusal: 'alg',
    forge: (m) =>
      signedWith(m.attacker.rs256, { alg: 'RS256', kid: m.issuerJwk.kid, ...typ(m) }, decodePayload(m.genuine)),
  },
  {
    name: 'a tampered header (RFC 7515 §5.2)',
    refusal: 'signature',
    forge: async (m) =>
      withPart(m.genuine, 0, encodeSegment({ alg: 'ES256', kid: m.issuerJwk.kid, ...typ(m), cty: 'x' })),
  },
  {
    name: 'a tampered payload (RFC 7515 §5.2)',
    refusal: 'signature',
    forge: async (m) =>
      withPart(m.genuine, 1, encodeSegment(withClaims(decodePayload(m.genuine), { sub: 'someone-else' }))),
  },
  {
    name: 'a tampered signature (RFC 7515 §5.2)',
    refusal: 'signature',
    forge: async (m) => flipSignature(m.genuine),
  },
  {
    name: 'an unknown kid (RFC 8725 §3.10)',
    refusal: 'kid',
    forge: (m) => attackerSigned(m, { kid: 'attacker-key-1' }),
  },
  {
    name: 'a kid with path characters (RFC 8725 §3.10)',
    refusal: 'kid',
    forge: (m) => attackerSigned(m, { kid: '../../etc/passwd' }),
  },
  {
    name: 'a kid with SQL characters (RFC 8725 §3.10)',
    refusal: 'kid',
    forge: (m) => attackerSigned(m, { kid: "' OR 1=1 --" }),
  },
  {
    name: 'an embedded jwk header carrying the attacker’s key (RFC 8725 §3.10, RFC 7515 §4.1.3)',
    refusal: 'kid',
    forge: (m) => attackerSigned(m, { jwk: m.attacker.es256Jwk }),
  },
  {
    name: 'an embedded jwk header under the issuer’s kid (RFC 8725 §3.10, RFC 7515 §4.1.3)',
    refusal: 'signature',
    forge: (m) => attackerSigned(m, { kid: m.issuerJwk.kid, jwk: m.attacker.es256Jwk }),
  },
  {
    name: 'a jku header to a foreign URL (RFC 8725 §3.10)',
    refusal: 'kid',
    forge: (m) => attackerSigned(m, { kid: 'attacker-jku', jku: `${m.foreignUrl}/jwks` }),
  },
  {
    name: 'a jku header to a foreign URL under the issuer’s kid (RFC 8725 §3.10)',
    refusal: 'signature',
    forge: (m) => attackerSigned(m, { kid: m.issuerJwk.kid, jku: `${m.foreignUrl}/jwks` }),
  },
  {
    name: 'an x5u header to a foreign URL (RFC 8725 §3.10)',
    refusal: 'kid',
    forge: (m) => attackerSigned(m, { kid: 'attacker-x5u', x5u: `${m.foreignUrl}/cert.pem` }),
  },
  {
    name: 'a wrong iss, signed with the issuer’s key (RFC 8725 §3.8)',
    refusal: 'issuer',
    forge: (m) => reissued(m, { iss: 'https://evil.example' }),
  },
  {
    name: 'a wrong aud, signed with the issuer’s key (RFC 8725 §3.9)',
    refusal: 'audience',
    forge: (m) => reissued(m, { aud: 'https://other-api.example' }),
  },
  {
    name: 'a missing aud, signed with the issuer’s key (RFC 8725 §3.9)',
    refusal: 'audience',
    forge: (m) => reissued(m, { aud: undefined }),
  },
  {
    name: 'an expired token, signed with the issuer’s key (RFC 7519 §4.1.4)',
    refusal: 'expired',
    forge: (m) => reissued(m, { iat: nowSec() - 900, exp: nowSec() - 600 }),
  },
  {
    name: 'an nbf in the future, signed with the issuer’s key (RFC 7519 §4.1.5)',
    refusal: 'notYet',
    forge: (m) => reissued(m, { nbf: nowSec() + 600 }),
  },
];
