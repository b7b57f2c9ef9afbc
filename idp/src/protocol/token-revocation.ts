/**
 * Token revocation (RFC 7009). A refresh token revokes its whole family (its grant); an access
 * token is recorded as revoked. The answer is 200 whatever the token was (§2.2): an invalid,
 * unknown or foreign token reveals nothing.
 */
import type { IssuerContext } from '../context.js';
import type { Client } from '../store/index.js';
import { audit } from './audit.js';
import { revokeGrant } from './grant-revocation.js';
import { lookUpToken } from './token-lookup.js';

/** Revokes `value` if it is a token issued to `client`; returns the jtis of access tokens revoked. */
export async function revokeToken(ctx: IssuerContext, client: Client, value: string): Promise<string[]> {
  const found = await lookUpToken(ctx, value, { ignoreExpiry: true });
  // §2.1: the server verifies that the token was issued to the client making the request.
  if (found.kind === 'refresh_token' && found.grant.clientId === client.id) {
    const jtis = await revokeGrant(ctx, found.grant.id);
    await audit(ctx, 'token.revoked', {
      subject: found.grant.userId,
      clientId: client.id,
      detail: { token_type: 'refresh_token', grant: found.grant.id },
    });
    return jtis;
  }
  if (found.kind === 'access_token' && found.claims.client_id === client.id && typeof found.claims.jti === 'string') {
    if (await ctx.store.grants.revokeAccessToken(found.claims.jti, ctx.clock.now())) {
      await ctx.statusLists.revoked([found.claims.jti]);
      await audit(ctx, 'token.revoked', {
        subject: String(found.claims.sub),
        clientId: client.id,
        detail: { token_type: 'access_token', jti: found.claims.jti },
      });
      return [found.claims.jti];
    }
  }
  return [];
}
