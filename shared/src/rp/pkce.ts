/**
 * PKCE (RFC 7636) with Web Crypto only, so it runs in browsers as well as on servers.
 */
import { base64url } from 'jose';
import { randomToken } from './random.js';

// RFC 7636 §4.1: code-verifier = 43*128unreserved
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * A new PKCE code verifier: 32 random bytes base64url-encoded into 43 characters, as RFC 7636 §4.1
 * recommends.
 */
export function generateCodeVerifier(): string {
  return randomToken();
}

/**
 * The S256 code challenge of a verifier: BASE64URL(SHA-256(ASCII(code_verifier))) (RFC 7636 §4.2).
 * `plain` is never offered (RFC 9700 §2.1.1).
 *
 * @example
 * ```ts
 * await computeCodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
 * // 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' (RFC 7636 Appendix B)
 * ```
 */
export async function computeCodeChallenge(codeVerifier: string): Promise<string> {
  if (typeof codeVerifier !== 'string' || !CODE_VERIFIER.test(codeVerifier)) {
    throw new TypeError('a code verifier is 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)');
  }
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(codeVerifier));
  return base64url.encode(new Uint8Array(digest));
}
