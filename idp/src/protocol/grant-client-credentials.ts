/**
 * The client credentials grant (RFC 6749 §4.4): a machine client, acting for itself, gets an
 * access token (RFC 9068) for one of its resources, limited to the scopes that resource defines
 * and the client was allowed. No person signed in, so there is no ID token, and no refresh token
 * (§4.4.3: the client can always ask again with its credentials).
 */
import { OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import type { Client, Resource } from '../store/index.js';
import type { Params } from './params.js';
import { resolveResource, userinfoEndpointOf } from './resource.js';
import { mintClientAccessToken } from './tokens.js';

export interface ClientCredentialsResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
}

export async function grantClientCredentials(
  ctx: IssuerContext,
  client: Client,
  params: Params,
  /** The DPoP key the request proved (RFC 9449), to bind the token to. */
  jkt: string | undefined,
): Promise<ClientCredentialsResponse> {
  // RFC 6749 §4.4: only a confidential client, and only one registered for this grant (§5.2).
  if (client.type !== 'confidential' || !client.grantTypes.includes('client_credentials'))
    throw new OAuthError('unauthorized_client', 'this client may not use the client credentials grant');
  const resource = await targetOf(ctx, client, params.get('resource'));
  const scope = scopeOf(client, resource, params.get('scope'));

  const minted = await mintClientAccessToken(ctx, {
    clientId: client.id,
    resource: resource.id,
    scope,
    ...(jkt === undefined ? {} : { jkt }),
  });
  // Recorded, so that it can be introspected and revoked (RFC 7662, RFC 7009) like a person's.
  await ctx.store.grants.recordClientAccessToken(client.id, minted);
  return {
    access_token: minted.token,
    token_type: jkt === undefined ? 'Bearer' : 'DPoP',
    expires_in: ctx.config.accessTokenTtl,
    scope: scope.join(' '),
  };
}

/**
 * The API the token is for (RFC 8707 §2): the one named, if the client may have it; without a
 * name, the client's only API. A token for no API would be good for nothing: with no person
 * there is no userinfo to call.
 */
async function targetOf(ctx: IssuerContext, client: Client, requested: string | undefined): Promise<Resource> {
  const userinfo = userinfoEndpointOf(ctx.config.issuer);
  const id = resolveResource(client, requested, userinfo);
  if (id === userinfo)
    throw new OAuthError(
      'invalid_target',
      client.allowedResources.length === 0
        ? 'this client is allowed no resource'
        : 'name the resource: this client is allowed several',
    );
  const resource = await ctx.store.resources.findById(id);
  if (!resource) throw new OAuthError('invalid_target', 'resource is not allowed for this client');
  return resource;
}

/**
 * RFC 6749 §3.3: the scopes asked for, each defined by the resource and allowed to the client; or,
 * when none are asked for, all such scopes (the pre-defined default §3.3 permits).
 */
function scopeOf(client: Client, resource: Resource, requested: string | undefined): string[] {
  const grantable = resource.scopes.filter((s) => client.allowedScopes.includes(s));
  if (requested === undefined) return grantable;
  const asked = [...new Set(requested.split(' ').filter(Boolean))];
  if (asked.length === 0) throw new OAuthError('invalid_scope', 'scope is malformed');
  const refused = asked.find((s) => !grantable.includes(s));
  if (refused !== undefined)
    throw new OAuthError(
      'invalid_scope',
      `scope ${refused.slice(0, 64)} is not allowed for this client at this resource`,
    );
  return asked;
}
