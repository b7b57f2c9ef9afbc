/**
 * The FedCM dialog's pictures: the brand icon of the config's `branding`, and the accounts'
 * pictures (views/pictures.ts). Each address names its picture entirely, so each answer may be
 * cached for good; the browser fetches them without cookies.
 */
import { Hono, type Context } from 'hono';
import type { IssuerContext } from '../context.js';
import type { Env } from '../http/env.js';
import { accountPicture, BRAND_ICON_PATH, brandIcon, PICTURES_PATH } from '../views/pictures.js';

/** RFC 9111 §5.2.2.1 max-age, RFC 8246 immutable: what a picture's address names never changes. */
const FOREVER = 'public, max-age=31536000, immutable';

function png(c: Context<Env>, body: Buffer): Response {
  c.header('Content-Type', 'image/png');
  c.header('Cache-Control', FOREVER);
  return c.body(new Uint8Array(body));
}

export function fedcmPictureRoutes(_ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  // Drawn once per process: it is the same for every request.
  const icon = brandIcon();
  app.get(BRAND_ICON_PATH, (c) => png(c, icon));
  app.get(`${PICTURES_PATH}/:name`, (c) => {
    const picture = accountPicture(c.req.param('name'));
    return picture ? png(c, picture) : c.json({ error: 'not_found' }, 404);
  });
  return app;
}
