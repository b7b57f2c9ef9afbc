/**
 * FedCM's assertion and disconnect endpoints (docs/architecture.md, "FedCM"): a page of a client's
 * registered origin asks, through the browser, for an authorization code for the person the FedCM
 * cookie names, or for their connection to the client to be forgotten. The code is the
 * authorization endpoint's own (60 s, single use, PKCE, the session's `sid`), bound to the page's
 * origin instead of a redirect URI, and redeemed at the token endpoint without one.
 */
import { OAuthError, type OAuthErrorCode, type OAuthErrorStatus } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import type { AuthorizationRequest } from '../model/authorization-request.js';
import type { Client, SsoSession, User } from '../store/index.js';
import { requestedScope } from './authorization-request.js';
import { createAuthorizationCode, needsSecondFactor } from './authorize.js';
import { audit } from './audit.js';
import { fedcmPerson } from './fedcm-accounts.js';
import { isValidCodeChallenge } from './pkce.js';
import { resolveResource, userinfoEndpointOf } from './resource.js';
import { findActiveFedcmSession } from './sso-session.js';

/**
 * A refused FedCM request. `allowedOrigin` is the page's origin once it is known to be one the
 * client registered: only then may the answer carry CORS headers (an unregistered origin learns
 * nothing, not even the reason).
 */
export class FedcmRefusal extends OAuthError {
  constructor(
    error: OAuthErrorCode,
    description: string,
    status: OAuthErrorStatus,
    readonly allowedOrigin?: string,
  ) {
    super(error, description, { status });
    this.name = 'FedcmRefusal';
  }
}

/** What every credentialed FedCM request carries besides its form. */
export interface FedcmRequest {
  /** The `Sec-Fetch-Dest` header: `webidentity` on every fetch the browser makes for FedCM. */
  fetchDest: string | undefined;
  origin: string | undefined;
  /** The FedCM cookie (http/cookies.ts), never the session cookie. */
  fedcmCookie: string | undefined;
  ip: string;
}

/** Scopes a third-party client gets without a remembered consent: what the FedCM dialog discloses. */
const DISCLOSED_SCOPES = ['openid', 'profile', 'email'];
const DEFAULT_SCOPE = 'openid profile email';

/** Audits a refusal as `event`, then throws it: no refused FedCM request goes unrecorded. */
function auditedRefusal(
  ctx: IssuerContext,
  req: FedcmRequest,
  event: 'fedcm.assertion_refused' | 'fedcm.disconnect_refused',
): (client: Client | undefined, e: FedcmRefusal) => Promise<never> {
  return async (client, e) => {
    await audit(ctx, event, { clientId: client?.id ?? null, ip: req.ip, detail: { reason: e.error } });
    throw e;
  };
}

/** The checks the assertion and disconnect endpoints share, in the contract's order (1–4). */
async function admit(
  ctx: IssuerContext,
  req: FedcmRequest,
  clientId: string | undefined,
  refused: (client: Client | undefined, e: FedcmRefusal) => Promise<never>,
): Promise<{ client: Client; origin: string; session: SsoSession; user: User }> {
  // Fetch Metadata: a FedCM fetch says so; a page's own fetch or form cannot set this value.
  if (req.fetchDest !== 'webidentity')
    return refused(undefined, new FedcmRefusal('invalid_request', 'not a FedCM request (Sec-Fetch-Dest)', 400));
  const client = clientId && clientId.length <= 64 ? await ctx.store.clients.findById(clientId) : undefined;
  const origin = req.origin;
  // Exact string comparison with what the client registered, as for redirect URIs (RFC 9700 §4.1.3).
  if (!client || origin === undefined || !client.fedcmOrigins.includes(origin))
    return refused(undefined, new FedcmRefusal('unauthorized_client', 'this origin may not use FedCM here', 403));
  const session = await findActiveFedcmSession(ctx, req.fedcmCookie);
  let user: User;
  try {
    user = await fedcmPerson(ctx, session);
  } catch (e) {
    if (!(e instanceof OAuthError)) throw e;
    return refused(client, new FedcmRefusal('login_required', 'no one is signed in at the issuer', 401, origin));
  }
  return { client, origin, session: session as SsoSession, user };
}

/** The `params` the app passed to navigator.credentials.get, as one JSON string. */
interface AssertionParams {
  nonce: string;
  codeChallenge: string;
  scope: string | undefined;
  resource: string | undefined;
}

