/**
 * What an operator does to people's accounts, from the CLI or the admin console (one
 * implementation for both): the admin role, disabling and enabling an account, ending every
 * session of a person, mailing them a verification or a password-reset link, finding people and
 * looking at one. Every change is audited with its actor:
 * the admin's `sub` in the console, `cli` on the command line.
 */
import type { IssuerContext } from '../context.js';
import type { SsoSession, Store, User } from '../store/index.js';
import type { Clock } from '@tessera/shared';
import { endAccountAccess } from './account-access.js';
import type { Registrar } from './registration.js';
import { audit } from './audit.js';
import { secondFactorsOf, type SecondFactors } from './second-factor.js';
import { mailPasswordResetLink } from './password-reset.js';
import { mailVerificationLink } from './sign-up.js';
import { isActive } from './sso-session.js';

/**
 * Who acted, and from where: the admin's `sub` and the console's client address, or `cli` and
 * none on the command line.
 */
export type Operator = Registrar;

export const CLI_OPERATOR: Operator = { actor: 'cli', ip: null };

/** The email or sub names no account: the caller answers 404 or exits 1, and nothing changed. */
export class UnknownPerson extends Error {
  readonly code = 'ERR_UNKNOWN_PERSON';
  constructor(who: string) {
    super(`no account ${who}`);
    this.name = 'UnknownPerson';
  }
}

/** An admin may not disable themselves or take their own role back: the console would lock them out mid-change. */
export class SelfChangeRefused extends Error {
  readonly code = 'ERR_SELF_CHANGE';
  constructor() {
    super('an admin cannot disable their own account or take back their own admin role');
    this.name = 'SelfChangeRefused';
  }
}

type Deps = { store: Store; clock: Clock };

async function personByEmail(deps: Deps, email: string): Promise<User> {
  const user = email.length <= 320 ? await deps.store.users.findByEmail(email) : undefined;
  if (!user) throw new UnknownPerson(email);
  return user;
}

/** The person a console link names by `sub`. */
export async function personBySub(deps: Deps, sub: string): Promise<User> {
  const user = sub.length <= 64 ? await deps.store.users.findBySub(sub) : undefined;
  if (!user) throw new UnknownPerson(sub);
  return user;
}

/**
 * Grants (`admin` true) or takes back the admin role; only the CLI does, so that a stolen console
 * session cannot make more admins. True when it changed, and then audited.
 */
export async function setAdminRole(deps: Deps, email: string, admin: boolean, by: Operator): Promise<boolean> {
  const user = await personByEmail(deps, email);
  const changed = await deps.store.users.setAdmin(user.sub, admin, deps.clock.now());
  if (changed) {
    await audit(deps, admin ? 'admin.granted' : 'admin.revoked', {
      subject: user.sub,
      ip: by.ip,
      detail: { actor: by.actor },
    });
  }
  return changed;
}

/**
 * Ends every session of the person (their apps told by back-channel logout) and revokes every
 * grant, offline ones too: an admin ending someone's access leaves no refresh token behind.
 * Returns how many sessions ended.
 */
export async function endSessionsOf(ctx: IssuerContext, sub: string, by: Operator): Promise<number> {
  const user = await personBySub(ctx, sub);
  const ended = await endAccountAccess(ctx, user.sub, { ...by, reason: 'ended_by_admin' });
  return ended.sessions;
}

/**
 * Disables the account: from now on every sign-in, grant and token of the person is refused
 * (./account-status.ts and the grants), and what they hold now ends. True when it changed.
 */
export async function disableAccount(ctx: IssuerContext, sub: string, by: Operator): Promise<boolean> {
  const user = await personBySub(ctx, sub);
  if (user.sub === by.actor) throw new SelfChangeRefused();
  // Marked first: a sign-in or refresh racing with the ending below is refused by the mark.
  const changed = await ctx.store.users.setDisabled(user.sub, true, ctx.clock.now());
  if (changed) await audit(ctx, 'user.disabled', { subject: user.sub, ip: by.ip, detail: { actor: by.actor } });
  // Run even when it was disabled already: whatever a race let through since ends too.
  await endAccountAccess(ctx, user.sub, { ...by, reason: 'account_disabled' });
  return changed;
}

/** Lets the account sign in again; what ended when it was disabled stays ended. True when it changed. */
export async function enableAccount(deps: Deps, sub: string, by: Operator): Promise<boolean> {
  const user = await personBySub(deps, sub);
  const changed = await deps.store.users.setDisabled(user.sub, false, deps.clock.now());
  if (changed) await audit(deps, 'user.enabled', { subject: user.sub, ip: by.ip, detail: { actor: by.actor } });
  return changed;
}

/**
 * Mails the person a new link to confirm their address (voiding the one before), for someone whose
 * first mail was lost. False, and nothing sent, when the address is verified already.
 */
export async function resendVerification(ctx: IssuerContext, sub: string, by: Operator): Promise<boolean> {
  const user = await personBySub(ctx, sub);
  if (user.emailVerified) return false;
  await mailVerificationLink(ctx, user);
  await audit(ctx, 'user.verification_sent', { subject: user.sub, ip: by.ip, detail: { actor: by.actor } });
  return true;
}

/**
 * Mails the person a password-reset link (voiding the one before). Only they can use it, at their
 * own address: the administrator never sees or sets a password.
 */
export async function sendPasswordReset(ctx: IssuerContext, sub: string, by: Operator): Promise<void> {
  const user = await personBySub(ctx, sub);
  await mailPasswordResetLink(ctx, user);
  await audit(ctx, 'user.password_reset_sent', { subject: user.sub, ip: by.ip, detail: { actor: by.actor } });
}

/** The CLI's names for the same: people by email. */
export async function disableAccountByEmail(ctx: IssuerContext, email: string, by: Operator): Promise<boolean> {
  return disableAccount(ctx, (await personByEmail(ctx, email)).sub, by);
}
export async function enableAccountByEmail(deps: Deps, email: string, by: Operator): Promise<boolean> {
  return enableAccount(deps, (await personByEmail(deps, email)).sub, by);
}

/** The most people a search lists: enough to pick from, never the whole table. */
export const SEARCH_LIMIT = 25;
/** The longest search text: an email's length. */
export const SEARCH_MAX = 320;

/** People whose email or name contains `text`, at most SEARCH_LIMIT (one more says "there are more"). */
export async function findPeople(deps: Deps, text: string): Promise<{ people: User[]; more: boolean }> {
  const found = await deps.store.users.search(text.trim().slice(0, SEARCH_MAX), SEARCH_LIMIT + 1);
  return { people: found.slice(0, SEARCH_LIMIT), more: found.length > SEARCH_LIMIT };
}

/** One person as the console shows them. */
export interface PersonOverview {
  user: User;
  /** Their sessions still active, most recently used first: how each signed in, from where. */
  sessions: SsoSession[];
  passkeys: number;
  factors: SecondFactors;
}

export async function personOverview(ctx: IssuerContext, sub: string): Promise<PersonOverview> {
  const user = await personBySub(ctx, sub);
  const sessions = (await ctx.store.sessions.listActiveForUser(user.sub))
    .filter((s) => isActive(ctx, s))
    .sort((a, b) => b.lastSeenAt - a.lastSeenAt);
  return {
    user,
    sessions,
    passkeys: (await ctx.store.passkeys.listForUser(user.sub)).length,
    factors: await secondFactorsOf(ctx, user.sub),
  };
}
