import { base64url } from 'jose';

/** 32 bytes from the Web Crypto CSPRNG, base64url-encoded: 43 characters, 256 bits of entropy. */
export function randomToken(): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
}
