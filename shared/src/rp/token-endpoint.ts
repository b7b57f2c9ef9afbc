/**
 * One request to an issuer's token endpoint (RFC 6749 §3.2), as every grant of the relying-party
 * helpers sends it (internal): client authentication, the bounded JSON answer, and the checks a
 * token response of any grant must pass. Each grant names its own errors.
 */
import type { FetchLike } from '../http/fetch-like.js';
import { readBoundedText } from '../http/read-bounded.js';
import { withDPoP, type DPoPProver } from './dpop-prover.js';

export interface TokenEndpointRequest {
  tokenEndpoint: URL;
  clientId: string;
  /** A confidential client's secret, sent with client_secret_basic; a public client sends `client_id`. */
  clientSecret: string | undefined;
  /** The grant's parameters; client_id is added for a public client. */
  body: URLSearchParams;
  fetch: FetchLike;
  timeoutMs: number;
  /** Binds the tokens to this key (RFC 9449 §5): a proof goes along and the answer must be of token_type DPoP. */
  dpop?: DPoPProver | undefined;
}

/** How a grant reports each way the token endpoint can fail it. */
export interface TokenEndpointFailures {
  /** Not reached, or no JSON in the answer. */
  unreachable(cause: unknown): Error;
  /** An OAuth error response (RFC 6749 §5.2). */
  rejected(details: { error: string; status: number; errorDescription?: string }): Error;
  /** An answer that is no token response, said by `message`. */
  malformed(message: string, status: number): Error;
}

/** RFC 6749 Appendix B / §2.3.1: application/x-www-form-urlencoded, as URLSearchParams writes it. */
const formEncode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);

/** Base64 of an ASCII string (a form-encoded string is ASCII), without Node's Buffer. */
const base64Ascii = (value: string): string => btoa(value);

const MAX_RESPONSE_BYTES = 64 * 1024;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks a timeout option: a positive number of milliseconds. */
export function requireTimeout(timeoutMs: number): number {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive number');
  return timeoutMs;
}

/**
 * Posts the grant and returns the token response, checked for what every grant's must hold: a JSON
 * object, a non-empty `access_token`, `token_type` Bearer, a valid `expires_in`, and string
 * `refresh_token`, `id_token` and `scope` when present.
 */
export async function postTokenRequest(
  request: TokenEndpointRequest,
  failures: TokenEndpointFailures,
): Promise<Record<string, unknown>> {
  const { body, clientId, clientSecret } = request;
  const headers = new Headers({
    'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
    accept: 'application/json',
  });
  if (clientSecret === undefined) body.set('client_id', clientId);
  else headers.set('authorization', `Basic ${base64Ascii(`${formEncode(clientId)}:${formEncode(clientSecret)}`)}`);

  let status: number;
  let document: unknown;
  try {
    const send = request.dpop ? withDPoP(request.dpop, request.fetch) : request.fetch;
    const response = await send(request.tokenEndpoint.href, {
      method: 'POST',
      headers,
      body: body.toString(),
      redirect: 'manual', // a token endpoint does not redirect; following could send the grant elsewhere
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    status = response.status;
    const text = await readBoundedText(response, MAX_RESPONSE_BYTES);
    document = text === '' ? undefined : JSON.parse(text);
  } catch (cause) {
    throw failures.unreachable(cause);
  }

  if (status !== 200) {
    // RFC 6749 §5.2: an error response is JSON with an `error` member, usually with 400 or 401.
    if (isObject(document) && typeof document.error === 'string') {
      const description = typeof document.error_description === 'string' ? document.error_description : undefined;
      throw failures.rejected({
        error: document.error,
        status,
        ...(description === undefined ? {} : { errorDescription: description }),
      });
    }
    throw failures.malformed(`the token endpoint answered HTTP ${status}`, status);
  }

  const malformed = (what: string) => failures.malformed(`the token response ${what}`, status);
  if (!isObject(document)) throw malformed('is not a JSON object');
  if (typeof document.access_token !== 'string' || document.access_token === '') throw malformed('has no access_token');
  // RFC 6749 §5.1: token_type is case-insensitive; §7.1: a client must not use a token type it does not understand.
  // RFC 9449 §5: a client that sent a proof gets DPoP; a Bearer token instead would be the downgrade it meant to avoid.
  const tokenType = request.dpop ? 'dpop' : 'bearer';
  if (typeof document.token_type !== 'string' || document.token_type.toLowerCase() !== tokenType)
    throw malformed(`is not of token_type ${request.dpop ? 'DPoP' : 'Bearer'}`);
  if (document.expires_in !== undefined && (typeof document.expires_in !== 'number' || !(document.expires_in >= 0))) {
    throw malformed('has an invalid expires_in');
  }
  for (const member of ['refresh_token', 'id_token', 'scope']) {
    if (document[member] !== undefined && typeof document[member] !== 'string')
      throw malformed(`has a non-string ${member}`);
  }
  return document;
}
