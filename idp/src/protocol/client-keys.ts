/**
 * The public keys of clients that authenticate with private_key_jwt (RFC 7523 §2.2, OIDC Core §9):
 * what may be registered, and the key sets assertions are verified with — an inline JWKS imported
 * once, a `jwks_uri` fetched through the shared kit's JWKS cache (Cache-Control within bounds,
 * one refetch per cooldown on an unknown `kid`, concurrent fetches merged).
 */
import { importJWK, type JWK } from 'jose';
import {
  createLocalKeySet,
  createRemoteKeySet,
  isLoopbackHost,
  VERIFICATION_ALGORITHMS,
  type Clock,
  type FetchLike,
  type KeySet,
} from '@tessera/shared';
import type { Client, ClientJwks } from '../store/index.js';

/**
 * The JWS algorithms a client assertion may be signed with: the asymmetric ones the shared key
 * import binds a public key to. Never `none`, never HMAC: a client of this kind has no shared
 * secret, and an HS256 "signature" keyed with its public JWK would be forgeable by anyone
 * (RFC 8725 §2.1, §3.1).
 */
export const CLIENT_ASSERTION_ALGORITHMS: readonly string[] = [...VERIFICATION_ALGORITHMS];

/** Most keys a client may register inline: a current key and a few for rotation. */
export const MAX_CLIENT_KEYS = 10;

// Members only a private or symmetric JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];
const CURVES: Readonly<Record<string, readonly string[]>> = {
  EC: ['P-256', 'P-384', 'P-521'],
  OKP: ['Ed25519'],
};
const ALGORITHMS_OF: Readonly<Record<string, readonly string[]>> = {
  'P-256': ['ES256'],
  'P-384': ['ES384'],
  'P-521': ['ES512'],
  Ed25519: ['EdDSA', 'Ed25519'],
  RSA: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
};
const DEFAULT_ALGORITHM: Readonly<Record<string, string>> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
  Ed25519: 'EdDSA',
  RSA: 'RS256',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why one registered JWK cannot verify client assertions, or undefined when it can. */
async function keyProblem(jwk: Record<string, unknown>): Promise<string | undefined> {
  if (typeof jwk.kid !== 'string' || jwk.kid === '' || jwk.kid.length > 200)
    return 'needs a kid (1–200 characters): assertions name their key by it';
  const leaked = PRIVATE_MEMBERS.filter((m) => m in jwk);
  if (leaked.length > 0) return `is not a public key (it has ${leaked.join(', ')}): register the public half only`;
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'must be a signing key (use "sig")';
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify')))
    return 'key_ops must include "verify"';
  const kty = jwk.kty;
  if (kty !== 'EC' && kty !== 'OKP' && kty !== 'RSA') return 'kty must be EC, OKP or RSA';
  const shape = kty === 'RSA' ? 'RSA' : typeof jwk.crv === 'string' ? jwk.crv : '';
  if (kty !== 'RSA' && !CURVES[kty]!.includes(shape)) return `crv must be one of ${CURVES[kty]!.join(', ')}`;
  const alg = jwk.alg ?? DEFAULT_ALGORITHM[shape];
  if (typeof alg !== 'string' || !ALGORITHMS_OF[shape]!.includes(alg))
    return `alg must be one of ${ALGORITHMS_OF[shape]!.join(', ')} for this key`;
  let key: CryptoKey | Uint8Array;
  try {
    key = await importJWK(jwk as JWK, alg);
  } catch (e) {
    return `cannot be imported (${e instanceof Error ? e.message : String(e)})`;
  }
  const { modulusLength } = (key as CryptoKey).algorithm as Partial<RsaHashedKeyAlgorithm>;
  if (modulusLength !== undefined && modulusLength < 2048) return 'RSA keys must be 2048 bits or more (RFC 7518 §3.3)';
  return undefined;
}

/**
 * Why `jwks` cannot be registered as a client's keys, or undefined when it can: a JWK Set
 * (RFC 7517 §5) of 1–10 public signing keys, each with a unique `kid`, of a type and algorithm
 * this issuer accepts.
 */
