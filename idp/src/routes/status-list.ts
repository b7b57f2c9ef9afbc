/**
 * Token status lists over HTTP (draft-ietf-oauth-status-list-21 §8): each list's signed Status
 * List Token at `/statuslists/<id>`, and their aggregation (§9) at `/statuslists`. Both are
 * public, cacheable for the list `ttl`, and open to any origin.
 */
import { Hono } from 'hono';
import { STATUS_LIST_MEDIA_TYPE, matchesIfNoneMatch } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { STATUS_LIST_PATH } from '../status-list/status-lists.js';
import type { Env } from '../http/env.js';
import { openToAnyOrigin } from '../http/any-origin.js';

const LIST_ID = /^[1-9][0-9]{0,14}$/;

/** §8.1: whether an Accept header admits the JWT form; without one, the JWT form is what is served. */
function acceptsJwt(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((range) => {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) === 0) return false;
    return type === STATUS_LIST_MEDIA_TYPE || type === 'application/*' || type === '*/*';
  });
}

export function statusListRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  // §8.1: the endpoint SHOULD support CORS, so that browser-based verifiers can read it.
  const anyOrigin = openToAnyOrigin({ allowMethods: ['GET'], exposeHeaders: ['ETag'] });
  app.use(STATUS_LIST_PATH, anyOrigin);
  app.use(`${STATUS_LIST_PATH}/*`, anyOrigin);

  app.get(STATUS_LIST_PATH, async function statusListAggregation(c) {
    c.header('Cache-Control', `public, max-age=${ctx.config.statusListTtl}`);
    // §9.3: the URIs of the Status List Tokens, in a `status_lists` array.
    return c.json({ status_lists: await ctx.statusLists.aggregation() });
  });

  app.get(`${STATUS_LIST_PATH}/:id`, async function statusListToken(c) {
    const id = c.req.param('id');
    if (!LIST_ID.test(id)) return c.notFound();
    // §8.4: a server without historical resolution SHOULD answer 501.
    if (c.req.query('time') !== undefined) {
      return c.json({ error: 'not_implemented', error_description: 'historical status lists are not kept' }, 501);
    }
    if (!acceptsJwt(c.req.header('accept'))) {
      return c.json(
        { error: 'not_acceptable', error_description: `status lists are served as ${STATUS_LIST_MEDIA_TYPE} only` },
        406,
      );
    }
    const published = await ctx.statusLists.token(Number(id));
    if (!published) return c.notFound();
    // §5.1 ttl: no cache on the way keeps it longer than a verifier may.
    c.header('Cache-Control', `public, max-age=${ctx.config.statusListTtl}`);
    c.header('ETag', published.etag);
    // RFC 9110 §13.1.2: a matching If-None-Match answers 304 with no body.
    if (matchesIfNoneMatch(c.req.header('if-none-match'), published.etag)) return c.body(null, 304);
    // §8.2: the JWT form is served as application/statuslist+jwt.
    c.header('Content-Type', STATUS_LIST_MEDIA_TYPE);
    return c.body(published.token);
  });
  return app;
}
