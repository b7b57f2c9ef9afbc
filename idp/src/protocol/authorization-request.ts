/**
 * Validation of an authorization request (OIDC Core §3.1.2.1, RFC 6749 §4.1.1), as a pipeline
 * of checks. Until the client and its redirect URI are known to be good, errors are shown at
 * the issuer (never redirected: RFC 6749 §4.1.2.1); after that they go back to the client.
 */
import { OAuthError, SCOPES, weakestKnownAcr } from '@tessera/shared';
import { refuseDuplicates, type Params } from './params.js';
import type { AuthorizationRequest, Prompt } from '../model/authorization-request.js';
import type { Client, Store } from '../store/index.js';
import { isValidCodeChallenge } from './pkce.js';
import { isRegisteredRedirectUri } from './redirect-uri.js';
import { resolveResource } from './resource.js';

const PROMPTS: readonly string[] = ['none', 'login', 'consent', 'select_account'];

/** An error the issuer shows itself, because the redirect URI cannot be trusted. */
class UntrustedRedirectError extends OAuthError {}

/** An error to send back to the client's redirect URI (RFC 6749 §4.1.2.1). */
export class RedirectableAuthorizationError extends OAuthError {
  constructor(
    base: OAuthError,
    readonly redirectUri: string,
    readonly state: string | undefined,
  ) {
    super(base.error, base.description, { cause: base.cause });
  }
}

async function checkClientAndRedirect(params: Params, store: Store): Promise<{ client: Client; redirectUri: string }> {
  const clientId = params.get('client_id');
  if (!clientId) throw new UntrustedRedirectError('invalid_request', 'client_id is missing or repeated');
  const client = await store.clients.findById(clientId);
  if (!client) throw new UntrustedRedirectError('invalid_client', 'unknown client_id', { status: 400 });
  // OIDC Core §3.1.2.1: redirect_uri is REQUIRED and must exactly match a registered one.
  const redirectUri = params.get('redirect_uri');
  if (!redirectUri) throw new UntrustedRedirectError('invalid_request', 'redirect_uri is missing or repeated');
  if (!isRegisteredRedirectUri(client.redirectUris, redirectUri)) {
    throw new UntrustedRedirectError('invalid_request', 'redirect_uri is not registered for this client');
  }
  return { client, redirectUri };
}

