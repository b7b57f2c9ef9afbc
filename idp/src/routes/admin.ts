/**
 * The admin console at /admin: people, the audit trail and the signing keys, for a person with the
 * admin role (granted by the CLI only) whose session is recent and was signed in with two factors
 * or a passkey. A high-value target, so every change is a POST that passes the issuer's
 * same-origin check AND carries a form token bound to the session (OWASP CSRF Prevention, both
 * defences at once), is answered with a redirect (Post/Redirect/Get), and is audited with the
 * admin's `sub` as its actor. The console calls the protocol functions the CLI calls.
 */
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { safeEqual } from '../crypto/digest.js';
import { noStore } from '../http/cache-control.js';
import { readSessionCookie } from '../http/cookies.js';
import { deviceOf } from '../http/device.js';
import type { Env } from '../http/env.js';
import { readForm } from '../http/forms.js';
import { requestContext } from '../http/request-context.js';
import { isSameOriginForm } from '../http/same-origin.js';
import { listSigningKeys, rotateFromCommand } from '../keys/key-commands.js';
import { KeyRotationError } from '../keys/key-rotation.js';
import { audit } from '../protocol/audit.js';
import { findActiveSession } from '../protocol/sso-session.js';
import {
  SEARCH_MAX,
  SelfChangeRefused,
  UnknownPerson,
  disableAccount,
  enableAccount,
  endSessionsOf,
  findPeople,
  personOverview,
  resendVerification,
  sendPasswordReset,
  type Operator,
} from '../protocol/users-admin.js';
import { AuditQueryError, auditQuery } from '../protocol/audit-trail.js';
import type { Params } from '../protocol/params.js';
import {
  RegistrationError,
  deleteClient,
  registerClient,
  registerResource,
  reviseClient,
  rotateClientSecret,
} from '../protocol/registration.js';
import {
  ADMIN_PATHS,
  CLIENT_NOTICES,
  USER_NOTICES,
  auditPage,
  clientPage,
  clientPath,
  clientSecretPage,
  clientsPage,
  consoleHomePage,
  consoleRefusalPage,
  keysPage,
  userPage,
  userPath,
  usersPage,
  type ClientFormValues,
  type ClientNotice,
  type ConsoleFrame,
  type UserNotice,
} from '../views/admin-pages.js';
import { INTERRUPTED_CHANGE, requireFreshSignIn, signInFirst } from './fresh-sign-in.js';

/**
 * The console's form token: bound to the session cookie's secret, so only a page served to this
 * browser in this session has it, and it changes when the secret does (every sign-in and step-up).
 * Its label keeps it apart from the account page's token.
 */
export const adminFormToken = (sessionSecret: string) =>
  createHash('sha256').update(`admin-console:${sessionSecret}`).digest('base64url');

/** Session ids and subs are randomId(): 22 base64url characters. Anything else names no one. */
const SUB = /^[A-Za-z0-9_-]{1,64}$/;

const notAdmin = (c: Context<Env>) =>
  renderPage(c, () => consoleRefusalPage('Not allowed', 'The admin console is for administrators only.'), 403);

const refusedForm = (c: Context<Env>) =>
  renderPage(
    c,
    () =>
      consoleRefusalPage(
        'Request refused',
        'This form was not sent from this console, or it has expired. Reload the page and try again.',
      ),
    403,
  );

const noSuchClient = (c: Context<Env>) =>
  renderPage(c, () => consoleRefusalPage('Not found', 'There is no such client.'), 404);

/** Client ids as registration accepts them (RFC 3986 unreserved characters). */
const CLIENT_ID = /^[A-Za-z0-9._~-]{1,64}$/;

/** A textarea's URIs, one per line, blank lines ignored. */
const uriLines = (text: string | undefined) =>
  (text ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);

/** The client form as sent: the text kept to show it again with the reason when refused. */
function clientFormValues(form: Params): ClientFormValues {
  return {
    name: form.get('name') ?? '',
    type: form.get('type') ?? '',
    party: form.get('party') ?? '',
    redirectUris: form.get('redirect_uris') ?? '',
    postLogoutRedirectUris: form.get('post_logout_redirect_uris') ?? '',
    resources: form.names.filter((n) => /^resource_\d{1,3}$/.test(n)).map((n) => form.get(n)!),
    requireMfa: form.get('require_mfa') === '1',
  };
}

const noSuchPerson = (c: Context<Env>) =>
  renderPage(c, () => consoleRefusalPage('Not found', 'There is no such account.'), 404);

interface Admitted extends ConsoleFrame {
  operator: Operator;
}

