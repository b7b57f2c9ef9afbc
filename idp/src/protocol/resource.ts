/** Resource indicators (RFC 8707): which API an access token is for, its `aud`. */
import { ISSUER_PATHS, OAuthError } from '@tessera/shared';
import type { Client } from '../store/index.js';

/** The issuer's UserInfo endpoint: the audience of a token for no API (OIDC Core §5.3). */
export const userinfoEndpointOf = (issuer: string): string => issuer + ISSUER_PATHS.userinfo;

/**
 * The resource a token is issued for: the one asked for, if the client may have it. A client that
 * names none gets its API only when it is allowed exactly one; a client allowed several gets no
 * API it did not name (least privilege: guessing which one would hand a token to an API the
 * client never meant to call), only the issuer's userinfo endpoint, as a client with no API does.
 * RFC 8707 §2: an absolute URI, no fragment.
 */
export function resolveResource(client: Client, requested: string | undefined, userinfoEndpoint: string): string {
  if (requested === undefined)
    return client.allowedResources.length === 1 ? client.allowedResources[0]! : userinfoEndpoint;
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

/**
 * An access token's `aud` (RFC 9068 §3): its resource and, when `openid` is granted, the userinfo
 * endpoint too — an OpenID client sends the one access token it got to userinfo (OIDC Core §5.3),
 * and the token already carries the claims userinfo would answer with, so the resource gains
 * nothing by being able to present it there. Without `openid`, the resource alone.
 */
export function accessTokenAudience(resource: string, scope: string[], userinfoEndpoint: string): string | string[] {
  if (!scope.includes('openid') || resource === userinfoEndpoint) return resource;
  return [resource, userinfoEndpoint];
}
