/**
 * The signing key ring. Keys are generated with jose, their private part encrypted with the
 * key-encryption key before it is stored, imported once at start-up and reused for every
 * signature. The JWKS document and its ETag are computed when the ring changes, not per request.
 */
import { createHash } from 'node:crypto';
import {
  SignJWT,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
  type JWTVerifyResult,
  type KeyObject,
} from 'jose';
import type { SigningAlgorithm } from '@tessera/shared';
import type { Clock } from '../clock.js';
import { ConfigError } from '../config.js';
import { decryptWithKek, encryptWithKek } from '../crypto/key-encryption.js';
import type { SigningKeyRepository, StoredSigningKey } from '../store/signing-keys.js';

type Key = CryptoKey | KeyObject;

interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: Key;
}

/** Public members only (RFC 7517 §4, RFC 7518 §6): never d, p, q, dp, dq, qi or k. */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

function publicJwkOf(jwk: JWK): JWK {
  const out: JWK = {};
  for (const m of PUBLIC_MEMBERS) if (jwk[m] !== undefined) out[m] = jwk[m];
  return out;
}

export interface Jwks {
  /** The serialized JWKS document. */
  body: string;
  /** A strong ETag of the body (RFC 9110 §8.8.3). */
  etag: string;
}

export class KeyRing {
  private signing!: SigningKey;
  private verifying = new Map<string, { alg: string; key: Key }>();
  private document!: Jwks;

  private constructor(
    private readonly repo: SigningKeyRepository,
    private readonly kek: Uint8Array,
    private readonly clock: Clock,
  ) {}

  /** Loads the ring, generating and storing a first key when there is none. */
  static async open(opts: { repo: SigningKeyRepository; kek: Uint8Array; clock: Clock; algorithm: SigningAlgorithm }): Promise<KeyRing> {
    const ring = new KeyRing(opts.repo, opts.kek, opts.clock);
    let stored = await opts.repo.listPublished();
    if (!stored.some((k) => k.state === 'current')) {
      await ring.generate(opts.algorithm, 'current');
      stored = await opts.repo.listPublished();
    }
    await ring.load(stored);
    return ring;
  }

  /** Generates a key pair, encrypts the private part and stores it in `state`. */
  async generate(alg: SigningAlgorithm, state: 'current' | 'next'): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(alg, {
      extractable: true,
      ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
      ...(alg === 'RS256' ? { modulusLength: 2048 } : {}),
    });
    const publicJwk = publicJwkOf(await exportJWK(publicKey));
    // RFC 7638: the kid is the SHA-256 thumbprint of the required public members.
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    const privateJwk = await exportJWK(privateKey);
    const now = this.clock.now();
    await this.repo.create({
      kid,
      alg,
      state,
      publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
      privateJwkEncrypted: await encryptWithKek(JSON.stringify(privateJwk), this.kek),
      createdAt: now,
      activatedAt: state === 'current' ? now : null,
      retiredAt: null,
    });
    return kid;
  }

  private async load(stored: StoredSigningKey[]): Promise<void> {
    const verifying = new Map<string, { alg: string; key: Key }>();
    let signing: SigningKey | undefined;
    for (const k of stored) {
      verifying.set(k.kid, { alg: k.alg, key: (await importJWK(k.publicJwk as JWK, k.alg)) as Key });
      if (k.state === 'current' && !signing) {
        let privateJwk: JWK;
        try {
          privateJwk = JSON.parse(await decryptWithKek(k.privateJwkEncrypted, this.kek)) as JWK;
        } catch (cause) {
          throw new ConfigError('TESSERA_KEY_ENCRYPTION_KEY', `cannot decrypt signing key ${k.kid}: this is not the key it was stored with`, { cause });
        }
        signing = { kid: k.kid, alg: k.alg as SigningAlgorithm, privateKey: (await importJWK(privateJwk, k.alg)) as Key };
      }
    }
    if (!signing) throw new Error('the key ring has no current signing key');
    const body = JSON.stringify({ keys: stored.map((k) => k.publicJwk) });
    this.signing = signing;
    this.verifying = verifying;
    this.document = { body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` };
  }

  /** The JWKS document served at jwks_uri. */
  get jwks(): Jwks {
    return this.document;
  }

  /** The algorithm new tokens are signed with. */
  get algorithm(): SigningAlgorithm {
    return this.signing.alg;
  }

  /** Every algorithm of a published key (for discovery). */
  get algorithms(): string[] {
    return [...new Set([this.signing.alg, ...[...this.verifying.values()].map((k) => k.alg)])];
  }

  /** Signs a JWT with the current key; `typ` goes in the protected header. */
  async sign(claims: JWTPayload, typ: string): Promise<string> {
    const { kid, alg, privateKey } = this.signing;
    return new SignJWT(claims).setProtectedHeader({ alg, kid, typ }).sign(privateKey);
  }

  /**
   * Verifies a JWT signed by this issuer. The key is chosen by `kid` among our own keys and
   * the algorithm comes from that key, never from the token (RFC 8725 §2.1, §3.1).
   */
  async verify(token: string, options: { issuer: string; typ: string; audience?: string; ignoreExpiry?: boolean }): Promise<JWTVerifyResult> {
    return jwtVerify(
      token,
      (header) => {
        const k = header.kid === undefined ? undefined : this.verifying.get(header.kid);
        if (!k || header.alg !== k.alg) throw new Error('unknown key or algorithm');
        return k.key;
      },
      {
        issuer: options.issuer,
        typ: options.typ,
        algorithms: [...new Set([...this.verifying.values()].map((k) => k.alg))],
        currentDate: new Date(this.clock.now()),
        ...(options.audience ? { audience: options.audience } : {}),
        // An id_token_hint at logout may have expired (RP-Initiated Logout 1.0 §2).
        ...(options.ignoreExpiry ? { clockTolerance: 100 * 365 * 86400 } : {}),
      },
    );
  }

  /** Hash for `at_hash` (OIDC Core §3.1.3.6): the hash of the signing algorithm. */
  tokenHash(token: string): string {
    const hash = this.signing.alg === 'EdDSA' ? 'sha512' : 'sha256';
    const d = createHash(hash).update(token, 'ascii').digest();
    return d.subarray(0, d.length / 2).toString('base64url');
  }
}
