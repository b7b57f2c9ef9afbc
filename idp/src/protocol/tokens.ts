/** Minting the ID token (OIDC Core §2, §3.1.3.6) and the access token (RFC 9068). */
import { TOKEN_TYPES, acrForMethods } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { epochSeconds } from '@tessera/shared';
import { randomId } from '../crypto/random.js';
import type { StatusListPosition, User } from '../store/index.js';
import { accessTokenAudience, userinfoEndpointOf } from './resource.js';

export interface TokenSubject {
  user: User;
  clientId: string;
  sessionId: string;
  scope: string[];
  resource: string;
  /** Milliseconds. */
  authTime: number;
  /**
   * How the person signed in (RFC 8176), from the issuer's record of the session when the grant
   * was made — never from anything a request says; `acr` is derived from it.
   */
  amr: readonly string[];
  /** The DPoP key the access token is bound to (RFC 9449 §6: `cnf.jkt`), if the request proved one. */
  jkt?: string;
}

/**
 * OIDC Core §2 `acr`, `amr` and `auth_time`; RFC 9068 §2.2.1 puts the same three in access tokens
 * so that an API can ask for a stronger sign-in (RFC 9470).
 */
const authenticationClaims = (s: TokenSubject) => ({
  auth_time: Math.floor(s.authTime / 1000),
  acr: acrForMethods(s.amr),
  amr: [...s.amr],
});

/** RFC 9449 §6.1 (RFC 7800): the confirmation claim of a token bound to a DPoP key. */
const confirmation = (jkt: string | undefined) => (jkt === undefined ? {} : { cnf: { jkt } });

/** An access token as signed, with what the store records of it. */
export interface MintedAccessToken {
  token: string;
  jti: string;
  expiresAt: number;
  status: StatusListPosition;
}

/**
 * RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti, plus `claims`, and where the token's
 * status lives (draft-ietf-oauth-status-list-21 §6.1).
 */
async function signAccessToken(
  ctx: IssuerContext,
  claims: { sub: string; aud: string | string[]; client_id: string; scope: string } & Record<string, unknown>,
  /** The latest `exp`, in seconds. */
  notAfter = Number.POSITIVE_INFINITY,
): Promise<MintedAccessToken> {
  const iat = epochSeconds(ctx.clock);
  const exp = Math.min(iat + ctx.config.accessTokenTtl, notAfter);
  const jti = randomId();
  const status = await ctx.statusLists.allocate();
  const token = await ctx.keys.sign(
    {
      iss: ctx.config.issuer,
      ...claims,
      jti,
      iat,
      exp,
      // draft-ietf-oauth-status-list-21 §6.2: a stateless API learns of a revocation from this list.
      status: { status_list: { idx: status.index, uri: status.uri } },
    },
    TOKEN_TYPES.accessToken,
  );
  return { token, jti, expiresAt: exp * 1000, status: { list: status.list, index: status.index } };
}

/** A person's access token (see accessTokenAudience for its `aud`), with their session. */
export function mintAccessToken(ctx: IssuerContext, s: TokenSubject): Promise<MintedAccessToken> {
  return signAccessToken(ctx, {
    ...personClaims(s),
    aud: accessTokenAudience(s.resource, s.scope, userinfoEndpointOf(ctx.config.issuer)),
  });
}

/**
 * A person's access token for another API, got by exchanging one (RFC 8693): `aud` is that API
 * alone, `act` names the client acting for the person (§4.1; a chain of actors nests, the current
 * one outermost), and it expires no later than the token it was exchanged for.
 */
export function mintExchangedAccessToken(
  ctx: IssuerContext,
  s: TokenSubject & { actor: Record<string, unknown>; notAfter: number },
): Promise<MintedAccessToken> {
  return signAccessToken(ctx, { ...personClaims(s), aud: s.resource, act: s.actor }, s.notAfter);
}

/** The claims of a person's access token but its audience (RFC 9068 §2.2). */
function personClaims(s: TokenSubject) {
  const claims: { sub: string; client_id: string; scope: string } & Record<string, unknown> = {
    sub: s.user.sub,
    client_id: s.clientId,
    scope: s.scope.join(' '),
    sid: s.sessionId,
    ...authenticationClaims(s),
    ...confirmation(s.jkt),
  };
  // So an API can show who is calling without a call back to the issuer.
  if (s.scope.includes('email')) Object.assign(claims, { email: s.user.email, email_verified: s.user.emailVerified });
  if (s.scope.includes('profile')) claims.name = s.user.displayName;
  return claims;
}

/**
 * A machine client's own access token (RFC 9068 §2.2: with no person, `sub` is the client). It
 * carries no session and no time of sign-in: nobody signed in.
 */
export function mintClientAccessToken(
  ctx: IssuerContext,
  s: { clientId: string; resource: string; scope: string[]; jkt?: string },
): Promise<MintedAccessToken> {
  return signAccessToken(ctx, {
    sub: s.clientId,
    aud: s.resource,
    client_id: s.clientId,
    scope: s.scope.join(' '),
    ...confirmation(s.jkt),
  });
}

/** OIDC Core §2: the ID token; `at_hash` binds it to the access token issued with it. */
export async function mintIdToken(
  ctx: IssuerContext,
  s: TokenSubject,
  extra: { nonce: string | null; accessToken: string },
): Promise<string> {
  const iat = epochSeconds(ctx.clock);
  const claims: Record<string, unknown> = {
    iss: ctx.config.issuer,
    sub: s.user.sub,
    aud: s.clientId,
    exp: iat + ctx.config.idTokenTtl,
    iat,
    ...authenticationClaims(s),
    sid: s.sessionId,
    at_hash: ctx.keys.tokenHash(extra.accessToken),
  };
  if (extra.nonce !== null) claims.nonce = extra.nonce;
  return ctx.keys.sign(claims, 'JWT');
}
