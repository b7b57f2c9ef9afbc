import type { FetchLike } from '../http/fetch-like.js';
import type { DPoPProver } from './dpop-prover.js';
import { CodeExchangeError } from './errors.js';
import { postTokenRequest, requireTimeout } from './token-endpoint.js';
import { optionalString, requireAbsoluteUri, requireHttpUrl, requireString, resourceList } from './url-options.js';

/** What {@link exchangeCode} sends to the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5). */
export interface CodeExchangeOptions {
  /** The issuer's `token_endpoint`. */
  tokenEndpoint: string | URL;
  /** This client's `client_id`. */
  clientId: string;
  /** A confidential client's secret, sent with client_secret_basic. Omit for a public client. */
  clientSecret?: string;
  /** The authorization code from validateAuthorizationResponse. */
  code: string;
  /** The PKCE verifier created with the request. */
  codeVerifier: string;
  /**
   * The same `redirect_uri` as in the authorization request (RFC 6749 §4.1.3). Omit it for a code
   * that came without one — a FedCM assertion's (fedcm.ts): §4.1.3 asks for it only when the
   * request had one, and Tessera refuses it with such a code.
   */
  redirectUri?: string;
  /** RFC 8707 resource indicator(s) for the access token. */
  resource?: string | readonly string[];
  /** The HTTP client; `globalThis.fetch` by default (server code may pass `createLoopbackFetch()`). */
  fetch?: FetchLike;
  /** Time limit of the request, in milliseconds (default 10 000). */
  timeoutMs?: number;
  /**
   * Binds the tokens to this client's key (RFC 9449 §5, see createDPoPProver): the request carries a
   * proof, a `use_dpop_nonce` refusal is answered once with the issuer's nonce, and the tokens come
   * back with token_type DPoP, to be sent with proofs from the same prover.
   */
  dpop?: DPoPProver;
}

/** A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3). Verify `id_token` with verifyIdToken. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  [extra: string]: unknown;
}

/**
 * Exchanges an authorization code for tokens. A confidential client authenticates with
 * client_secret_basic, id and secret each form-urlencoded before base64 (RFC 6749 §2.3.1); a
 * public client sends `client_id` in the body (RFC 6749 §4.1.3). The code verifier always goes
 * along (RFC 7636 §4.5). The response is checked for shape only: verify `id_token` with
 * verifyIdToken (and the request's nonce) before trusting who signed in.
 *
 * @example
 * ```ts
 * const tokens = await exchangeCode({
 *   tokenEndpoint: 'https://idp.example.com/token',
 *   clientId: 'app-a',
 *   clientSecret: process.env.APP_A_SECRET,
 *   code,
 *   codeVerifier: session.codeVerifier,
 *   redirectUri: 'https://app-a.example.com/callback',
 * });
 * const { claims } = await verifyIdToken(tokens.id_token!, {
 *   issuer,
 *   audience: 'app-a',
 *   keySet,
 *   nonce: session.nonce,
 * });
 * ```
 */
export async function exchangeCode(options: CodeExchangeOptions): Promise<TokenResponse> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const tokenEndpoint = requireHttpUrl('tokenEndpoint', options.tokenEndpoint);
  const clientId = requireString('clientId', options.clientId);
  const clientSecret = optionalString('clientSecret', options.clientSecret);
  const code = requireString('code', options.code);
  const codeVerifier = requireString('codeVerifier', options.codeVerifier);
  const redirectUri =
    options.redirectUri === undefined ? undefined : requireAbsoluteUri('redirectUri', options.redirectUri);
  const resources = resourceList(options.resource);
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const timeoutMs = requireTimeout(options.timeoutMs ?? 10_000);

  const body = new URLSearchParams({ grant_type: 'authorization_code', code });
  if (redirectUri !== undefined) body.set('redirect_uri', redirectUri);
  body.set('code_verifier', codeVerifier);
  for (const resource of resources) body.append('resource', resource);
  const document = await postTokenRequest(
    { tokenEndpoint, clientId, clientSecret, body, fetch: fetchImpl, timeoutMs, dpop: options.dpop },
    {
      unreachable: (cause) =>
        new CodeExchangeError(
          'ERR_CODE_EXCHANGE_RESPONSE',
          'the token endpoint could not be reached or did not answer JSON',
          { cause },
        ),
      rejected: ({ error, ...details }) =>
        new CodeExchangeError('ERR_CODE_EXCHANGE_REJECTED', `the token endpoint refused the code: ${error}`, {
          error,
          ...details,
        }),
      malformed: (message, status) => new CodeExchangeError('ERR_CODE_EXCHANGE_RESPONSE', message, { status }),
    },
  );
  return document as TokenResponse;
}
