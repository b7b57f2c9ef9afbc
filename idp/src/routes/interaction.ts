/** Finding the interaction a sign-in or consent form belongs to, bound to this browser. */
import type { Context } from 'hono';
import { renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { digest, safeEqual } from '../crypto/digest.js';
import type { Interaction } from '../store/index.js';
import { errorPage } from '../views/pages.js';
import { readBrowserCookie } from '../http/cookies.js';
import type { Env } from '../http/env.js';

/** The interaction, if it exists, is unexpired and was started by this browser. */
export async function findBoundInteraction(
  c: Context<Env>,
  ctx: IssuerContext,
  id: string | undefined,
): Promise<Interaction | undefined> {
  if (!id || id.length > 64) return undefined;
  const interaction = await ctx.store.interactions.find(id, ctx.clock.now());
  const browser = readBrowserCookie(c, ctx.config);
  if (!interaction || !browser || !safeEqual(digest(browser), interaction.browserDigest)) return undefined;
  return interaction;
}

export const expiredInteraction = (c: Context<Env>): Response =>
  renderPage(
    c,
    () =>
      errorPage(
        'This page has expired',
        'invalid_request',
        'This sign-in took too long or was started in another browser. Go back to the app and sign in again.',
      ),
    400,
  );

export const forbiddenForm = (c: Context<Env>): Response =>
  renderPage(
    c,
    () =>
      errorPage(
        'Request refused',
        'invalid_request',
        'This form was not sent from this site, or it has expired. Reload the page and try again.',
      ),
    403,
  );
