import type { FetchLike } from '../http/fetch-like.js';
import { readBoundedText } from '../http/read-bounded.js';
import { CodeExchangeError } from './errors.js';
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
  /** The same `redirect_uri` as in the request (RFC 6749 §4.1.3). */
  redirectUri: string;
  /** RFC 8707 resource indicator(s) for the access token. */
  resource?: string | readonly string[];
  /** The HTTP client; `globalThis.fetch` by default (server code may pass `createLoopbackFetch()`). */
  fetch?: FetchLike;
  /** Time limit of the request, in milliseconds (default 10 000). */
  timeoutMs?: number;
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

/** RFC 6749 Appendix B / §2.3.1: application/x-www-form-urlencoded, as URLSearchParams writes it. */
const formEncode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);

/** Base64 of an ASCII string (a form-encoded string is ASCII), without Node's Buffer. */
const base64Ascii = (value: string): string => btoa(value);

const MAX_RESPONSE_BYTES = 64 * 1024;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

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
  const redirectUri = requireAbsoluteUri('redirectUri', options.redirectUri);
  const resources = resourceList(options.resource);
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive number');

  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    code_verifier: codeVerifier,
  });
  for (const resource of resources) body.append('resource', resource);
  const headers = new Headers({
    'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
    accept: 'application/json',
  });
  if (clientSecret === undefined) body.set('client_id', clientId);
  else headers.set('authorization', `Basic ${base64Ascii(`${formEncode(clientId)}:${formEncode(clientSecret)}`)}`);

  let status: number;
  let document: unknown;
  try {
    const response = await fetchImpl(tokenEndpoint.href, {
      method: 'POST',
      headers,
      body: body.toString(),
      redirect: 'manual', // a token endpoint does not redirect; following could send the code elsewhere
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = response.status;
    const text = await readBoundedText(response, MAX_RESPONSE_BYTES);
    document = text === '' ? undefined : JSON.parse(text);
  } catch (cause) {
    throw new CodeExchangeError(
      'ERR_CODE_EXCHANGE_RESPONSE',
      'the token endpoint could not be reached or did not answer JSON',
      { cause },
    );
  }

  if (status !== 200) {
    // RFC 6749 §5.2: an error response is JSON with an `error` member, usually with 400 or 401.
    if (isObject(document) && typeof document.error === 'string') {
      const description = typeof document.error_description === 'string' ? document.error_description : undefined;
      throw new CodeExchangeError(
        'ERR_CODE_EXCHANGE_REJECTED',
        `the token endpoint refused the code: ${document.error}`,
        {
          error: document.error,
          status,
          ...(description === undefined ? {} : { errorDescription: description }),
        },
      );
    }
    throw new CodeExchangeError('ERR_CODE_EXCHANGE_RESPONSE', `the token endpoint answered HTTP ${status}`, { status });
  }

  const malformed = (what: string) =>
    new CodeExchangeError('ERR_CODE_EXCHANGE_RESPONSE', `the token response ${what}`, { status });
  if (!isObject(document)) throw malformed('is not a JSON object');
  if (typeof document.access_token !== 'string' || document.access_token === '') throw malformed('has no access_token');
  // RFC 6749 §5.1: token_type is case-insensitive; §7.1: a client must not use a token type it does not understand.
  if (typeof document.token_type !== 'string' || document.token_type.toLowerCase() !== 'bearer')
    throw malformed('is not of token_type Bearer');
  if (document.expires_in !== undefined && (typeof document.expires_in !== 'number' || !(document.expires_in >= 0))) {
    throw malformed('has an invalid expires_in');
  }
  for (const member of ['refresh_token', 'id_token', 'scope']) {
    if (document[member] !== undefined && typeof document[member] !== 'string')
      throw malformed(`has a non-string ${member}`);
  }
  return document as TokenResponse;
}
