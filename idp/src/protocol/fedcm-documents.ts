/**
 * FedCM's documents (docs/architecture.md, "FedCM"): the well-known file a browser fetches from the
 * issuer's site, the identity provider's config file, and a client's metadata for the dialog. The
 * browser fetches the first two without cookies; the paths are in ISSUER_PATHS.
 */
import { ISSUER_PATHS, OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';

/**
 * FedCM §"The well-known file": the config URLs of this site. It also names the accounts endpoint
 * and login URL, which Chromium checks against the config when a client metadata endpoint is given.
 */
export function webIdentityDocument(issuer: string) {
  return {
    provider_urls: [issuer + ISSUER_PATHS.fedcmConfig],
    accounts_endpoint: issuer + ISSUER_PATHS.fedcmAccounts,
    login_url: issuer + ISSUER_PATHS.fedcmSignIn,
  };
}

/** How the dialog shows the issuer (FedCM §"branding"): its colours and icon, drawn by views/pictures.ts. */
export interface FedcmBranding {
  background_color: string;
  color: string;
  icons: { url: string; size: number }[];
}

/** FedCM §"The config file": every endpoint as an absolute URL, and how the dialog shows the issuer. */
export function fedcmConfigDocument(issuer: string, branding: FedcmBranding) {
  return {
    accounts_endpoint: issuer + ISSUER_PATHS.fedcmAccounts,
    client_metadata_endpoint: issuer + ISSUER_PATHS.fedcmClientMetadata,
    id_assertion_endpoint: issuer + ISSUER_PATHS.fedcmAssertion,
    disconnect_endpoint: issuer + ISSUER_PATHS.fedcmDisconnect,
    login_url: issuer + ISSUER_PATHS.fedcmSignIn,
    branding: { ...branding, name: 'Tessera' },
  };
}

/**
 * FedCM §"Client metadata": the links the dialog shows for a client that uses FedCM (RFC 7591 §2
 * `policy_uri`, `tos_uri`). A client without FedCM origins is not told apart from an unknown one.
 */
export async function fedcmClientMetadata(
  ctx: IssuerContext,
  clientId: string | undefined,
): Promise<{ privacy_policy_url?: string; terms_of_service_url?: string }> {
  const client = clientId && clientId.length <= 64 ? await ctx.store.clients.findById(clientId) : undefined;
  if (!client || client.fedcmOrigins.length === 0)
    throw new OAuthError('invalid_client', 'no client uses FedCM under this id', { status: 404 });
  return {
    ...(client.policyUri !== null ? { privacy_policy_url: client.policyUri } : {}),
    ...(client.tosUri !== null ? { terms_of_service_url: client.tosUri } : {}),
  };
}
