/** The issuer as the browser sees it: its metadata (discovery) and its keys. Both endpoints allow any origin. */
import { ISSUER_PATHS, createRemoteKeySet, type KeySet, type ProviderMetadata } from '@tessera/shared';

export interface Issuer {
  metadata: ProviderMetadata;
  keySet: KeySet;
}

export async function discoverIssuer(issuer: string): Promise<Issuer> {
  const response = await fetch(issuer + ISSUER_PATHS.discovery, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`the issuer metadata answered HTTP ${response.status}`);
  const metadata = (await response.json()) as ProviderMetadata;
  // OIDC Discovery 1.0 §4.3: the metadata must name exactly the issuer we asked.
  if (metadata.issuer !== issuer) throw new Error('the issuer metadata names another issuer');
  return { metadata, keySet: createRemoteKeySet(metadata.jwks_uri) };
}
