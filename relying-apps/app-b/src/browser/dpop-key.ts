/**
 * The key this page's tokens are bound to (RFC 9449): an ECDSA P-256 key pair made when the page
 * loads, its private half non-extractable. A script injected into the page could read a token
 * from memory, but not the key: the token is then useless anywhere else. Gone with the page, like
 * the tokens (token-memory.ts), so every page load binds its own sign-in to a key of its own.
 */
import { createDPoPProver, type DPoPProver } from '@tessera/shared';

let prover: Promise<DPoPProver> | undefined;

export function pageDPoPProver(): Promise<DPoPProver> {
  prover ??= createDPoPProver();
  return prover;
}
