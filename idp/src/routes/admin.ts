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
import type { IssuerContext } from '../context.js';
import { safeEqual } from '../crypto/digest.js';
import { noStore } from '../http/cache-control.js';
import { readSessionCookie } from '../http/cookies.js';
import { deviceOf } from '../http/device.js';
import type { Env } from '../http/env.js';
import { readForm } from '../http/forms.js';
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
  type Operator,
} from '../protocol/users-admin.js';
import { AuditQueryError, auditQuery } from '../protocol/audit-trail.js';
import type { Params } from '../protocol/params.js';
import {
  ADMIN_PATHS,
  USER_NOTICES,
  auditPage,
  consoleHomePage,
  consoleRefusalPage,
  keysPage,
  userPage,
  userPath,
  usersPage,
  type ConsoleFrame,
  type UserNotice,
} from '../views/admin-pages.js';
import { requireFreshSignIn, signInFirst } from './fresh-sign-in.js';

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
  c.html(consoleRefusalPage('Not allowed', 'The admin console is for administrators only.'), 403);

const refusedForm = (c: Context<Env>) =>
  c.html(
    consoleRefusalPage(
      'Request refused',
      'This form was not sent from this console, or it has expired. Reload the page and try again.',
    ),
    403,
  );

const noSuchPerson = (c: Context<Env>) => c.html(consoleRefusalPage('Not found', 'There is no such account.'), 404);

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
        detail: { path: c.req.path.slice(0, 200) },
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
    return c.html(consoleHomePage(admitted));
  });

  // --- People -------------------------------------------------------------------------------

  app.get(ADMIN_PATHS.users, async function searchUsers(c) {
    const admitted = await admit(c, ADMIN_PATHS.users);
    if (admitted instanceof Response) return admitted;
    const text = c.req.query('q');
    if (text === undefined || text.trim() === '') return c.html(usersPage(admitted, { text: '' }));
    if (text.length > SEARCH_MAX) {
      const error = `Search for at most ${SEARCH_MAX} characters.`;
      return c.html(usersPage(admitted, { text: '', error }), 400);
    }
    const { people, more } = await findPeople(ctx, text);
    return c.html(usersPage(admitted, { text, people, more }));
  });

  app.get(`${ADMIN_PATHS.users}/:sub`, async function showUser(c) {
    const admitted = await admit(c, ADMIN_PATHS.users);
    if (admitted instanceof Response) return admitted;
    const sub = c.req.param('sub');
    if (!SUB.test(sub)) return noSuchPerson(c);
    const done = c.req.query('done');
    const notice = done !== undefined && Object.hasOwn(USER_NOTICES, done) ? USER_NOTICES[done as UserNotice] : '';
    try {
      return c.html(userPage(admitted, await personOverview(ctx, sub), notice ? { notice } : {}));
    } catch (e) {
      if (e instanceof UnknownPerson) return noSuchPerson(c);
      throw e;
    }
  });

  /** One change to a person: `change` returns the notice to show after the redirect. */
  function personChange(path: string, change: (sub: string, by: Admitted) => Promise<UserNotice>) {
    app.post(`${ADMIN_PATHS.users}/:sub/${path}`, async function changePerson(c) {
      const checked = await admitChange(c, ADMIN_PATHS.users);
      if (checked instanceof Response) return checked;
      const sub = c.req.param('sub');
      if (!SUB.test(sub)) return noSuchPerson(c);
      try {
        const notice = await change(sub, checked.admitted);
        return c.redirect(`${userPath(sub)}?done=${notice}`, 303);
      } catch (e) {
        if (e instanceof UnknownPerson) return noSuchPerson(c);
        if (e instanceof SelfChangeRefused) {
          const view = await personOverview(ctx, sub);
          return c.html(userPage(checked.admitted, view, { error: 'You cannot disable your own account.' }), 409);
        }
        throw e;
      }
    });
  }
  personChange('disable', async (sub, by) =>
    (await disableAccount(ctx, sub, by.operator)) ? 'disabled' : 'unchanged',
  );
  personChange('enable', async (sub, by) => ((await enableAccount(ctx, sub, by.operator)) ? 'enabled' : 'unchanged'));
  personChange('end-sessions', async (sub, by) => {
    await endSessionsOf(ctx, sub, by.operator);
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
      return c.html(auditPage(admitted, { values, events, ...(older ? { older } : {}) }));
    } catch (e) {
      if (!(e instanceof AuditQueryError)) throw e;
      const shown = { values, events: [], error: e.message };
      return c.html(auditPage(admitted, shown), 400);
    }
  });

  // --- Signing keys -------------------------------------------------------------------------

  app.get(ADMIN_PATHS.keys, async function showKeys(c) {
    const admitted = await admit(c, ADMIN_PATHS.keys);
    if (admitted instanceof Response) return admitted;
    const notice = c.req.query('done') === 'rotated' ? 'Rotated: the next key signs from now on.' : undefined;
    const keys = await listSigningKeys(ctx);
    return c.html(keysPage(admitted, keys, ctx.clock.now(), notice ? { notice } : {}));
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
      return c.html(keysPage(checked.admitted, keys, ctx.clock.now(), { error: e.message }), 409);
    }
    return c.redirect(`${ADMIN_PATHS.keys}?done=rotated`, 303);
  });

  return app;
}
