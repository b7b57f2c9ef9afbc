/**
 * Making and opening signing keys: generated with jose, the private part encrypted with the
 * key-encryption key before it is stored, and imported (never re-parsed per signature).
 */
import { createPrivateKey, type JsonWebKeyInput } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
  type KeyObject,
} from 'jose';
import type { SigningAlgorithm } from '@tessera/shared';
import { ConfigError } from '@tessera/shared';
import { decryptWithKek, encryptWithKek } from '../crypto/key-encryption.js';
import type { SigningKeyState, StoredSigningKey } from '../store/signing-keys.js';

export type Key = CryptoKey | KeyObject;

/** Public members only (RFC 7517 §4, RFC 7518 §6): never d, p, q, dp, dq, qi or k. */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

function publicJwkOf(jwk: JWK): JWK {
  const out: JWK = {};
  for (const m of PUBLIC_MEMBERS) if (jwk[m] !== undefined) out[m] = jwk[m];
  return out;
}

/** A new key pair of `alg`, ready to store in `state`; its private part encrypted with `kek`. */
export async function generateSigningKey(
  alg: SigningAlgorithm,
  state: SigningKeyState,
  kek: Uint8Array,
  now: number,
): Promise<StoredSigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
    ...(alg === 'RS256' ? { modulusLength: 2048 } : {}),
  });
  const publicJwk = publicJwkOf(await exportJWK(publicKey));
  // RFC 7638: the kid is the SHA-256 thumbprint of the required public members.
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return {
    kid,
    alg,
    state,
    publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
    privateJwkEncrypted: await encryptWithKek(JSON.stringify(await exportJWK(privateKey)), kek),
    createdAt: now,
    activatedAt: state === 'current' ? now : null,
    retiredAt: null,
  };
}

export async function importPublicKey(k: StoredSigningKey): Promise<Key> {
  return (await importJWK(k.publicJwk as JWK, k.alg)) as Key;
}

/**
 * Decrypts and imports the private key, as a node:crypto KeyObject: signing through node:crypto
 * costs about a fifth of signing through Web Crypto, and the issuer signs two JWTs per grant.
 * A wrong key-encryption key is a configuration error.
 */
export async function importPrivateKey(k: StoredSigningKey, kek: Uint8Array): Promise<KeyObject> {
  let privateJwk: JWK;
  try {
    privateJwk = JSON.parse(await decryptWithKek(k.privateJwkEncrypted, kek)) as JWK;
  } catch (cause) {
    throw new ConfigError(
      'TESSERA_KEY_ENCRYPTION_KEY',
      `cannot decrypt signing key ${k.kid}: this is not the key it was stored with`,
      { cause },
    );
  }
  return createPrivateKey({ key: privateJwk as JsonWebKeyInput['key'], format: 'jwk' });
}
