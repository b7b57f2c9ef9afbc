/**
 * Deletes what has ended and can never be used again, so that the database follows the people and
 * tokens alive now, not every one there ever was. Each kind of row goes only once nothing can
 * need it (docs/architecture.md, "Retention"):
 * - an interaction once expired, and a pushed authorization request (RFC 9126) once expired: its
 *   request_uri is refused from then on, whether its row is there or not;
 * - a code a day after it expired, so that a replay is still
 *   recognised and its grant revoked (RFC 6749 §4.1.2);
 * - an access token's row once it expired past the longest leeway a verifier may allow: until
 *   then introspection answers for it and a revoked one keeps its status-list bit;
 * - an SSO session a day after it ended or expired: a logout still finds it (and the clients to
 *   tell) for a day;
 * - a grant once revoked, past its absolute end or (never refreshable) its one access token gone,
 *   and then only when none of its access tokens' rows is left and its session's row is gone; its
 *   refresh tokens, rotated ones included, go with it: kept for reuse detection (RFC 9700
 *   §4.14.2) as long as the family can be used at all;
 * - a back-channel delivery a week after it was delivered or given up;
 * - an audit event after the configured retention (TESSERA_AUDIT_RETENTION_DAYS);
 * - a client assertion's `jti` once the assertion expired (its skew included): from then on its
 *   `exp` alone refuses a replay;
 * - a mailed link (a reset, a verification…) once expired: from then on its expiry alone refuses it.
 * Each batch is one short statement through an index, and the event loop is free between
 * batches. Every issuer process on the database sweeps; a delete is its own arbiter.
 */
import { MAX_CLOCK_TOLERANCE_SEC, type Clock, type Logger } from '@tessera/shared';
import { runPeriodically, type PeriodicTask } from '@tessera/shared/node';
import type { Config } from '../config/config.js';
import type { Store } from '../store/index.js';

/** How often the sweep runs. */
export const SWEEP_INTERVAL_MS = 60_000;
/** Rows per statement: a write lock held for about a millisecond. */
export const SWEEP_BATCH = 500;
const DAY_MS = 24 * 60 * 60 * 1000;
/** How long a code is kept after it expired, for replay detection. */
export const CODE_KEPT_AFTER_EXPIRY_MS = DAY_MS;
/**
 * How long an access token's row is kept after it expired: the largest leeway a verifier of the
 * kit may allow. Until then a verifier may still accept the token by its `exp`, so introspection
 * must still know it and a revoked one's bit must still be set in the status list rebuilt from the
 * rows (draft-ietf-oauth-status-list-21 §8.3). Indices are never handed out again, so a deleted
 * row's index stays unused.
 */
export const ACCESS_TOKEN_KEPT_AFTER_EXPIRY_MS = MAX_CLOCK_TOLERANCE_SEC * 1000;
/**
 * How long a grant is kept after it was revoked or its refresh family reached its absolute end,
 * at least: a redemption or rotation that read it just before is long over by then.
 */
export const GRANT_KEPT_AFTER_END_MS = ACCESS_TOKEN_KEPT_AFTER_EXPIRY_MS;
/** How long an SSO session is kept after it ended or expired: a late logout still finds it. */
export const SESSION_KEPT_AFTER_END_MS = DAY_MS;
/** How long a back-channel delivery is kept after it was delivered or given up, as a record. */
export const DELIVERY_KEPT_AFTER_SETTLED_MS = 7 * DAY_MS;

export interface ExpirySweepDeps {
  store: Pick<
    Store,
    | 'interactions'
    | 'pushedAuthorizationRequests'
    | 'grants'
    | 'deviceAuthorizations'
    | 'dpopProofs'
    | 'sessions'
    | 'backchannel'
    | 'audit'
    | 'clientAssertions'
    | 'webauthnChallenges'
    | 'emailLinks'
  >;
  clock: Clock;
  log: Logger;
  config: Pick<Config, 'accessTokenTtl' | 'auditRetentionDays'>;
}

