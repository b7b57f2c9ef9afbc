/**
 * The device authorization grant's two surfaces (RFC 8628): the device authorization endpoint a
 * device posts to (§3.1), and the device page where a person enters the code it shows (§3.3). The
 * page works without JavaScript; its forms carry a token bound to the session cookie and pass a
 * same-origin check (OWASP CSRF Prevention), as the account page's do.
 */
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import { renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { safeEqual } from '../crypto/digest.js';
import { noStore } from '../http/cache-control.js';
import { browserBinding, readSessionCookie } from '../http/cookies.js';
import { deviceOf } from '../http/device.js';
import type { Env } from '../http/env.js';
import { tokenEndpointErrors } from '../http/error-handlers.js';
import { readForm } from '../http/forms.js';
import { isSameOriginForm } from '../http/same-origin.js';
import { requestContext } from '../http/request-context.js';
import { startInteraction } from '../protocol/authorize.js';
import { authenticateClient } from '../protocol/client-auth.js';
import { decideOnDevice, lookUpUserCode } from '../protocol/device-approval.js';
import { startDeviceAuthorization } from '../protocol/device-authorization.js';
import { findActiveSession } from '../protocol/sso-session.js';
import { displayUserCode, normalizeUserCode } from '../protocol/user-code.js';
import type { SsoSession } from '../store/index.js';
import { approveDevicePage, deviceDecidedPage, enterCodePage } from '../views/device-pages.js';
import { forbiddenForm } from './interaction.js';

/** A CSRF token bound to the session cookie; its label keeps it from serving any other form. */
const deviceCsrfToken = (sessionSecret: string) =>
  createHash('sha256').update(`device-approval:${sessionSecret}`).digest('base64url');

export function deviceAuthorizationRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.onError(tokenEndpointErrors);
  app.post(ISSUER_PATHS.deviceAuthorization, async function deviceAuthorization(c) {
    noStore(c);
    const params = await readForm(c);
    // §3.1: the client authenticates as at the token endpoint (a public client names itself).
    const client = await authenticateClient(requestContext(c, ctx), c.req.header('authorization'), params);
    return c.json(await startDeviceAuthorization(ctx, client, params, deviceOf(c, ctx.config)));
  });
  return app;
}

export function devicePageRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();

  /** Signs the browser in first, then brings it back here with the code it arrived with. */
  async function signInFirst(c: Context<Env>, input: string | undefined): Promise<Response> {
    const code = input === undefined ? undefined : normalizeUserCode(input);
    const returnTo = ISSUER_PATHS.device + (code ? `?user_code=${displayUserCode(code)}` : '');
    const interaction = await startInteraction(ctx, null, browserBinding(c, ctx.config), returnTo);
    return c.redirect(`${ISSUER_PATHS.signIn}?interaction=${encodeURIComponent(interaction.id)}`, 303);
  }

  /** The page for a code: the request it names, or the form again with why not. */
  async function pageForCode(c: Context<Env>, session: SsoSession, secret: string, input: string) {
    const csrfToken = deviceCsrfToken(secret);
    const user = await ctx.store.users.findBySub(session.userId);
    const userEmail = user?.email ?? '';
    const found = await lookUpUserCode(ctx, session, input, deviceOf(c, ctx.config).ip);
    if (found.kind === 'found') {
      const { authorization, client } = found;
      return renderPage(c, () =>
        approveDevicePage({
          csrfToken,
          userEmail,
          clientName: client.name,
          userCode: displayUserCode(authorization.userCode),
          device: authorization.deviceDescription,
          ip: authorization.deviceIp,
          minutesAgo: Math.floor((ctx.clock.now() - authorization.createdAt) / 60_000),
          scopes: authorization.scope.split(' '),
        }),
      );
    }
    const error =
      found.kind === 'throttled'
        ? 'Too many wrong codes. Wait a few minutes, then try again.'
        : 'That code is not valid, or it has expired or been used. Check the code on your device.';
    return renderPage(
      c,
      () => enterCodePage({ csrfToken, userEmail, error, code: input.slice(0, 16) }),
      found.kind === 'throttled' ? 429 : 400,
    );
  }

  app.get(ISSUER_PATHS.device, async function showDevicePage(c) {
    noStore(c);
    const secret = readSessionCookie(c, ctx.config);
    const session = await findActiveSession(ctx, secret);
    const input = c.req.query('user_code');
    if (!session || secret === undefined) return signInFirst(c, input);
    if (input === undefined) {
      const user = await ctx.store.users.findBySub(session.userId);
      return renderPage(c, () => enterCodePage({ csrfToken: deviceCsrfToken(secret), userEmail: user?.email ?? '' }));
    }
    return pageForCode(c, session, secret, input);
  });

  app.post(ISSUER_PATHS.device, async function submitDevicePage(c) {
    noStore(c);
    const form = await readForm(c);
    if (!isSameOriginForm(c, ctx.config)) return forbiddenForm(c);
    const secret = readSessionCookie(c, ctx.config);
    const session = await findActiveSession(ctx, secret);
    const input = form.get('user_code') ?? '';
    if (!session || secret === undefined) return signInFirst(c, input);
    if (!safeEqual(form.get('csrf_token') ?? '', deviceCsrfToken(secret))) return forbiddenForm(c);
    const decision = form.get('decision');
    if (decision === undefined) return pageForCode(c, session, secret, input);
    if (decision !== 'approve' && decision !== 'deny') return forbiddenForm(c);
    // A decision names its code too: it is looked up under the same throttle, so posting
    // decisions is no faster a way to guess codes than entering them.
    const ip = deviceOf(c, ctx.config).ip;
    const found = await lookUpUserCode(ctx, session, input, ip);
    if (found.kind !== 'found') return pageForCode(c, session, secret, input);
    const approve = decision === 'approve';
    if (!(await decideOnDevice(ctx, session, found.authorization, approve, ip)))
      return pageForCode(c, session, secret, input);
    return renderPage(c, () => deviceDecidedPage(approve, found.client.name));
  });

  return app;
}
