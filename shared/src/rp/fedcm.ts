/**
 * Signing in through FedCM (Federated Credential Management, W3C FedCM draft): what a relying
 * party of Tessera builds and reads around `navigator.credentials.get({ identity })`, with no DOM,
 * so a server (app A builds the request for its page) and a browser (app B) share it, and tests run
 * it in Node. Tessera's identity assertion is an authorization code bound to the `params` sent here
 * (the nonce and the PKCE challenge), redeemed at the token endpoint with no `redirect_uri`
 * (exchangeCode, RFC 6749 §4.1.3); the ID token's nonce is then checked as in the redirect flow.
 */
import type { ProviderMetadata } from '../protocol.js';
import { CODE_CHALLENGE_METHODS } from '../protocol.js';
import { computeCodeChallenge, generateCodeVerifier } from './pkce.js';
import { randomToken } from './random.js';
import { requireHttpUrl, requireString } from './url-options.js';

/** Discovery member naming the issuer's FedCM config file (a Tessera name: no registry entry exists). */
export const FEDCM_CONFIG_URI = 'fedcm_config_uri';

/** What Tessera's assertion endpoint reads from the FedCM `params` (one JSON form field). */
export interface FedCmParams {
  /** Compared with the ID token's `nonce` (OIDC Core §3.1.3.7). */
  nonce: string;
  /** RFC 7636 §4.2: the S256 challenge of the verifier kept for the code exchange. */
  code_challenge: string;
  code_challenge_method: 'S256';
  /** Space-separated scopes; the issuer's default is `openid profile email`. */
  scope?: string;
  /** RFC 8707 resource indicator: the API the access token is for. */
  resource?: string;
}

/** One entry of `identity.providers` in `navigator.credentials.get`. */
export interface FedCmProvider {
  configURL: string;
  clientId: string;
  params: FedCmParams;
}

/** A FedCM request and the secrets to keep until its token (a code) is redeemed. */
export interface FedCmRequest {
  provider: FedCmProvider;
  /** Compare with the ID token's `nonce` (verifyIdToken). */
  nonce: string;
  /** Send with the code at the token endpoint (exchangeCode). */
  codeVerifier: string;
}

export interface FedCmRequestOptions {
  /** The issuer's FedCM config file (fedcmConfigUrl). */
  configUrl: string | URL;
  clientId: string;
  /** Scopes, space-separated or a list; include `openid` for an ID token. */
  scope?: string | readonly string[];
  /** RFC 8707 resource indicator of the API the access token is for. */
  resource?: string;
}

/**
 * The FedCM config URL the issuer's discovery document names, or undefined when it names none (an
 * issuer without FedCM: use the redirect flow). A value that is not an http(s) URL on the issuer's
 * own origin is ignored too: the apps take the config from the issuer they trust, never from
 * elsewhere.
 */
export function fedcmConfigUrl(metadata: ProviderMetadata): string | undefined {
  const value = metadata[FEDCM_CONFIG_URI];
  if (typeof value !== 'string') return undefined;
  try {
    const url = requireHttpUrl(FEDCM_CONFIG_URI, value);
    return url.origin === new URL(metadata.issuer).origin ? url.href : undefined;
  } catch {
    return undefined;
  }
}

// RFC 6749 §3.3 scope-token
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Builds the provider entry of a FedCM request: a fresh nonce (OIDC Core §3.1.2.1) and a PKCE S256
 * challenge (RFC 7636 §4.1–4.2) in `params`, each from 32 random bytes of Web Crypto. FedCM has no
 * `state`: the browser hands the token to the very page that asked, so there is no response to
 * forge across sites (RFC 6749 §10.12 guards the redirect). Keep `nonce` and `codeVerifier` until
 * the code is redeemed — server-side for a confidential client, in the page for a public one.
 *
 * @example
 * ```ts
 * const request = await createFedCmRequest({ configUrl, clientId: 'app-b', scope: 'openid profile email' });
 * const credential = await navigator.credentials.get({ identity: { providers: [request.provider] } });
 * const code = identityCredentialToken(credential);
 * ```
 */
export async function createFedCmRequest(options: FedCmRequestOptions): Promise<FedCmRequest> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const configURL = requireHttpUrl('configUrl', options.configUrl).href;
  const clientId = requireString('clientId', options.clientId);
  const scopes = typeof options.scope === 'string' ? options.scope.split(' ').filter((s) => s !== '') : options.scope;
  if (scopes !== undefined && (!Array.isArray(scopes) || !scopes.every((s) => SCOPE_TOKEN.test(s)))) {
    throw new TypeError('scope must be scope tokens (RFC 6749 §3.3)');
  }
  // RFC 8707 §2: an absolute URI without a fragment.
  const resource = options.resource === undefined ? undefined : requireAbsolute(options.resource);

  const nonce = randomToken();
  const codeVerifier = generateCodeVerifier();
  const params: FedCmParams = {
    nonce,
    code_challenge: await computeCodeChallenge(codeVerifier),
    code_challenge_method: CODE_CHALLENGE_METHODS[0], // S256 only: RFC 9700 §2.1.1
    ...(scopes === undefined || scopes.length === 0 ? {} : { scope: scopes.join(' ') }),
    ...(resource === undefined ? {} : { resource }),
  };
  return { provider: { configURL, clientId, params }, nonce, codeVerifier };
}

function requireAbsolute(resource: unknown): string {
  let url: URL;
  try {
    url = new URL(requireString('resource', resource));
  } catch (cause) {
    throw new TypeError('resource must be an absolute URI (RFC 8707 §2)', { cause });
  }
  if (url.hash !== '') throw new TypeError('resource must not have a fragment (RFC 8707 §2)');
  return resource as string;
}

// What Tessera's authorization codes look like: a random base64url string.
const TOKEN = /^[A-Za-z0-9_-]{16,512}$/;

/**
 * The token of what `navigator.credentials.get` resolved with — Tessera's authorization code — or
 * undefined when it is not an identity credential with a plausible token (null when the person
 * closed the dialog, another credential type, or anything else).
 */
export function identityCredentialToken(credential: unknown): string | undefined {
  if (typeof credential !== 'object' || credential === null) return undefined;
  const { type, token } = credential as { type?: unknown; token?: unknown };
  return type === 'identity' && typeof token === 'string' && TOKEN.test(token) ? token : undefined;
}

/**
 * Why a FedCM call rejected, in words fit for a log: the identity provider's error code where the
 * browser passed one on (an `IdentityCredentialError`'s `code`: `login_required`,
 * `interaction_required`…), else the DOMException's name (`NetworkError`, `NotAllowedError`,
 * `AbortError`…).
 */
export function fedcmFailureReason(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown';
  const { code, name } = error as { code?: unknown; name?: unknown };
  if (typeof code === 'string' && /^[A-Za-z_]{1,64}$/.test(code)) return code;
  return typeof name === 'string' && /^[A-Za-z]{1,64}$/.test(name) ? name : 'unknown';
}