/** Rows of each kind one sweep deleted. */
export interface SweepCounts {
  interactions: number;
  pushedAuthorizationRequests: number;
  codes: number;
  deviceAuthorizations: number;
  dpopProofs: number;
  accessTokens: number;
  sessions: number;
  grants: number;
  deliveries: number;
  auditEvents: number;
  clientAssertions: number;
  webauthnChallenges: number;
  emailLinks: number;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs one kind's batches until one comes back short, yielding between them; returns the total. */
async function drain(batch: number, deleteBatch: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  let n: number;
  do {
    n = await deleteBatch(batch);
    total += n;
    await turn();
  } while (n === batch);
  return total;
}

/** Deletes batches until none is full; returns how many rows of each kind went. */
export async function sweepExpired(deps: ExpirySweepDeps, batch = SWEEP_BATCH): Promise<SweepCounts> {
  const { store, config } = deps;
  const now = deps.clock.now();
  const interactions = await drain(batch, (n) => store.interactions.deleteExpired(now, n));
  const pushedAuthorizationRequests = await drain(batch, (n) =>
    store.pushedAuthorizationRequests.deleteExpired(now, n),
  );
  const codes = await drain(batch, (n) => store.grants.deleteExpiredCodes(now - CODE_KEPT_AFTER_EXPIRY_MS, n));
  // Kept a day after expiry like codes: a redeemed one's replay still finds its grant to revoke.
  const deviceAuthorizations = await drain(batch, (n) =>
    store.deviceAuthorizations.deleteExpired(now - CODE_KEPT_AFTER_EXPIRY_MS, n),
  );
  const dpopProofs = await drain(batch, (n) => store.dpopProofs.deleteExpired(now, n));
  const accessTokens = await drain(batch, (n) =>
    store.grants.deleteExpiredAccessTokens(now - ACCESS_TOKEN_KEPT_AFTER_EXPIRY_MS, n),
  );
  // Sessions and access tokens first: a grant waits for both to be gone.
  const sessions = await drain(batch, (n) => store.sessions.deleteFinished(now - SESSION_KEPT_AFTER_END_MS, n));
  const cutoffs = {
    endedBefore: now - GRANT_KEPT_AFTER_END_MS,
    // A grant without refresh tokens lives as long as the access token redeemed with it.
    issuedBefore: now - config.accessTokenTtl * 1000 - ACCESS_TOKEN_KEPT_AFTER_EXPIRY_MS,
  };
  const grants = await drain(batch, (n) => store.grants.deleteSpentGrants(cutoffs, n));
  const deliveries = await drain(batch, (n) =>
    store.backchannel.deleteSettled(now - DELIVERY_KEPT_AFTER_SETTLED_MS, n),
  );
  const auditEvents = await drain(batch, (n) => store.audit.deleteBefore(now - config.auditRetentionDays * DAY_MS, n));
  const clientAssertions = await drain(batch, (n) => store.clientAssertions.deleteExpired(now, n));
  const webauthnChallenges = await drain(batch, (n) => store.webauthnChallenges.deleteExpired(now, n));
  const emailLinks = await drain(batch, (n) => store.emailLinks.deleteExpired(now, n));
  return {
    interactions,
    pushedAuthorizationRequests,
    codes,
    deviceAuthorizations,
    dpopProofs,
    accessTokens,
    sessions,
    grants,
    deliveries,
    auditEvents,
    clientAssertions,
    webauthnChallenges,
    emailLinks,
  };
}

/** Sweeps every `intervalMs`, a sweep never doubled, the timer never keeping a process alive. */
export function startExpirySweep(deps: ExpirySweepDeps, intervalMs = SWEEP_INTERVAL_MS): PeriodicTask {
  return runPeriodically(
    intervalMs,
    async () => {
      const deleted = await sweepExpired(deps);
      if (Object.values(deleted).some((n) => n > 0)) deps.log.info('store.expired_deleted', { ...deleted });
    },
    (e) => deps.log.error('store.sweep_failed', { error: e instanceof Error ? e.message : String(e) }),
  );
}
