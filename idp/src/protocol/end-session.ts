/**
 * Ending an SSO session (OIDC RP-Initiated Logout 1.0, Back-Channel Logout 1.0): it ends at
 * once; apps are told in the background.
 */
import type { JWTPayload } from 'jose';
import { OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { refuseDuplicates, type Params } from './params.js';
import type { Client, SsoSession } from '../store/index.js';
import { audit } from './audit.js';
import { revokeSessionGrants } from './grant-revocation.js';

/** Ends the session; true if it was active. Back-channel logout is queued, never awaited on delivery. */
export async function endSsoSession(ctx: IssuerContext, session: SsoSession): Promise<boolean> {
  const ended = await ctx.store.sessions.end(session.id, ctx.clock.now());
  if (ended) {
    // Refresh tokens without offline_access end with the session (and their access tokens).
    await revokeSessionGrants(ctx, session.id);
    await audit(ctx, 'session.ended', { subject: session.userId, detail: { sid: session.id } });
    await ctx.backchannel.sessionEnded(session);
  }
  return ended;
}

/** A validated logout request. */
export interface LogoutRequest {
  client?: Client;
  /** Where to send the browser afterwards, with `state` (RP-Initiated Logout §3). */
  redirectTo?: string;
  /** Claims of a valid id_token_hint. */
  hint?: { sub: string; sid?: string };
}

/** A refused end-session request: answered at the issuer, never by the redirect it asked for. */
export class LogoutRequestError extends OAuthError {
  constructor(base: OAuthError) {
    super(base.error, base.description, { cause: base.cause, status: base.status });
  }
}

/**
 * Validates the parameters of the end-session endpoint (RP-Initiated Logout §2–3); throws
 * LogoutRequestError. The id_token_hint must be one we signed; an expired one is still accepted
 * (§2: the OP should accept it when the session is current or recent). post_logout_redirect_uri
 * must exactly match one the client registered, and is never used when it does not.
 */
export async function parseLogoutRequest(ctx: IssuerContext, params: Params): Promise<LogoutRequest> {
  try {
    return await checkLogoutRequest(ctx, params);
  } catch (e) {
    if (e instanceof OAuthError) throw new LogoutRequestError(e);
    throw e;
  }
}

async function checkLogoutRequest(ctx: IssuerContext, params: Params): Promise<LogoutRequest> {
  refuseDuplicates(params);
  const hintToken = params.get('id_token_hint');
  let hint: LogoutRequest['hint'];
  let hintAudience: string[] = [];
  if (hintToken !== undefined) {
    let payload: JWTPayload;
    try {
      ({ payload } = await ctx.keys.verify(hintToken, { issuer: ctx.config.issuer, typ: 'JWT', ignoreExpiry: true }));
    } catch (cause) {
      throw new OAuthError('invalid_request', 'id_token_hint is not an ID token issued by this issuer', { cause });
    }
    if (typeof payload.sub !== 'string') throw new OAuthError('invalid_request', 'id_token_hint has no subject');
    hint = { sub: payload.sub, ...(typeof payload.sid === 'string' ? { sid: payload.sid } : {}) };
    hintAudience = Array.isArray(payload.aud) ? payload.aud : payload.aud ? [payload.aud] : [];
  }

  const clientId = params.get('client_id') ?? (hintAudience.length === 1 ? hintAudience[0] : undefined);
  if (params.get('client_id') !== undefined && hint && !hintAudience.includes(params.get('client_id')!)) {
    throw new OAuthError('invalid_request', 'client_id does not match the id_token_hint');
  }
  const client = clientId === undefined ? undefined : await ctx.store.clients.findById(clientId);
  if (clientId !== undefined && !client) throw new OAuthError('invalid_request', 'unknown client_id');

  const postLogout = params.get('post_logout_redirect_uri');
  let redirectTo: string | undefined;
  if (postLogout !== undefined) {
    if (!client) throw new OAuthError('invalid_request', 'post_logout_redirect_uri needs client_id or id_token_hint');
    if (!client.postLogoutRedirectUris.includes(postLogout))
      throw new OAuthError('invalid_request', 'post_logout_redirect_uri is not registered for this client');
    const url = new URL(postLogout);
    const state = params.get('state');
    if (state !== undefined) url.searchParams.append('state', state);
    redirectTo = url.toString();
  }
  return { ...(client ? { client } : {}), ...(redirectTo ? { redirectTo } : {}), ...(hint ? { hint } : {}) };
}

/** True when a valid hint names this very session (or its user): sign out without asking. */
export function hintMatchesSession(hint: LogoutRequest['hint'], session: SsoSession): boolean {
  if (!hint) return false;
  return hint.sid !== undefined ? hint.sid === session.id : hint.sub === session.userId;
}
