/**
 * Protocol vocabulary shared by the issuer and relying parties: scopes, grant types, token
 * types and the JOSE `typ` values that keep one kind of token from being accepted as another.
 */

/** Scopes the issuer understands (OpenID Connect Core §5.4). */
export const SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
export type Scope = (typeof SCOPES)[number];

/** The device authorization grant type (RFC 8628 §3.4). */
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

/** The token exchange grant type (RFC 8693 §2.1). */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** Grant types the token endpoint accepts (RFC 6749 §4.1.3, §6, §4.4; RFC 8693 §2.1). */
export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  DEVICE_CODE_GRANT_TYPE,
  TOKEN_EXCHANGE_GRANT_TYPE,
] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/** Token type identifiers of a token exchange (RFC 8693 §3). */
export const TOKEN_TYPE_IDENTIFIERS = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

/** The only response type: no implicit or hybrid flow (RFC 9700 §2.1.2). */
export const RESPONSE_TYPES = ['code'] as const;

/** PKCE methods: only S256 (RFC 9700 §2.1.1; `plain` is refused). */
export const CODE_CHALLENGE_METHODS = ['S256'] as const;

/**
 * Client authentication methods at the token, revocation and introspection endpoints (OIDC Core §9):
 * a secret, a JWT signed with the client's own key (RFC 7523 §2.2), or none (public clients).
 */
export const TOKEN_ENDPOINT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

/** Signing algorithms the issuer can use; ES256 is the default. */
export const SIGNING_ALGORITHMS = ['ES256', 'EdDSA', 'RS256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** JOSE header `typ` values (RFC 9068 §2.1, OIDC Back-Channel Logout §2.4). */
export const TOKEN_TYPES = {
  accessToken: 'at+jwt',
  logoutToken: 'logout+jwt',
} as const;

/** The back-channel logout event member (OIDC Back-Channel Logout 1.0 §2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Paths of the issuer: its endpoints (OIDC Discovery §4, RFC 8414 §3) and its own pages. */
export const ISSUER_PATHS = {
  discovery: '/.well-known/openid-configuration',
  jwks: '/jwks',
  authorization: '/authorize',
  token: '/token',
  userinfo: '/userinfo',
  endSession: '/logout',
  revocation: '/revoke',
  introspection: '/introspect',
  /** RFC 9126 §2: the pushed authorization request endpoint. */
  pushedAuthorizationRequest: '/par',
  signIn: '/sign-in',
  consent: '/consent',
  /** Where the end-session page's confirmation form posts (RP-Initiated Logout §6: logout CSRF). */
  endSessionConfirmation: '/logout/confirm',
  /** The signed-in person's account page: their devices, and signing them out. */
  account: '/account',
  /** RFC 8628 §3.1: where a device asks for a device code and a user code. */
  deviceAuthorization: '/device_authorization',
  /** RFC 8628 §3.3: where a person enters a user code and approves or denies the device. */
  device: '/device',
  /** FedCM: the well-known file a browser fetches from the issuer's site (its `provider_urls`). */
  webIdentity: '/.well-known/web-identity',
  /** FedCM: the identity provider's config file; discovery names it `fedcm_config_uri`. */
  fedcmConfig: '/fedcm/config.json',
  /** FedCM: the accounts of the person signed in (GET, credentialed). */
  fedcmAccounts: '/fedcm/accounts',
  /** FedCM: a client's privacy policy and terms (GET ?client_id=). */
  fedcmClientMetadata: '/fedcm/client-metadata',
  /** FedCM: the identity assertion, an authorization code here (POST form, credentialed). */
  fedcmAssertion: '/fedcm/assertion',
  /** FedCM: forget a person's connection to a client (POST form, credentialed). */
  fedcmDisconnect: '/fedcm/disconnect',
  /** FedCM: the `login_url`, a sign-in at the issuer that ends at fedcmSignedIn. */
  fedcmSignIn: '/fedcm/sign-in',
  /** FedCM: the page that closes the sign-in window (IdentityProvider.close()). */
  fedcmSignedIn: '/fedcm/signed-in',
} as const;

/** Claims carried by an RFC 9068 access token issued by Tessera. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  scope: string;
  sid?: string;
  jti: string;
  iat: number;
  exp: number;
  auth_time?: number;
  /** The authentication context class of the sign-in (RFC 9068 §2.2.1, OIDC Core §2). */
  acr?: string;
  /** How the person authenticated (RFC 8176 values). */
  amr?: string[];
  email?: string;
  email_verified?: boolean;
  name?: string;
  /** The party acting for the person, in a token got by token exchange (RFC 8693 §4.1). */
  act?: ActorClaim;
  /** RFC 9449 §6.1: the JWK thumbprint of the key the token is bound to (DPoP). */
  cnf?: { jkt?: string };
}

/** RFC 8693 §4.1: who acts; an earlier actor nests inside, the current one outermost. */
export interface ActorClaim {
  sub: string;
  act?: ActorClaim;
}

/** Claims of an OpenID Connect ID token (OIDC Core §2). */
export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  auth_time?: number;
  /** The authentication context class of the sign-in (OIDC Core §2). */
  acr?: string;
  /** How the person authenticated (RFC 8176 values). */
  amr?: string[];
  nonce?: string;
  sid?: string;
  at_hash?: string;
  azp?: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}

/** The OpenID Provider metadata fields Tessera publishes (OIDC Discovery §3). */
export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
  scopes_supported: string[];
  response_types_supported: string[];
  response_modes_supported: string[];
  grant_types_supported: string[];
  subject_types_supported: string[];
  id_token_signing_alg_values_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  /** The JWS algorithms of private_key_jwt assertions (OIDC Discovery §3, RFC 8414 §2). */
  token_endpoint_auth_signing_alg_values_supported?: string[];
  code_challenge_methods_supported: string[];
  claims_supported: string[];
  authorization_response_iss_parameter_supported: boolean;
  /** RFC 9126 §5. */
  pushed_authorization_request_endpoint?: string;
  require_pushed_authorization_requests?: boolean;
  /** Tessera's own name: the FedCM config URL (no registered metadata name exists for it). */
  fedcm_config_uri?: string;
  [extra: string]: unknown;
}
