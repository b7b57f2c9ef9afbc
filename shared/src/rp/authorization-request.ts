import { CODE_CHALLENGE_METHODS } from '../protocol.js';
import { computeCodeChallenge, generateCodeVerifier } from './pkce.js';
import { randomToken } from './random.js';
import { optionalString, requireAbsoluteUri, requireHttpUrl, requireString, resourceList } from './url-options.js';

/** What to ask the authorization server for (OIDC Core §3.1.2.1). */
export interface AuthorizationRequestOptions {
  /** The issuer's `authorization_endpoint`. */
  authorizationEndpoint: string | URL;
  /** This client's `client_id`. */
  clientId: string;
  /** Where the browser comes back to; must be registered exactly. */
  redirectUri: string;
  /** Scopes, as a space-separated string or a list; include `openid` for an ID token. */
  scope: string | readonly string[];
  /** RFC 8707 resource indicator(s): the API(s) the access token is for. */
  resource?: string | readonly string[];
  /** `prompt` (OIDC Core §3.1.2.1): `none`, `login`, `consent`, `select_account`, space-separated. */
  prompt?: string;
  /**
   * `max_age`, in seconds: how recently the user must have signed in. Verify it with
   * `verifyIdToken({ maxAgeSec })`.
   */
  maxAgeSec?: number;
  /**
   * `acr_values`: the authentication context classes asked for, in order of preference (OIDC Core
   * §3.1.2.1). The issuer may not meet them: check the ID token's `acr` (acrMeetsRequest).
   */
  acrValues?: string | readonly string[];
  /** `login_hint`: who is expected to sign in. */
  loginHint?: string;
  /** `ui_locales`: preferred languages, space-separated BCP 47 tags. */
  uiLocales?: string;
  /** Other parameters; they cannot replace the ones this function sets. */
  extraParameters?: Readonly<Record<string, string>>;
}

/** A ready authorization request and the secrets to keep until the browser comes back. */
export interface AuthorizationRequest {
  /** Where to send the browser. */
  url: URL;
  /** Compare with the response's `state` (validateAuthorizationResponse). */
  state: string;
  /** Compare with the ID token's `nonce` (verifyIdToken). */
  nonce: string;
  /** Send with the code at the token endpoint (exchangeCode). */
  codeVerifier: string;
}

const OWN_PARAMETERS = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'prompt',
  'max_age',
  'acr_values',
  'login_hint',
  'ui_locales',
]);
// RFC 6749 §3.3 scope-token
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Builds an authorization code request with PKCE S256 (RFC 7636 §4.1–4.3), a fresh `state`
 * (RFC 6749 §10.12) and `nonce` (OIDC Core §3.1.2.1), each 32 random bytes from Web Crypto. Works
 * in browsers (public clients) and on servers. Keep `state`, `nonce` and `codeVerifier` for the
 * callback — server-side in the session, or in memory / `sessionStorage` in a browser app.
 *
 * @example
 * ```ts
 * const request = await createAuthorizationRequest({
 *   authorizationEndpoint: 'https://idp.example.com/authorize',
 *   clientId: 'app-b',
 *   redirectUri: 'https://app-b.example.com/callback',
 *   scope: ['openid', 'profile'],
 *   resource: 'https://api.app-b.example.com',
 * });
 * const { state, nonce, codeVerifier } = request;
 * sessionStorage.setItem('login', JSON.stringify({ state, nonce, codeVerifier }));
 * location.assign(request.url);
 * ```
 */
export async function createAuthorizationRequest(options: AuthorizationRequestOptions): Promise<AuthorizationRequest> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  // RFC 6749 §3.1: the endpoint's own query is kept; we only add parameters.
  const url = requireHttpUrl('authorizationEndpoint', options.authorizationEndpoint);
  const clientId = requireString('clientId', options.clientId);
  const redirectUri = requireAbsoluteUri('redirectUri', options.redirectUri);
  const scopes = typeof options.scope === 'string' ? options.scope.split(' ').filter((s) => s !== '') : options.scope;
  if (
    !Array.isArray(scopes) ||
    scopes.length === 0 ||
    !scopes.every((s) => typeof s === 'string' && SCOPE_TOKEN.test(s))
  ) {
    throw new TypeError('scope must be scope tokens (RFC 6749 §3.3)');
  }
  const resources = resourceList(options.resource);
  const prompt = optionalString('prompt', options.prompt);
  const loginHint = optionalString('loginHint', options.loginHint);
  const uiLocales = optionalString('uiLocales', options.uiLocales);
  const { maxAgeSec } = options;
  if (maxAgeSec !== undefined && (!Number.isInteger(maxAgeSec) || maxAgeSec < 0))
    throw new TypeError('maxAgeSec must be an integer >= 0');
  const acrValues =
    typeof options.acrValues === 'string' ? options.acrValues.split(' ').filter((v) => v !== '') : options.acrValues;
  // OIDC Core §3.1.2.1: a space-separated list, so each value is one non-empty run without spaces.
  if (
    acrValues !== undefined &&
    (!Array.isArray(acrValues) || !acrValues.every((v) => typeof v === 'string' && SCOPE_TOKEN.test(v)))
  ) {
    throw new TypeError('acrValues must be values without spaces or control characters');
  }
  const extra = Object.entries(options.extraParameters ?? {});
  for (const [name, value] of extra) {
    if (OWN_PARAMETERS.has(name)) throw new TypeError(`extraParameters cannot set ${name}`);
    if (typeof value !== 'string') throw new TypeError(`extraParameters.${name} must be a string`);
  }

  const state = randomToken();
  const nonce = randomToken();
  const codeVerifier = generateCodeVerifier();
  const codeChallenge = await computeCodeChallenge(codeVerifier);

  const params = url.searchParams;
  for (const name of OWN_PARAMETERS) params.delete(name);
  params.set('response_type', 'code');
  params.set('client_id', clientId);
  params.set('redirect_uri', redirectUri);
  params.set('scope', scopes.join(' '));
  params.set('state', state);
  params.set('nonce', nonce);
  params.set('code_challenge', codeChallenge);
  params.set('code_challenge_method', CODE_CHALLENGE_METHODS[0]); // S256 only: RFC 9700 §2.1.1
  for (const resource of resources) params.append('resource', resource); // RFC 8707 §2: one per resource
  if (prompt !== undefined) params.set('prompt', prompt);
  if (maxAgeSec !== undefined) params.set('max_age', String(maxAgeSec));
  if (acrValues !== undefined && acrValues.length > 0) params.set('acr_values', acrValues.join(' '));
  if (loginHint !== undefined) params.set('login_hint', loginHint);
  if (uiLocales !== undefined) params.set('ui_locales', uiLocales);
  for (const [name, value] of extra) params.set(name, value);

  return { url, state, nonce, codeVerifier };
}
