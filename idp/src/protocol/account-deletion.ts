/**
 * Deleting a person's account, on their asking (the account page) or an operator's (the CLI):
 * the same function for both. Their access ends first, everywhere (endAccountAccess: every grant
 * revoked, every session ended with back-channel logout to its apps), then the person's row goes
 * and with it, by the schema's cascades, everything of theirs: sessions, grants and their tokens,
 * consents, passkeys, second factors and recovery codes, device authorizations.
 *
 * What stays (README, "Privacy"): the audit trail's events about the subject id, with their IP
 * addresses removed, and one `account.deleted` event — the fact of the deletion, its time and who
 * asked. The `sub` is never reused: subjects are 128-bit random ids (crypto/random.ts), never
 * derived from the email, so registering the same address again makes a new subject.
 */
import type { IssuerContext } from '../context.js';
import { endAccountAccess, type AccessEnded } from './account-access.js';
import { audit } from './audit.js';

export interface AccountDeleted extends AccessEnded {
  /** Older audit events of the person whose IP address was removed. */
  auditEventsScrubbed: number;
}

/**
 * Deletes the account of `sub`; undefined when there is none (already deleted: a second click, or
 * the CLI and the page at once). `actor` is the person's own `sub` or the operator's name for it.
 */
export async function deleteAccount(
  ctx: IssuerContext,
  sub: string,
  how: { ip: string | null; actor: string },
): Promise<AccountDeleted | undefined> {
  if (!(await ctx.store.users.findBySub(sub))) return undefined;
  const ended = await endAccountAccess(ctx, sub, { ...how, reason: 'account_deleted' });
  if (!(await ctx.store.users.delete(sub))) return undefined;
  // After the row is gone, so an event written meanwhile (a last session's end) is scrubbed too.
  const auditEventsScrubbed = await ctx.store.audit.scrubSubject(sub);
  // No IP: this event outlives the person, and it needs none to say what happened.
  await audit(ctx, 'account.deleted', {
    subject: sub,
    detail: { by: how.actor === sub ? 'self' : how.actor, sessions: ended.sessions, accessTokens: ended.accessTokens },
  });
  return { ...ended, auditEventsScrubbed };
}
