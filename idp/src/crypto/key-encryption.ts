/**
 * Encryption of private signing keys at rest: compact JWE (RFC 7516) with direct use of the
 * 256-bit key-encryption key and AES-256-GCM, so a copy of the database alone signs nothing.
 */
import { CompactEncrypt, compactDecrypt } from 'jose';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function encryptWithKek(plaintext: string, kek: Uint8Array): Promise<string> {
  return new CompactEncrypt(encoder.encode(plaintext)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(kek);
}

export async function decryptWithKek(jwe: string, kek: Uint8Array): Promise<string> {
  const { plaintext } = await compactDecrypt(jwe, kek, {
    keyManagementAlgorithms: ['dir'],
    contentEncryptionAlgorithms: ['A256GCM'],
  });
  return decoder.decode(plaintext);
}
