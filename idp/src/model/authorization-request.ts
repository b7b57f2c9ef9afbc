/**
 * The validated authorization request (OIDC Core §3.1.2.1, RFC 6749 §4.1.1): built by the protocol
 * layer (protocol/authorization-request.ts), kept by the store with its interaction while the person
 * signs in. Types only, so both layers may import it.
 */

export type Prompt = 'none' | 'login' | 'consent' | 'select_account';

/** A request that passed every check; stored with an interaction while the person signs in. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  scope: string[];
  state?: string;
  nonce?: string;
  codeChallenge: string;
  resource: string;
  prompt: Prompt[];
  /** Seconds (OIDC Core §3.1.2.1). */
  maxAge?: number;
  /**
   * The weakest of the `acr_values` the issuer knows (OIDC Core §3.1.2.1: any one of them met is
   * enough; unknown ones are ignored), if any.
   */
  acr?: string;
}