function readAssertionParams(raw: string | undefined): AssertionParams {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw ?? '');
  } catch {
    throw new OAuthError('invalid_request', 'params must be a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new OAuthError('invalid_request', 'params must be a JSON object');
  const p = parsed as Record<string, unknown>;
  const text = (name: string): string | undefined => {
    const v = p[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new OAuthError('invalid_request', `params.${name} must be a string`);
    return v;
  };
  const nonce = text('nonce');
  // OIDC Core §3.1.2.1: the nonce binds the ID token to the app's session; FedCM has no other.
  if (!nonce || nonce.length > 255) throw new OAuthError('invalid_request', 'params.nonce is required (≤ 255)');
  const codeChallenge = text('code_challenge');
  // RFC 9700 §2.1.1: PKCE S256 for every code.
  if (!codeChallenge || !isValidCodeChallenge(codeChallenge))
    throw new OAuthError('invalid_request', 'params.code_challenge must be a base64url SHA-256 value');
  if (text('code_challenge_method') !== 'S256')
    throw new OAuthError('invalid_request', 'params.code_challenge_method must be S256');
  return { nonce, codeChallenge, scope: text('scope'), resource: text('resource') };
}

/** The request the code is issued for, checked as the authorization endpoint checks its own. */
function assertionRequest(ctx: IssuerContext, client: Client, rawParams: string | undefined): AuthorizationRequest {
  const params = readAssertionParams(rawParams);
  const scope = requestedScope(client, params.scope ?? DEFAULT_SCOPE);
  if (!scope.includes('openid')) throw new OAuthError('invalid_scope', 'FedCM signs people in: scope needs openid');
  const resource = resolveResource(client, params.resource, userinfoEndpointOf(ctx.config.issuer));
  return {
    clientId: client.id,
    // No redirect: the code goes back to the page in the assertion's answer (the origin is stored).
    redirectUri: '',
    scope,
    nonce: params.nonce,
    codeChallenge: params.codeChallenge,
    resource,
    prompt: [],
  };
}

/**
 * Issues a code for a FedCM assertion, or throws a FedcmRefusal having changed nothing but the audit
 * trail. The checks run in the order docs/architecture.md ("FedCM") gives.
 */
export async function fedcmAssertion(
  ctx: IssuerContext,
  req: FedcmRequest,
  form: {
    clientId: string | undefined;
    accountId: string | undefined;
    params: string | undefined;
    disclosureTextShown: string | undefined;
  },
): Promise<{ code: string; origin: string }> {
  const refused = auditedRefusal(ctx, req, 'fedcm.assertion_refused');
  const { client, origin, session, user } = await admit(ctx, req, form.clientId, refused);
  const refuse = (error: OAuthErrorCode, description: string, status: OAuthErrorStatus) =>
    refused(client, new FedcmRefusal(error, description, status, origin));
  // The browser sends the account the person picked: it must be the one this session is for.
  if (form.accountId !== user.sub) return refuse('access_denied', 'that account is not signed in here', 403);
  let request: AuthorizationRequest;
  try {
    request = assertionRequest(ctx, client, form.params);
  } catch (e) {
    if (e instanceof OAuthError) return refuse(e.error, e.description, 400);
    throw e;
  }
  // OIDC Core §3.1.2.6: the client or the person needs a second factor this session lacks; the
  // app's redirect flow asks for it (FedCM's dialog cannot).
  if (await needsSecondFactor(ctx, request, session, { client }))
    return refuse('interaction_required', 'a second factor is needed: sign in through the app', 403);
  if (client.party === 'third') {
    const granted = await ctx.store.consents.grantedScopes(user.sub, client.id);
    const remembered = request.scope.every((s) => granted.includes(s));
    // The dialog's disclosure ("… will share your name, email address and profile picture") is the
    // person's consent to those scopes only.
    const disclosed = form.disclosureTextShown === 'true' && request.scope.every((s) => DISCLOSED_SCOPES.includes(s));
    if (!remembered && !disclosed)
      return refuse('consent_required', 'the person has not allowed this client these scopes', 403);
  }
  const now = ctx.clock.now();
  // The consent row is FedCM's connection record too (approved_clients), for every client.
  await ctx.store.consents.remember(user.sub, client.id, request.scope, now);
  const code = await createAuthorizationCode(ctx, request, session, origin);
  await audit(ctx, 'fedcm.assertion_issued', {
    subject: user.sub,
    clientId: client.id,
    ip: req.ip,
    detail: { origin, scope: request.scope.join(' ') },
  });
  return { code, origin };
}

/**
 * Forgets the person's connection to a client (FedCM's disconnect): their consent row goes, so
 * `approved_clients` drops the client and the next dialog offers to sign up again. Grants already
 * issued stay: the app's own session is the app's to end.
 */
export async function fedcmDisconnect(
  ctx: IssuerContext,
  req: FedcmRequest,
  form: { clientId: string | undefined; accountHint: string | undefined },
): Promise<{ accountId: string; origin: string }> {
  const refused = auditedRefusal(ctx, req, 'fedcm.disconnect_refused');
  const { client, origin, user } = await admit(ctx, req, form.clientId, refused);
  const hint = form.accountHint ?? '';
  if (hint !== user.sub && hint.toLowerCase() !== user.email.toLowerCase())
    return refused(client, new FedcmRefusal('access_denied', 'that account is not signed in here', 403, origin));
  const forgotten = await ctx.store.consents.forget(user.sub, client.id);
  await audit(ctx, 'fedcm.disconnected', { subject: user.sub, clientId: client.id, ip: req.ip, detail: { forgotten } });
  return { accountId: user.sub, origin };
}
