/** OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2). */
import {
  ACR_LEVELS,
  CODE_CHALLENGE_METHODS,
  GRANT_TYPES,
  ISSUER_PATHS,
  RESPONSE_TYPES,
  SCOPES,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type ProviderMetadata,
} from '@tessera/shared';
import { STATUS_LIST_PATH } from '../status-list/status-lists.js';
import { CLIENT_ASSERTION_ALGORITHMS } from './client-keys.js';
import { DPOP_SIGNING_ALGORITHMS } from './dpop.js';

export function providerMetadata(issuer: string, signingAlgorithms: string[]): ProviderMetadata {
  return {
    issuer,
    authorization_endpoint: issuer + ISSUER_PATHS.authorization,
    token_endpoint: issuer + ISSUER_PATHS.token,
    userinfo_endpoint: issuer + ISSUER_PATHS.userinfo,
    jwks_uri: issuer + ISSUER_PATHS.jwks,
    end_session_endpoint: issuer + ISSUER_PATHS.endSession,
    revocation_endpoint: issuer + ISSUER_PATHS.revocation,
    introspection_endpoint: issuer + ISSUER_PATHS.introspection,
    // RFC 8628 §4.
    device_authorization_endpoint: issuer + ISSUER_PATHS.deviceAuthorization,
    // RFC 9126 §5: pushing is offered to every client, required of those registered for it (§6).
    pushed_authorization_request_endpoint: issuer + ISSUER_PATHS.pushedAuthorizationRequest,
    require_pushed_authorization_requests: false,
    revocation_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    // RFC 8414 §2: the JWS algorithms of private_key_jwt assertions, exactly those accepted.
    revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
    // Only confidential clients introspect (RFC 7662 §2.1): no `none`.
    introspection_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS.filter((m) => m !== 'none'),
    introspection_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
    scopes_supported: [...SCOPES],
    response_types_supported: [...RESPONSE_TYPES],
    response_modes_supported: ['query'],
    grant_types_supported: [...GRANT_TYPES],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: signingAlgorithms,
    token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGORITHMS],
    code_challenge_methods_supported: [...CODE_CHALLENGE_METHODS],
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'amr',
      'nonce',
      'sid',
      'at_hash',
      'name',
      'email',
      'email_verified',
    ],
    // OIDC Discovery §3: the classes `acr_values` may ask for, weakest first.
    acr_values_supported: [...ACR_LEVELS],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    // OIDC Back-Channel Logout 1.0 §2.1.
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    // RFC 9207 §3.
    authorization_response_iss_parameter_supported: true,
    // RFC 9449 §5.1.
    dpop_signing_alg_values_supported: DPOP_SIGNING_ALGORITHMS,
    // draft-ietf-oauth-status-list-21 §9.1: where the status lists of our access tokens are listed.
    status_list_aggregation_endpoint: issuer + STATUS_LIST_PATH,
    // Tessera's own name (no registry entry exists): where apps find the FedCM config, never hard-coded.
    fedcm_config_uri: issuer + ISSUER_PATHS.fedcmConfig,
  };
}

/**
 * The serialized metadata, made once per issuer and set of signing algorithms: the key ring makes
 * a new `algorithms` array only when it reloads, so the document is serialized again only then.
 */
const serialized = new WeakMap<readonly string[], { issuer: string; body: string }>();

export function providerMetadataDocument(issuer: string, signingAlgorithms: string[]): string {
  const known = serialized.get(signingAlgorithms);
  if (known?.issuer === issuer) return known.body;
  const body = JSON.stringify(providerMetadata(issuer, signingAlgorithms));
  serialized.set(signingAlgorithms, { issuer, body });
  return body;
}
