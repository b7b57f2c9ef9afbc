import { TOKEN_EXCHANGE_GRANT_TYPE, TOKEN_TYPE_IDENTIFIERS } from '../protocol.js';
import type { FetchLike } from '../http/fetch-like.js';
import { TokenExchangeError } from './errors.js';
import { postTokenRequest, requireTimeout } from './token-endpoint.js';
import { requireHttpUrl, requireString, resourceList } from './url-options.js';

/** What {@link exchangeToken} sends to the token endpoint (RFC 8693 §2.1). */
export interface TokenExchangeOptions {
  /** The issuer's `token_endpoint`. */
  tokenEndpoint: string | URL;
  /** This client's `client_id`: the party that will act for the person (the new token's `act`). */
  clientId: string;
  /** The confidential client's secret, sent with client_secret_basic (RFC 8693 §2.1: the client authenticates). */
  clientSecret: string;
  /** The person's access token this client holds (audience: this client's own API). */
  subjectToken: string;
  /** The API the new token is for (RFC 8707 resource indicator; RFC 8693 §2.1 `resource`). */
  resource: string;
  /** Fewer scopes than the subject token's, space-separated; omitted, the issuer keeps them all. */
  scope?: string;
  /** The HTTP client; `globalThis.fetch` by default (server code may pass `createLoopbackFetch()`). */
  fetch?: FetchLike;
  /** Time limit of the request, in milliseconds (default 10 000). */
  timeoutMs?: number;
}

/** A successful token exchange response (RFC 8693 §2.2.1), for an access token. */
export interface TokenExchangeResponse {
  access_token: string;
  issued_token_type: typeof TOKEN_TYPE_IDENTIFIERS.accessToken;
  token_type: string;
  expires_in?: number;
  scope?: string;
  [extra: string]: unknown;
}

/**
 * Exchanges the person's access token this client holds for one for another API (RFC 8693 §2.1),
 * on a confidential client's server: the client authenticates with client_secret_basic, sends the
 * token as `subject_token` of type access_token, and names the API with `resource`. The issuer
 * must have registered the client for that API; its answer says so with `invalid_target`
 * otherwise (a TokenExchangeError, `ERR_TOKEN_EXCHANGE_REJECTED`). The new token is an access
 * token for that API alone, to send there as a bearer token and nowhere else; it is checked here
 * for shape only (the API verifies it).
 *
 * @example
 * ```ts
 * const exchanged = await exchangeToken({
 *   tokenEndpoint: metadata.token_endpoint,
 *   clientId: 'app-a',
 *   clientSecret: process.env.APP_A_CLIENT_SECRET,
 *   subjectToken: session.accessToken,
 *   resource: 'https://app-b.example.com',
 * });
 * await fetch('https://app-b.example.com/api/me', {
 *   headers: { authorization: `Bearer ${exchanged.access_token}` },
 * });
 * ```
 */
export async function exchangeToken(options: TokenExchangeOptions): Promise<TokenExchangeResponse> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const tokenEndpoint = requireHttpUrl('tokenEndpoint', options.tokenEndpoint);
  const clientId = requireString('clientId', options.clientId);
  const clientSecret = requireString('clientSecret', options.clientSecret);
  const subjectToken = requireString('subjectToken', options.subjectToken);
  const [resource] = resourceList(requireString('resource', options.resource));
  const scope = options.scope === undefined ? undefined : requireString('scope', options.scope);
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const timeoutMs = requireTimeout(options.timeoutMs ?? 10_000);

  const body = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
    subject_token: subjectToken,
    subject_token_type: TOKEN_TYPE_IDENTIFIERS.accessToken,
    requested_token_type: TOKEN_TYPE_IDENTIFIERS.accessToken,
    resource: resource!,
  });
  if (scope !== undefined) body.set('scope', scope);
  const document = await postTokenRequest(
    { tokenEndpoint, clientId, clientSecret, body, fetch: fetchImpl, timeoutMs },
    {
      unreachable: (cause) =>
        new TokenExchangeError(
          'ERR_TOKEN_EXCHANGE_RESPONSE',
          'the token endpoint could not be reached or did not answer JSON',
          { cause },
        ),
      rejected: ({ error, ...details }) =>
        new TokenExchangeError('ERR_TOKEN_EXCHANGE_REJECTED', `the token endpoint refused the exchange: ${error}`, {
          error,
          ...details,
        }),
      malformed: (message, status) => new TokenExchangeError('ERR_TOKEN_EXCHANGE_RESPONSE', message, { status }),
    },
  );
  // RFC 8693 §2.2.1: issued_token_type is required; what was asked for is an access token, nothing else.
  if (document.issued_token_type !== TOKEN_TYPE_IDENTIFIERS.accessToken) {
    throw new TokenExchangeError(
      'ERR_TOKEN_EXCHANGE_RESPONSE',
      `the token response's issued_token_type is not ${TOKEN_TYPE_IDENTIFIERS.accessToken}`,
      { status: 200 },
    );
  }
  return document as TokenExchangeResponse;
}
