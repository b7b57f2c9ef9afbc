/**
 * FedCM's accounts endpoint (docs/architecture.md, "FedCM"): the person whose session the FedCM
 * cookie names, as the browser's account chooser shows them, with the clients they are connected
 * to (`approved_clients`: one with a consent row, which the assertion endpoint writes for every
 * client and a disconnect forgets).
 */
import { OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import type { SsoSession, User } from '../store/index.js';

export interface FedcmAccount {
  id: string;
  name: string;
  given_name: string;
  email: string;
  picture?: string;
  login_hints: string[];
  approved_clients: string[];
}

/**
 * The person of an active FedCM session, while their account may sign in; else login_required
 * (answered 401, so the browser records the person as signed out of the issuer).
 */
export async function fedcmPerson(ctx: IssuerContext, session: SsoSession | undefined): Promise<User> {
  const user = session ? await ctx.store.users.findBySub(session.userId) : undefined;
  if (!user || user.disabledAt !== null)
    throw new OAuthError('login_required', 'no one is signed in at the issuer in this browser', { status: 401 });
  return user;
}

export async function fedcmAccounts(
  ctx: IssuerContext,
  session: SsoSession | undefined,
  /** The address of the person's picture, if one can be drawn (views/pictures.ts). */
  pictureOf: (person: { sub: string; displayName: string }) => string | undefined,
): Promise<{ accounts: FedcmAccount[] }> {
  const user = await fedcmPerson(ctx, session);
  const name = user.displayName;
  const picture = pictureOf(user);
  return {
    accounts: [
      {
        id: user.sub,
        name,
        given_name: name.split(/\s+/)[0] ?? name,
        email: user.email,
        ...(picture !== undefined ? { picture } : {}),
        login_hints: [user.email],
        approved_clients: await ctx.store.consents.clientIdsForUser(user.sub),
      },
    ],
  };
}