function checkRequest(
  params: Params,
  client: Client,
  pushed: boolean,
): Omit<AuthorizationRequest, 'clientId' | 'redirectUri' | 'state' | 'resource'> & { resourceParam?: string } {
  // Read with duplicates kept: repeated parameters go back to the trusted redirect URI (§4.1.2.1).
  refuseDuplicates(params);
  // RFC 9126 §4: a client registered to push its requests sends them no other way.
  if (client.requirePushedAuthorizationRequests && !pushed)
    throw new OAuthError('invalid_request', 'this client must push its authorization requests (RFC 9126)');
  if (params.has('request')) throw new OAuthError('request_not_supported', 'request objects are not supported');
  // A request_uri is resolved before (protocol/pushed-authorization-request.ts); one pushed is refused there.
  if (params.has('request_uri')) throw new OAuthError('request_uri_not_supported', 'request_uri is not supported');

  // Only the authorization code flow: no implicit or hybrid (RFC 9700 §2.1.2).
  const responseType = params.get('response_type');
  if (!responseType) throw new OAuthError('invalid_request', 'response_type is required');
  if (responseType !== 'code')
    throw new OAuthError('unsupported_response_type', 'only response_type=code is supported');
  const responseMode = params.get('response_mode');
  if (responseMode !== undefined && responseMode !== 'query')
    throw new OAuthError('invalid_request', 'only response_mode=query is supported');

  const scope = requestedScope(client, params.get('scope'));

  // PKCE S256 for every client (RFC 9700 §2.1.1); a missing method means plain (RFC 7636 §4.3).
  const codeChallenge = params.get('code_challenge');
  if (!codeChallenge) throw new OAuthError('invalid_request', 'code_challenge is required (PKCE)');
  const method = params.get('code_challenge_method');
  if (method !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256');
  if (!isValidCodeChallenge(codeChallenge))
    throw new OAuthError('invalid_request', 'code_challenge is not a base64url SHA-256 value');

  const prompt = (params.get('prompt') ?? '').split(' ').filter(Boolean);
  const badPrompt = prompt.find((p) => !PROMPTS.includes(p));
  if (badPrompt) throw new OAuthError('invalid_request', `prompt ${badPrompt} is not supported`);
  // OIDC Core §3.1.2.1: none with any other value is an error.
  if (prompt.includes('none') && prompt.length > 1)
    throw new OAuthError('invalid_request', 'prompt=none cannot be combined with other values');

  let maxAge: number | undefined;
  const maxAgeParam = params.get('max_age');
  if (maxAgeParam !== undefined) {
    if (!/^\d{1,10}$/.test(maxAgeParam))
      throw new OAuthError('invalid_request', 'max_age must be a non-negative integer');
    maxAge = Number(maxAgeParam);
  }

  const nonce = params.get('nonce');
  const resource = params.get('resource');
  const acr = weakestKnownAcr((params.get('acr_values') ?? '').split(' ').filter(Boolean));
  return {
    scope,
    codeChallenge,
    prompt: prompt as Prompt[],
    ...(maxAge !== undefined ? { maxAge } : {}),
    ...(acr !== undefined ? { acr } : {}),
    ...(nonce !== undefined ? { nonce } : {}),
    ...(resource !== undefined ? { resourceParam: resource } : {}),
  };
}

/**
 * Validates an authorization request; throws UntrustedRedirectError or RedirectableAuthorizationError.
 * `pushed`: the parameters were pushed by the client (RFC 9126), at /par or resolved from a request_uri.
 */
export async function parseAuthorizationRequest(
  params: Params,
  store: Store,
  userinfoEndpoint: string,
  pushed = false,
): Promise<AuthorizationRequest> {
  return (await readAuthorizationRequest(params, store, userinfoEndpoint, pushed)).request;
}

/**
 * parseAuthorizationRequest, with the client it read: the authorization endpoint hands it on to
 * `authorize`, so that an SSO visit reads its client once.
 */
export async function readAuthorizationRequest(
  params: Params,
  store: Store,
  userinfoEndpoint: string,
  pushed = false,
): Promise<{ request: AuthorizationRequest; client: Client }> {
  const { client, redirectUri } = await checkClientAndRedirect(params, store);
  const state = params.duplicates.includes('state') ? undefined : params.get('state');
  try {
    const { resourceParam, ...checked } = checkRequest(params, client, pushed);
    const resource = resolveResource(client, resourceParam, userinfoEndpoint);
    const request = {
      clientId: client.id,
      redirectUri,
      ...(state !== undefined ? { state } : {}),
      resource,
      ...checked,
    };
    return { request, client };
  } catch (e) {
    if (e instanceof OAuthError) throw new RedirectableAuthorizationError(e, redirectUri, state);
    throw e;
  }
}

/**
 * The scopes a person is asked to grant (RFC 6749 §3.3), at /authorize and at the device
 * authorization endpoint alike: at least one, each an OpenID scope the client may have.
 */
export function requestedScope(client: Client, requested: string | undefined): string[] {
  if (!requested) throw new OAuthError('invalid_scope', 'scope is required');
  const scope = [...new Set(requested.split(' ').filter(Boolean))];
  const unknown = scope.find((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown) throw new OAuthError('invalid_scope', `scope ${unknown.slice(0, 64)} is not supported`);
  const notAllowed = scope.find((s) => !client.allowedScopes.includes(s));
  if (notAllowed) throw new OAuthError('invalid_scope', `scope ${notAllowed} is not allowed for this client`);
  return scope;
}
