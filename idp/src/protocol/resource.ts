/** Resource indicators (RFC 8707): which API an access token is for, its `aud`. */
import { OAuthError } from '@tessera/shared';
import type { Client } from '../store/index.js';

/**
 * The resource a token is issued for: the one asked for, if the client may have it, else the
 * client's default (its first allowed resource) or, for a client with no API, the issuer's
 * userinfo endpoint. RFC 8707 §2: an absolute URI, no fragment.
 */
export function resolveResource(client: Client, requested: string | undefined, userinfoEndpoint: string): string {
  if (requested === undefined) return client.allowedResources[0] ?? userinfoEndpoint;
  let url: URL | undefined;
  try {
    url = new URL(requested);
  } catch {
    url = undefined;
  }
  if (!url || requested.includes('#'))
    throw new OAuthError('invalid_target', 'resource must be an absolute URI without a fragment');
  if (!client.allowedResources.includes(requested))
    throw new OAuthError('invalid_target', 'resource is not allowed for this client');
  return requested;
}
