/**
 * Deletes what has expired and can never be used again, so that requests nobody completes cannot
 * grow the database without bound: every visit to /authorize without a session makes an
 * interaction, and a client that never redeems its codes leaves them behind. Interactions go once
 * expired; codes a day after they expired, kept that long so that a replay is still recognised and
 * its grant revoked (RFC 6749 §4.1.2). Each batch is one short statement by the expiry index, and
 * the event loop is free between batches. Every issuer process on the database sweeps; a delete is
 * its own arbiter. Spent tokens, sessions and grants are not swept yet.
 */
import type { Clock, Logger } from '@tessera/shared';
import { runPeriodically, type PeriodicTask } from '@tessera/shared/node';
import type { Store } from '../store/index.js';

/** How often the sweep runs. */
export const SWEEP_INTERVAL_MS = 60_000;
/** Rows per statement: a write lock held for about a millisecond. */
export const SWEEP_BATCH = 500;
/** How long a code is kept after it expired, for replay detection. */
export const CODE_KEPT_AFTER_EXPIRY_MS = 24 * 60 * 60 * 1000;

export interface ExpirySweepDeps {
  store: Store;
  clock: Clock;
  log: Logger;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Deletes batches until none is full; returns how many rows of each kind went. */
export async function sweepExpired(
  deps: ExpirySweepDeps,
  batch = SWEEP_BATCH,
): Promise<{ interactions: number; codes: number }> {
  const now = deps.clock.now();
  const deleted = { interactions: 0, codes: 0 };
  let n: number;
  do {
    n = await deps.store.interactions.deleteExpired(now, batch);
    deleted.interactions += n;
    await turn();
  } while (n === batch);
  do {
    n = await deps.store.grants.deleteExpiredCodes(now - CODE_KEPT_AFTER_EXPIRY_MS, batch);
    deleted.codes += n;
    await turn();
  } while (n === batch);
  return deleted;
}

/** Sweeps every `intervalMs`, a sweep never doubled, the timer never keeping a process alive. */
export function startExpirySweep(deps: ExpirySweepDeps, intervalMs = SWEEP_INTERVAL_MS): PeriodicTask {
  return runPeriodically(
    intervalMs,
    async () => {
      const deleted = await sweepExpired(deps);
      if (deleted.interactions + deleted.codes > 0) deps.log.info('store.expired_deleted', deleted);
    },
    (e) => deps.log.error('store.sweep_failed', { error: e instanceof Error ? e.message : String(e) }),
  );
}
