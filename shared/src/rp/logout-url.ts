import { optionalString, requireAbsoluteUri, requireHttpUrl } from './url-options.js';

/** Parameters of an RP-initiated logout request (OIDC RP-Initiated Logout 1.0 §2). */
export interface EndSessionOptions {
  /** The issuer's `end_session_endpoint`. */
  endSessionEndpoint: string | URL;
  /** The ID token last issued to this client for the session: tells the issuer whose session ends. */
  idTokenHint?: string;
  /** This client's `client_id`; needed with `postLogoutRedirectUri` when there is no `idTokenHint`. */
  clientId?: string;
  /** Where to send the browser afterwards; must be registered exactly. */
  postLogoutRedirectUri?: string;
  /** Opaque value returned with the redirect to `postLogoutRedirectUri`. */
  state?: string;
  /** `logout_hint`: which user to log out, when the issuer serves several. */
  logoutHint?: string;
  /** `ui_locales`: preferred languages of the logout page. */
  uiLocales?: string;
}

/**
 * The URL to send the browser to for logging out at the issuer (OIDC RP-Initiated Logout 1.0 §2).
 *
 * @throws TypeError when `postLogoutRedirectUri` is given without `idTokenHint` or `clientId` (the
 *   issuer could not tell which client's registered URIs to check it against), or `state` without
 *   `postLogoutRedirectUri` (it would never come back).
 *
 * @example
 * ```ts
 * return c.redirect(buildEndSessionUrl({
 *   endSessionEndpoint: 'https://idp.example.com/logout',
 *   idTokenHint: session.idToken,
 *   postLogoutRedirectUri: 'https://app-a.example.com/',
 * }).href);
 * ```
 */
export function buildEndSessionUrl(options: EndSessionOptions): URL {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  // §2: the endpoint's own query component is kept.
  const url = requireHttpUrl('endSessionEndpoint', options.endSessionEndpoint);
  const idTokenHint = optionalString('idTokenHint', options.idTokenHint);
  const clientId = optionalString('clientId', options.clientId);
  const postLogoutRedirectUri =
    options.postLogoutRedirectUri === undefined
      ? undefined
      : requireAbsoluteUri('postLogoutRedirectUri', options.postLogoutRedirectUri);
  const state = optionalString('state', options.state);
  const logoutHint = optionalString('logoutHint', options.logoutHint);
  const uiLocales = optionalString('uiLocales', options.uiLocales);

  if (postLogoutRedirectUri !== undefined && idTokenHint === undefined && clientId === undefined) {
    throw new TypeError('postLogoutRedirectUri needs idTokenHint or clientId (RP-Initiated Logout §2)');
  }
  if (state !== undefined && postLogoutRedirectUri === undefined) {
    throw new TypeError('state is only returned to a postLogoutRedirectUri');
  }

  const params = url.searchParams;
  if (idTokenHint !== undefined) params.set('id_token_hint', idTokenHint);
  if (clientId !== undefined) params.set('client_id', clientId);
  if (postLogoutRedirectUri !== undefined) params.set('post_logout_redirect_uri', postLogoutRedirectUri);
  if (state !== undefined) params.set('state', state);
  if (logoutHint !== undefined) params.set('logout_hint', logoutHint);
  if (uiLocales !== undefined) params.set('ui_locales', uiLocales);
  return url;
}