export async function clientJwksProblem(jwks: unknown): Promise<string | undefined> {
  if (!isObject(jwks) || !Array.isArray(jwks.keys)) return 'is not a JWK Set (an object with a "keys" array)';
  if (jwks.keys.length === 0 || jwks.keys.length > MAX_CLIENT_KEYS) return `must hold 1–${MAX_CLIENT_KEYS} keys`;
  const kids = new Set<string>();
  for (const [i, jwk] of jwks.keys.entries()) {
    if (!isObject(jwk)) return `key ${i} is not a JWK object`;
    const problem = await keyProblem(jwk);
    if (problem) return `key ${typeof jwk.kid === 'string' ? jwk.kid : i} ${problem}`;
    if (kids.has(jwk.kid as string)) return `kid ${String(jwk.kid)} is used twice`;
    kids.add(jwk.kid as string);
  }
  return undefined;
}

/**
 * Why `uri` cannot be a client's `jwks_uri`, or undefined when it can: absolute, https unless the
 * host is loopback (development; as for redirect URIs, RFC 8252 §7.3), no credentials, no fragment.
 */
export function jwksUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (uri.includes('#')) return 'must not contain a fragment';
  if (url.username || url.password) return 'must not contain credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:')
    return isLoopbackHost(url.hostname) ? undefined : 'must use https unless the host is loopback';
  return 'must use https (or http on a loopback host)';
}

/** Whether `client` authenticates with private_key_jwt: it registered keys instead of a secret. */
export const usesPrivateKeyJwt = (client: Client): boolean => client.jwks !== null || client.jwksUri !== null;

/** The OIDC Dynamic Client Registration §2 `token_endpoint_auth_method` of a registered client. */
export function tokenEndpointAuthMethod(client: Client): 'none' | 'private_key_jwt' | 'client_secret_basic' {
  if (client.type === 'public') return 'none';
  return usesPrivateKeyJwt(client) ? 'private_key_jwt' : 'client_secret_basic';
}

/** How a client's `jwks_uri` is fetched and cached. */
export interface ClientKeySetOptions {
  fetch: FetchLike;
  clock: Clock;
}

/** Most clients whose key sets are kept at once; the oldest goes first. */
const MAX_CACHED_KEY_SETS = 1000;

/**
 * The key sets of private_key_jwt clients, made once per client and registration. A `jwks_uri` is
 * fetched at first use; afterwards fresh for its Cache-Control max-age, bounded below by the
 * cooldown (30 s, which also limits refetches for unknown `kid`s and while the client's server is
 * down) and above by an hour, so a key the client removes stops working within the hour. A set
 * that cannot be refetched is used for an hour more at most.
 */
export class ClientKeySets {
  readonly #sets = new Map<string, { source: string; keySet: Promise<KeySet> }>();
  readonly #options: ClientKeySetOptions;

  constructor(options: ClientKeySetOptions) {
    this.#options = options;
  }

  /** The key set `client` signs with; undefined for a client that registered none. */
  keySetOf(client: Client): Promise<KeySet> | undefined {
    const source = sourceOf(client.jwks, client.jwksUri);
    if (source === undefined) return undefined;
    const known = this.#sets.get(client.id);
    if (known?.source === source) return known.keySet;
    const keySet = client.jwksUri
      ? Promise.resolve<KeySet>(
          createRemoteKeySet(client.jwksUri, {
            fetch: this.#options.fetch,
            now: () => this.#options.clock.now(),
            maxAgeCapSec: 3600,
            maxStaleSec: 3600,
            maxResponseBytes: 64 * 1024,
          }),
        )
      : createLocalKeySet(client.jwks as ClientJwks);
    this.#sets.delete(client.id);
    if (this.#sets.size >= MAX_CACHED_KEY_SETS) this.#sets.delete(this.#sets.keys().next().value!);
    this.#sets.set(client.id, { source, keySet });
    return keySet;
  }
}

function sourceOf(jwks: ClientJwks | null, jwksUri: string | null): string | undefined {
  if (jwksUri !== null) return `uri ${jwksUri}`;
  if (jwks !== null) return `jwks ${JSON.stringify(jwks)}`;
  return undefined;
}
