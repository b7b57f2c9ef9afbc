/**
 * The development mail viewer: what the issuer would have mailed, read from the outbox directory,
 * so a newcomer to the demo can follow a reset or verification link without a mail server. Only
 * mounted when mail goes to the outbox, which production refuses (config/load-config.ts).
 */
import { Hono } from 'hono';
import { renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { noStore } from '../http/cache-control.js';
import type { Env } from '../http/env.js';
import { listOutbox, readOutboxMessage, type OutboxMessage } from '../mail/outbox.js';
import { errorPage } from '../views/pages.js';
import { mailListPage, mailMessagePage } from '../views/mail-pages.js';

export const DEV_MAIL_PATH = '/dev/mail';

export function devMailRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  const { transport } = ctx.config.mail;
  if (ctx.config.production || transport.kind !== 'outbox') return app;
  const directory = transport.directory;

  app.get(DEV_MAIL_PATH, async function listMail(c) {
    noStore(c);
    const messages: OutboxMessage[] = [];
    for (const name of await listOutbox(directory)) {
      const message = await readOutboxMessage(directory, name);
      if (message) messages.push(message);
    }
    return renderPage(c, () => mailListPage(messages));
  });

  app.get(`${DEV_MAIL_PATH}/:name`, async function showMail(c) {
    noStore(c);
    const message = await readOutboxMessage(directory, c.req.param('name'));
    if (!message)
      return renderPage(c, () => errorPage('Not found', 'not_found', 'There is no such message in the outbox.'), 404);
    return renderPage(c, () => mailMessagePage(message, new URL(ctx.config.issuer).origin));
  });

  return app;
}
