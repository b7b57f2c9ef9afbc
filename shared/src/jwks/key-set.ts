/**
 * What a verifier needs from a key set, and how a published JWKS becomes that: every key is
 * imported once, bound to exactly one algorithm, and found only by its `kid`.
 */
import { importJWK, type JWK } from 'jose';

/**
 * The asymmetric JWS algorithms a Tessera verifier accepts (RFC 7518 §3.1, RFC 8037 §3.1).
 * No `HS*` (a symmetric key would be the public JWK itself: RFC 8725 §2.1) and never `none`.
 */
export const VERIFICATION_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
] as const;

/** One of {@link VERIFICATION_ALGORITHMS}. */
export type VerificationAlgorithm = (typeof VERIFICATION_ALGORITHMS)[number];

/** A public key ready to verify with: imported once, usable with exactly one algorithm. */
export interface VerificationKey {
  /** The JWK `kid` the key is found by. */
  readonly kid: string;
  /** The only algorithm a token signed with this key may declare (RFC 8725 §3.1). */
  readonly alg: VerificationAlgorithm;
  /** The imported Web Crypto key. */
  readonly key: CryptoKey;
  /**
   * A synchronous check of a JWS signature over `data` with this key and its algorithm, when the
   * platform has one faster than Web Crypto (see `withNodeSignatures` in the Node entry). Without
   * it, jose checks the signature through Web Crypto.
   */
  readonly verifySignature?: (data: Uint8Array, signature: Uint8Array) => boolean;
}

/**
 * A source of verification keys, looked up by `kid` only.
 *
 * `getKey` rejects with a {@link TokenVerificationError} coded `ERR_TOKEN_KID_UNKNOWN` when no key
 * has that `kid`, or `ERR_JWKS_UNAVAILABLE` when the keys cannot be had at all.
 */
export interface KeySet {
  /** The key whose JWK `kid` is `kid`. */
  getKey(kid: string): Promise<VerificationKey>;
  /**
   * The key `getKey(kid)` would resolve to at once, without fetching anything, when the set has it
   * in hand; `undefined` leaves the answer to `getKey`. Optional: it spares a verifier the promise
   * round-trips of `getKey` (a few percent of a verification) for the keys it uses all the time.
   */
  keyInHand?(kid: string): VerificationKey | undefined;
}

const EC_ALGORITHMS: Readonly<Record<string, VerificationAlgorithm>> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
};
const RSA_ALGORITHMS: ReadonlySet<string> = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
// Members that only a private or symmetric JWK carries (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;

/**
 * The one algorithm a published JWK may verify: its `alg` member when present and consistent with
 * its type, otherwise derived from `kty`/`crv` (EC P-256 → ES256, OKP Ed25519 → EdDSA, RSA → RS256).
 * `undefined` for keys a verifier must not use (symmetric, unknown curve, inconsistent `alg`).
 */
function algorithmForJwk(jwk: JWK): VerificationAlgorithm | undefined {
  const declared = jwk.alg;
  if (declared !== undefined && typeof declared !== 'string') return undefined;
  switch (jwk.kty) {
    case 'EC': {
      const derived = typeof jwk.crv === 'string' ? EC_ALGORITHMS[jwk.crv] : undefined;
      // RFC 7518 §3.4: each ES* algorithm is tied to one curve.
      return declared === undefined || declared === derived ? derived : undefined;
    }
    case 'OKP':
      if (jwk.crv !== 'Ed25519') return undefined;
      if (declared === undefined) return 'EdDSA';
      return declared === 'EdDSA' || declared === 'Ed25519' ? (declared as VerificationAlgorithm) : undefined;
    case 'RSA':
      if (declared === undefined) return 'RS256';
      return RSA_ALGORITHMS.has(declared) ? (declared as VerificationAlgorithm) : undefined;
    default:
      return undefined;
  }
}

/** Only the public members of a JWK, in a fixed order: what is imported and what identifies it. */
function publicMembers(jwk: JWK): JWK {
  switch (jwk.kty) {
    case 'EC':
      return members(jwk, ['kty', 'crv', 'x', 'y']);
    case 'OKP':
      return members(jwk, ['kty', 'crv', 'x']);
    default:
      return members(jwk, ['kty', 'n', 'e']);
  }
}

/** The named members of `jwk` that it has, in the order named. */
function members(jwk: JWK, names: readonly (keyof JWK)[]): JWK {
  return Object.fromEntries(names.filter((name) => jwk[name] !== undefined).map((name) => [name, jwk[name]]));
}

/** An imported key and the fingerprint of what it was imported from, so a refetch can reuse it. */
export interface ImportedKey extends VerificationKey {
  readonly source: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Imports the verification keys of a JWKS document (RFC 7517 §5). Keys a verifier cannot use
 * safely are skipped rather than failing the set: an issuer may publish encryption keys or
 * algorithms this verifier does not know. A `kid` published twice is ambiguous and skipped.
 * Keys already imported from identical JWKs in `previous` are reused, not imported again.
 *
 * @throws TypeError when the document is not a JWKS at all.
 */
export async function importKeySet(
  document: unknown,
  previous?: ReadonlyMap<string, ImportedKey>,
): Promise<Map<string, ImportedKey>> {
  if (!isObject(document) || !Array.isArray(document.keys))
    throw new TypeError('not a JWK Set: "keys" must be an array');

  const candidates = new Map<string, { jwk: JWK; alg: VerificationAlgorithm; source: string } | null>();
  for (const entry of document.keys as unknown[]) {
    if (!isObject(entry)) continue;
    const jwk = entry as JWK;
    const kid = jwk.kid;
    if (typeof kid !== 'string' || kid === '') continue; // keys are found by kid only
    if (candidates.has(kid)) {
      candidates.set(kid, null);
      continue;
    }
    if (jwk.use !== undefined && jwk.use !== 'sig') continue; // RFC 7517 §4.2
    // RFC 7517 §4.3
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) continue;
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) continue;
    const alg = algorithmForJwk(jwk);
    if (alg === undefined) continue;
    const members = publicMembers(jwk);
    candidates.set(kid, { jwk: members, alg, source: `${alg} ${JSON.stringify(members)}` });
  }

  const keys = new Map<string, ImportedKey>();
  await Promise.all(
    [...candidates].map(async ([kid, candidate]) => {
      if (candidate === null) return;
      const known = previous?.get(kid);
      if (known !== undefined && known.source === candidate.source) {
        keys.set(kid, known);
        return;
      }
      let key: CryptoKey | Uint8Array;
      try {
        key = await importJWK(candidate.jwk, candidate.alg);
      } catch {
        return; // an unusable key is skipped like an unknown one
      }
      if (key instanceof Uint8Array) return;
      const { modulusLength } = key.algorithm as Partial<RsaHashedKeyAlgorithm>;
      if (modulusLength !== undefined && modulusLength < 2048) return; // RFC 7518 §3.3
      keys.set(kid, { kid, alg: candidate.alg, key, source: candidate.source });
    }),
  );
  return keys;
}