export function adminRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();

  /**
   * The console's gate, on every page and form: a signed-in admin (else a sign-in, or 403 for
   * anyone else), signed in recently with two factors or a passkey (else the sign-in or the factor
   * page, coming back to `returnTo`, a constant path of the console).
   */
  async function admit(c: Context<Env>, returnTo: string): Promise<Admitted | Response> {
    const secret = readSessionCookie(c, ctx.config);
    const session = await findActiveSession(ctx, secret);
    if (!session) return signInFirst(c, ctx, returnTo);
    const admin = await ctx.store.users.findBySub(session.userId);
    if (!admin?.admin || admin.disabledAt !== null) return notAdmin(c);
    const again = await requireFreshSignIn(c, ctx, session, returnTo, { secondFactor: true });
    if (again) return again;
    return {
      admin,
      formToken: adminFormToken(secret!),
      operator: { actor: admin.sub, ip: deviceOf(c, ctx.config).ip },
      interrupted: c.req.method === 'GET' && c.req.query(INTERRUPTED_CHANGE) === '1',
    };
  }

  /**
   * The checks every change passes, in this order: a form from the issuer's own origin, then the
   * gate, then the session's form token. A refused token is audited: someone tried to make an
   * admin's browser act.
   */
  async function admitChange(
    c: Context<Env>,
    returnTo: string,
  ): Promise<{ admitted: Admitted; form: Params } | Response> {
    const form = await readForm(c);
    if (!isSameOriginForm(c, ctx.config)) return refusedForm(c);
    const admitted = await admit(c, returnTo);
    if (admitted instanceof Response) return admitted;
    if (!safeEqual(form.get('form_token') ?? '', admitted.formToken)) {
      await audit(ctx, 'admin.form_refused', {
        subject: admitted.admin.sub,
        ip: admitted.operator.ip,
        // Cut by code points: half a surrogate pair is no text PostgreSQL's jsonb will store.
        detail: { path: [...c.req.path].slice(0, 200).join('') },
      });
      return refusedForm(c);
    }
    return { admitted, form };
  }

  app.use(`${ADMIN_PATHS.home}/*`, async function noStoreConsole(c, next) {
    noStore(c);
    await next();
  });
  app.use(ADMIN_PATHS.home, async function noStoreHome(c, next) {
    noStore(c);
    await next();
  });

  app.get(ADMIN_PATHS.home, async function showConsole(c) {
    const admitted = await admit(c, ADMIN_PATHS.home);
    if (admitted instanceof Response) return admitted;
    return renderPage(c, () => consoleHomePage(admitted));
  });

  // --- People -------------------------------------------------------------------------------

  app.get(ADMIN_PATHS.users, async function searchUsers(c) {
    const admitted = await admit(c, ADMIN_PATHS.users);
    if (admitted instanceof Response) return admitted;
    const text = c.req.query('q');
    if (text === undefined || text.trim() === '') return renderPage(c, () => usersPage(admitted, { text: '' }));
    if (text.length > SEARCH_MAX) {
      const error = `Search for at most ${SEARCH_MAX} characters.`;
      return renderPage(c, () => usersPage(admitted, { text: '', error }), 400);
    }
    const { people, more } = await findPeople(ctx, text);
    return renderPage(c, () => usersPage(admitted, { text, people, more }));
  });

  app.get(`${ADMIN_PATHS.users}/:sub`, async function showUser(c) {
    const admitted = await admit(c, ADMIN_PATHS.users);
    if (admitted instanceof Response) return admitted;
    const sub = c.req.param('sub');
    if (!SUB.test(sub)) return noSuchPerson(c);
    const done = c.req.query('done');
    const notice = done !== undefined && Object.hasOwn(USER_NOTICES, done) ? USER_NOTICES[done as UserNotice] : '';
    try {
      const overview = await personOverview(ctx, sub);
      return renderPage(c, () => userPage(admitted, overview, notice ? { notice } : {}));
    } catch (e) {
      if (e instanceof UnknownPerson) return noSuchPerson(c);
      throw e;
    }
  });

  /**
   * One change to a person: `change` returns the notice to show after the redirect. It is given the
   * request's context, so its log lines, and those of the mail it sends, carry the request id.
   */
  function personChange(path: string, change: (sub: string, by: Admitted, rctx: IssuerContext) => Promise<UserNotice>) {
    app.post(`${ADMIN_PATHS.users}/:sub/${path}`, async function changePerson(c) {
      const checked = await admitChange(c, ADMIN_PATHS.users);
      if (checked instanceof Response) return checked;
      const sub = c.req.param('sub');
      if (!SUB.test(sub)) return noSuchPerson(c);
      try {
        const notice = await change(sub, checked.admitted, requestContext(c, ctx));
        return c.redirect(`${userPath(sub)}?done=${notice}`, 303);
      } catch (e) {
        if (e instanceof UnknownPerson) return noSuchPerson(c);
        if (e instanceof SelfChangeRefused) {
          const view = await personOverview(ctx, sub);
          return renderPage(
            c,
            () => userPage(checked.admitted, view, { error: 'You cannot disable your own account.' }),
            409,
          );
        }
        throw e;
      }
    });
  }
  personChange('disable', async (sub, by, rctx) =>
    (await disableAccount(rctx, sub, by.operator)) ? 'disabled' : 'unchanged',
  );
  personChange('enable', async (sub, by, rctx) =>
    (await enableAccount(rctx, sub, by.operator)) ? 'enabled' : 'unchanged',
  );
  personChange('resend-verification', async (sub, by, rctx) =>
    (await resendVerification(rctx, sub, by.operator)) ? 'verification-sent' : 'already-verified',
  );
  personChange('send-reset', async (sub, by, rctx) => {
    await sendPasswordReset(rctx, sub, by.operator);
    return 'reset-sent';
  });
  personChange('end-sessions', async (sub, by, rctx) => {
    await endSessionsOf(rctx, sub, by.operator);
    return 'sessions-ended';
  });

  // --- The audit trail ----------------------------------------------------------------------

  app.get(ADMIN_PATHS.audit, async function showAudit(c) {
    const admitted = await admit(c, ADMIN_PATHS.audit);
    if (admitted instanceof Response) return admitted;
    const values = {
      type: c.req.query('type') ?? '',
      person: c.req.query('person') ?? '',
      client: c.req.query('client') ?? '',
      since: c.req.query('since') ?? '',
      until: c.req.query('until') ?? '',
    };
    try {
      const { events, older } = await auditQuery(ctx, { ...values, before: c.req.query('before') ?? '' });
      return renderPage(c, () => auditPage(admitted, { values, events, ...(older ? { older } : {}) }));
    } catch (e) {
      if (!(e instanceof AuditQueryError)) throw e;
      const shown = { values, events: [], error: e.message };
      return renderPage(c, () => auditPage(admitted, shown), 400);
    }
  });

  // --- Clients and resources ------------------------------------------------------------------

  /** The clients page, with what a refused form sent and why, or a notice. */
  async function showClients(
    c: Context<Env>,
    by: Admitted,
    shown: Omit<Parameters<typeof clientsPage>[1], 'clients' | 'resources'>,
    status: 200 | 400 = 200,
  ) {
    const clients = await ctx.store.clients.list();
    const resources = await ctx.store.resources.list();
    return renderPage(c, () => clientsPage(by, { clients, resources, ...shown }), status);
  }

  app.get(ADMIN_PATHS.clients, async function listClients(c) {
    const admitted = await admit(c, ADMIN_PATHS.clients);
    if (admitted instanceof Response) return admitted;
    const done = c.req.query('done');
    const notice =
      done !== undefined && Object.hasOwn(CLIENT_NOTICES, done) ? CLIENT_NOTICES[done as ClientNotice] : '';
    return showClients(c, admitted, notice ? { notice } : {});
  });

  app.post(ADMIN_PATHS.clients, async function createClient(c) {
    const checked = await admitChange(c, ADMIN_PATHS.clients);
    if (checked instanceof Response) return checked;
    const { admitted, form } = checked;
    const values = clientFormValues(form);
    try {
      if (values.type !== 'confidential' && values.type !== 'public')
        throw new RegistrationError('type must be confidential or public');
      if (values.party !== 'first' && values.party !== 'third')
        throw new RegistrationError('party must be first or third');
      const { client, secret } = await registerClient(
        ctx,
        {
          name: values.name,
          type: values.type,
          party: values.party,
          redirectUris: uriLines(values.redirectUris),
          postLogoutRedirectUris: uriLines(values.postLogoutRedirectUris),
          resources: values.resources,
          requireMfa: values.requireMfa,
        },
        admitted.operator,
      );
      // The secret is on this answer alone: no redirect could carry it without storing it.
      return renderPage(c, () => clientSecretPage(admitted, client, secret));
    } catch (e) {
      if (!(e instanceof RegistrationError)) throw e;
      return showClients(c, admitted, { values, error: e.message }, 400);
    }
  });

  app.post(ADMIN_PATHS.resources, async function createResource(c) {
    const checked = await admitChange(c, ADMIN_PATHS.clients);
    if (checked instanceof Response) return checked;
    const { admitted, form } = checked;
    const resourceValues = { id: form.get('id') ?? '', name: form.get('name') ?? '', scopes: form.get('scopes') ?? '' };
    try {
      const scopes = resourceValues.scopes.split(' ').filter(Boolean);
      await registerResource(ctx, { id: resourceValues.id, name: resourceValues.name, scopes }, admitted.operator);
    } catch (e) {
      if (!(e instanceof RegistrationError)) throw e;
      return showClients(c, admitted, { resourceValues, error: e.message }, 400);
    }
    return c.redirect(`${ADMIN_PATHS.clients}?done=resource-created`, 303);
  });

  /** The client a console path names, or the 404 to send instead. */
  async function namedClient(c: Context<Env>) {
    const id = c.req.param('id') ?? '';
    const client = CLIENT_ID.test(id) ? await ctx.store.clients.findById(id) : undefined;
    return client ?? noSuchClient(c);
  }

  app.get(`${ADMIN_PATHS.clients}/:id`, async function showClient(c) {
    const admitted = await admit(c, ADMIN_PATHS.clients);
    if (admitted instanceof Response) return admitted;
    const client = await namedClient(c);
    if (client instanceof Response) return client;
    const notice = c.req.query('done') === 'updated' ? CLIENT_NOTICES.updated : undefined;
    const resources = await ctx.store.resources.list();
    return renderPage(c, () => clientPage(admitted, client, resources, notice ? { notice } : {}));
  });

  app.post(`${ADMIN_PATHS.clients}/:id`, async function changeClient(c) {
    const checked = await admitChange(c, ADMIN_PATHS.clients);
    if (checked instanceof Response) return checked;
    const client = await namedClient(c);
    if (client instanceof Response) return client;
    const values = clientFormValues(checked.form);
    try {
      await reviseClient(
        ctx,
        client.id,
        {
          redirectUris: uriLines(values.redirectUris),
          postLogoutRedirectUris: uriLines(values.postLogoutRedirectUris),
          resources: values.resources,
          requireMfa: values.requireMfa,
        },
        checked.admitted.operator,
      );
    } catch (e) {
      if (!(e instanceof RegistrationError)) throw e;
      const resources = await ctx.store.resources.list();
      return renderPage(c, () => clientPage(checked.admitted, client, resources, { values, error: e.message }), 400);
    }
    return c.redirect(`${clientPath(client.id)}?done=updated`, 303);
  });

  app.post(`${ADMIN_PATHS.clients}/:id/rotate-secret`, async function rotateSecret(c) {
    const checked = await admitChange(c, ADMIN_PATHS.clients);
    if (checked instanceof Response) return checked;
    const client = await namedClient(c);
    if (client instanceof Response) return client;
    try {
      const secret = await rotateClientSecret(ctx, client.id, checked.admitted.operator);
      return renderPage(c, () => clientSecretPage(checked.admitted, client, secret));
    } catch (e) {
      if (!(e instanceof RegistrationError)) throw e;
      const resources = await ctx.store.resources.list();
      return renderPage(c, () => clientPage(checked.admitted, client, resources, { error: e.message }), 409);
    }
  });

  app.post(`${ADMIN_PATHS.clients}/:id/delete`, async function removeClient(c) {
    const checked = await admitChange(c, ADMIN_PATHS.clients);
    if (checked instanceof Response) return checked;
    const client = await namedClient(c);
    if (client instanceof Response) return client;
    try {
      await deleteClient(ctx, client.id, checked.admitted.operator);
    } catch (e) {
      // Deleted by someone else in between.
      if (!(e instanceof RegistrationError)) throw e;
      return noSuchClient(c);
    }
    return c.redirect(`${ADMIN_PATHS.clients}?done=deleted`, 303);
  });

  // --- Signing keys -------------------------------------------------------------------------

  app.get(ADMIN_PATHS.keys, async function showKeys(c) {
    const admitted = await admit(c, ADMIN_PATHS.keys);
    if (admitted instanceof Response) return admitted;
    const notice = c.req.query('done') === 'rotated' ? 'Rotated: the next key signs from now on.' : undefined;
    const keys = await listSigningKeys(ctx);
    return renderPage(c, () => keysPage(admitted, keys, ctx.clock.now(), notice ? { notice } : {}));
  });

  app.post(`${ADMIN_PATHS.keys}/rotate`, async function rotateKeys(c) {
    const checked = await admitChange(c, ADMIN_PATHS.keys);
    if (checked instanceof Response) return checked;
    try {
      // The CLI's `keys rotate`, never forced from here: a console click must not break verifiers.
      await rotateFromCommand(ctx, false, checked.admitted.admin.sub);
    } catch (e) {
      if (!(e instanceof KeyRotationError)) throw e;
      const keys = await listSigningKeys(ctx);
      return renderPage(c, () => keysPage(checked.admitted, keys, ctx.clock.now(), { error: e.message }), 409);
    }
    return c.redirect(`${ADMIN_PATHS.keys}?done=rotated`, 303);
  });

  return app;
}
