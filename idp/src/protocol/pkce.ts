/** PKCE (RFC 7636) with S256 only; `plain` is refused (RFC 9700 §2.1.1). */
import { createHash } from 'node:crypto';
import { safeEqual } from '../crypto/digest.js';

/** RFC 7636 §4.1: 43–128 characters of the unreserved set. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** A base64url SHA-256 digest is 43 characters. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export const isValidCodeChallenge = (challenge: string): boolean => CHALLENGE.test(challenge);

/** RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge. */
export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  return safeEqual(createHash('sha256').update(verifier, 'ascii').digest('base64url'), challenge);
}
