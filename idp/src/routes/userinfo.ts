/** The UserInfo endpoint (OIDC Core §5.3): GET and POST, Bearer token (RFC 6750). */
import { Hono, type Context } from 'hono';
import { ISSUER_PATHS, OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { userinfo } from '../protocol/userinfo.js';
import { noStore } from '../http/cache-control.js';
import { readForm } from '../http/forms.js';
import type { Env } from '../http/env.js';
import { MissingBearerToken, bearerErrors } from '../http/error-handlers.js';
import { openToAnyOrigin } from '../http/any-origin.js';

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
  app.onError(bearerErrors);
  app.use(
    ISSUER_PATHS.userinfo,
    openToAnyOrigin({ allowMethods: ['GET', 'POST'], allowHeaders: ['Authorization', 'Content-Type'] }),
  );
  app.on(['GET', 'POST'], ISSUER_PATHS.userinfo, async function userinfoEndpoint(c) {
    const token = await bearerToken(c);
    if (!token) throw new MissingBearerToken();
    noStore(c);
    return c.json(await userinfo(ctx, token));
  });
  return app;
}
