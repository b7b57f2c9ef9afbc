/** The authorization endpoint (OIDC Core §3.1.2.1: GET and POST). */
import { Hono, type Context } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { noStore } from '../http/cache-control.js';
import { browserBinding, readSessionCookie } from '../http/cookies.js';
import type { Env } from '../http/env.js';
import { authorizationEndpointErrors } from '../http/error-handlers.js';
import { readForm } from '../http/forms.js';
import { readParams } from '../protocol/params.js';
import { readAuthorizationRequest } from '../protocol/authorization-request.js';
import { authorize, type AuthorizeOutcome } from '../protocol/authorize.js';
import { resolveAuthorizationParams } from '../protocol/pushed-authorization-request.js';
import { findActiveSession } from '../protocol/sso-session.js';
import { SECOND_FACTOR_PATH } from './paths.js';

/** Turns an outcome into a response; after a form POST, 303 makes the browser follow with GET. */
export function respondToOutcome(c: Context<Env>, outcome: AuthorizeOutcome, status: 302 | 303): Response {
  return c.redirect(outcomeLocation(outcome), status);
}

/** Where an outcome sends the browser: the client, or the issuer page the interaction waits at. */
export function outcomeLocation(outcome: AuthorizeOutcome): string {
  if (outcome.kind === 'redirect') return outcome.url;
  const page = { 'sign-in': ISSUER_PATHS.signIn, factor: SECOND_FACTOR_PATH, consent: ISSUER_PATHS.consent }[
    outcome.kind
  ];
  return `${page}?interaction=${encodeURIComponent(outcome.interaction.id)}`;
}

export function authorizeRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.onError(authorizationEndpointErrors(ctx.config.issuer));
  const userinfoEndpoint = ctx.config.issuer + ISSUER_PATHS.userinfo;
  app.on(['GET', 'POST'], ISSUER_PATHS.authorization, async function authorizeEndpoint(c) {
    noStore(c);
    const params =
      c.req.method === 'GET' ? readParams(new URL(c.req.url).searchParams) : await readForm(c, { duplicates: 'keep' });
    const resolved = await resolveAuthorizationParams(ctx, params);
    const { request, client } = await readAuthorizationRequest(
      resolved.params,
      ctx.store,
      userinfoEndpoint,
      resolved.pushed,
    );
    const session = await findActiveSession(ctx, readSessionCookie(c, ctx.config));
    const outcome = await authorize(ctx, request, session, browserBinding(c, ctx.config), undefined, { client });
    return respondToOutcome(c, outcome, 302);
  });
  return app;
}
