/**
 * FedCM at the issuer (docs/architecture.md, "FedCM"): the well-known file and config, the accounts,
 * client metadata, assertion and disconnect endpoints the browser calls for an app's page, and the
 * sign-in window (login_url) that ends at a page closing it. The JSON endpoints answer JSON only,
 * never a redirect or a page: the browser reads them, no person does.
 */
import { Hono, type Context, type ErrorHandler } from 'hono';
import { ISSUER_PATHS, OAuthError } from '@tessera/shared';
import { renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { noStore } from '../http/cache-control.js';
import { readFedcmCookie, readSessionCookie } from '../http/cookies.js';
import { deviceOf } from '../http/device.js';
import type { Env } from '../http/env.js';
import { readForm } from '../http/forms.js';
import { fedcmAccounts } from '../protocol/fedcm-accounts.js';
import { FedcmRefusal, fedcmAssertion, fedcmDisconnect, type FedcmRequest } from '../protocol/fedcm-assertion.js';
import { fedcmClientMetadata, fedcmConfigDocument, webIdentityDocument } from '../protocol/fedcm-documents.js';
import { findActiveFedcmSession, findActiveSession } from '../protocol/sso-session.js';
import { fedcmSignedInPage } from '../views/fedcm-pages.js';
import { BRAND_COLOURS, BRAND_ICON_PATH, BRAND_ICON_SIZE, pictureUrl } from '../views/pictures.js';
import { signInFirst } from './fresh-sign-in.js';

/** What a registered origin's page may read of an answer (FedCM: the browser checks these). */
function allowOrigin(c: Context<Env>, origin: string): void {
  c.header('Access-Control-Allow-Origin', origin);
  c.header('Access-Control-Allow-Credentials', 'true');
}

/**
 * The FedCM endpoints' errors, JSON and never cached. The assertion and disconnect endpoints use
 * FedCM's shape (`{"error":{"code"}}`) with CORS for a registered origin only; the accounts and
 * client metadata endpoints answer as RFC 6749 §5.2 does.
 */
const fedcmErrors: ErrorHandler<Env> = (err, c) => {
  if (!(err instanceof OAuthError)) throw err;
  noStore(c);
  const path = c.req.path;
  if (path === ISSUER_PATHS.fedcmAssertion || path === ISSUER_PATHS.fedcmDisconnect) {
    c.header('Vary', 'Origin');
    if (err instanceof FedcmRefusal && err.allowedOrigin !== undefined) allowOrigin(c, err.allowedOrigin);
    return c.json({ error: { code: err.error } }, err.status);
  }
  return c.json(err.toJSON(), err.status);
};

export function fedcmRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.onError(fedcmErrors);
  const { issuer } = ctx.config;

  /** The credentialed request's headers and FedCM cookie (never the session cookie). */
  const fedcmRequest = (c: Context<Env>): FedcmRequest => ({
    fetchDest: c.req.header('sec-fetch-dest'),
    origin: c.req.header('origin'),
    fedcmCookie: readFedcmCookie(c, ctx.config),
    ip: deviceOf(c, ctx.config).ip,
  });

  // Fetched by the browser without cookies; the same for everyone.
  app.get(ISSUER_PATHS.webIdentity, (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(webIdentityDocument(issuer));
  });
  const branding = {
    background_color: BRAND_COLOURS.background,
    color: BRAND_COLOURS.text,
    icons: [{ url: issuer + BRAND_ICON_PATH, size: BRAND_ICON_SIZE }],
  };
  app.get(ISSUER_PATHS.fedcmConfig, (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(fedcmConfigDocument(issuer, branding));
  });

  app.get(ISSUER_PATHS.fedcmAccounts, async function accounts(c) {
    noStore(c);
    if (c.req.header('sec-fetch-dest') !== 'webidentity')
      throw new OAuthError('invalid_request', 'not a FedCM request (Sec-Fetch-Dest)');
    const session = await findActiveFedcmSession(ctx, readFedcmCookie(c, ctx.config));
    return c.json(await fedcmAccounts(ctx, session, (person) => pictureUrl(issuer, person)));
  });

  app.get(ISSUER_PATHS.fedcmClientMetadata, async function clientMetadata(c) {
    noStore(c);
    return c.json(await fedcmClientMetadata(ctx, c.req.query('client_id')));
  });

  app.post(ISSUER_PATHS.fedcmAssertion, async function assertion(c) {
    noStore(c);
    c.header('Vary', 'Origin');
    const form = await readForm(c);
    const { code, origin } = await fedcmAssertion(ctx, fedcmRequest(c), {
      clientId: form.get('client_id'),
      accountId: form.get('account_id'),
      params: form.get('params'),
      disclosureTextShown: form.get('disclosure_text_shown'),
    });
    allowOrigin(c, origin);
    return c.json({ token: code });
  });

  app.post(ISSUER_PATHS.fedcmDisconnect, async function disconnect(c) {
    noStore(c);
    c.header('Vary', 'Origin');
    const form = await readForm(c);
    const { accountId, origin } = await fedcmDisconnect(ctx, fedcmRequest(c), {
      clientId: form.get('client_id'),
      accountHint: form.get('account_hint'),
    });
    allowOrigin(c, origin);
    return c.json({ account_id: accountId });
  });

  /**
   * The login_url, opened by the browser in a window: a sign-in at the issuer that ends at the
   * signed-in page. A browser whose session has no FedCM cookie yet (a session from before FedCM,
   * or the cookie lost) signs in again, which sets both.
   */
  app.get(ISSUER_PATHS.fedcmSignIn, async function fedcmSignIn(c) {
    noStore(c);
    const session = await findActiveSession(ctx, readSessionCookie(c, ctx.config));
    const fedcm = await findActiveFedcmSession(ctx, readFedcmCookie(c, ctx.config));
    if (session && fedcm?.id === session.id) return c.redirect(ISSUER_PATHS.fedcmSignedIn, 303);
    return signInFirst(c, ctx, ISSUER_PATHS.fedcmSignedIn);
  });

  app.get(ISSUER_PATHS.fedcmSignedIn, async function fedcmSignedIn(c) {
    noStore(c);
    const session = await findActiveSession(ctx, readSessionCookie(c, ctx.config));
    const user = session && (await ctx.store.users.findBySub(session.userId));
    if (!user || user.disabledAt !== null) return c.redirect(ISSUER_PATHS.fedcmSignIn, 303);
    // The Login Status API (FedCM): this browser is signed in at the issuer.
    c.header('Set-Login', 'logged-in');
    return renderPage(c, () => fedcmSignedInPage({ displayName: user.displayName }));
  });

  return app;
}
