/** The UserInfo endpoint (OIDC Core §5.3): GET and POST, Bearer token (RFC 6750). */
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import { OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { userinfo } from '../protocol/userinfo.js';
import { noStore } from '../http/cache-control.js';
import { readForm } from '../http/forms.js';
import type { Env } from '../http/env.js';

// RFC 6750 §3: error_description holds only %x20-21 / %x23-5B / %x5D-7E. A description may echo
// request input (a parameter name), and a header value outside that set would be a 500.
const quote = (s: string) => s.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '');

/** RFC 6750 §3: the challenge names the error, except when no token was sent at all (§3.1). */
function bearerError(c: Context<Env>, e: OAuthError | undefined): Response {
  noStore(c);
  if (!e) {
    c.header('WWW-Authenticate', 'Bearer realm="tessera"');
    return c.json({ error: 'invalid_token', error_description: 'a bearer access token is required' }, 401);
  }
  c.header(
    'WWW-Authenticate',
    `Bearer realm="tessera", error="${e.error}", error_description="${quote(e.description)}"`,
  );
  return c.json(e.toJSON(), e.status);
}

/** RFC 6750 §2.1 header or §2.2 form body; using both is an invalid_request. */
async function bearerToken(c: Context<Env>): Promise<string | undefined> {
  const header = c.req.header('authorization');
  let fromBody: string | undefined;
  if (c.req.method === 'POST' && /^application\/x-www-form-urlencoded/i.test(c.req.header('content-type') ?? '')) {
    fromBody = (await readForm(c)).get('access_token');
  }
  if (header !== undefined) {
    const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
    if (!m) throw new OAuthError('invalid_token', 'the Authorization header is not a Bearer token');
    if (fromBody !== undefined) throw new OAuthError('invalid_request', 'send the access token in one place only');
    return m[1];
  }
  return fromBody;
}

export function userinfoRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.use(
    '/userinfo',
    cors({ origin: '*', allowMethods: ['GET', 'POST'], allowHeaders: ['Authorization', 'Content-Type'], maxAge: 600 }),
  );
  app.on(['GET', 'POST'], '/userinfo', async function userinfoEndpoint(c) {
    try {
      const token = await bearerToken(c);
      if (!token) return bearerError(c, undefined);
      noStore(c);
      return c.json(await userinfo(ctx, token));
    } catch (e) {
      if (e instanceof OAuthError) return bearerError(c, e);
      throw e;
    }
  });
  return app;
}
