/** The UserInfo endpoint (OIDC Core §5.3): GET and POST, Bearer token (RFC 6750). */
import { Hono, type Context } from 'hono';
import { ISSUER_PATHS, OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import type { PresentedToken } from '../protocol/dpop.js';
import { userinfo } from '../protocol/userinfo.js';
import { noStore } from '../http/cache-control.js';
import { readForm } from '../http/forms.js';
import type { Env } from '../http/env.js';
import { MissingBearerToken, bearerErrors } from '../http/error-handlers.js';
import { openToAnyOrigin } from '../http/any-origin.js';

/**
 * RFC 6750 §2.1 header or §2.2 form body, or RFC 9449 §7.1 `Authorization: DPoP` with its proof in
 * the DPoP header; sending a token in two places is an invalid_request.
 */
async function presentedToken(c: Context<Env>): Promise<{ token: string; presented: PresentedToken } | undefined> {
  const header = c.req.header('authorization');
  let fromBody: string | undefined;
  if (c.req.method === 'POST' && /^application\/x-www-form-urlencoded/i.test(c.req.header('content-type') ?? '')) {
    fromBody = (await readForm(c)).get('access_token');
  }
  const proof = c.req.header('dpop');
  if (header !== undefined) {
    const m = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
    if (!m) throw new OAuthError('invalid_token', 'the Authorization header is not a Bearer or DPoP token');
    if (fromBody !== undefined) throw new OAuthError('invalid_request', 'send the access token in one place only');
    const scheme = m[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    return { token: m[2]!, presented: { scheme, proof, method: c.req.method } };
  }
  return fromBody === undefined
    ? undefined
    : { token: fromBody, presented: { scheme: 'Bearer', proof, method: c.req.method } };
}

export function userinfoRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.onError(bearerErrors);
  app.use(
    ISSUER_PATHS.userinfo,
    openToAnyOrigin({ allowMethods: ['GET', 'POST'], allowHeaders: ['Authorization', 'Content-Type', 'DPoP'] }),
  );
  app.on(['GET', 'POST'], ISSUER_PATHS.userinfo, async function userinfoEndpoint(c) {
    const found = await presentedToken(c);
    if (!found) throw new MissingBearerToken();
    noStore(c);
    return c.json(await userinfo(ctx, found.token, found.presented));
  });
  return app;
}
