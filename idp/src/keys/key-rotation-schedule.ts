/**
 * The issuer's key scheduler: every `keyCheckInterval` it runs the transitions that are due
 * (key-rotation.ts) and re-reads the ring, which is also how it notices what the CLI changed.
 * Its timer is unref'd, so it never keeps a process alive on its own.
 */
import type { Logger } from '@tessera/shared';
import { runPeriodically, type PeriodicTask } from '@tessera/shared/node';
import type { KeyRing } from './key-ring.js';
import { maintainKeyRing, type KeyRotationDeps } from './key-rotation.js';

export interface KeySchedulerDeps extends KeyRotationDeps {
  keys: KeyRing;
  log: Logger;
}

export type KeyScheduler = PeriodicTask;

/**
 * One tick: the ring re-read if it changed elsewhere (another issuer process, the CLI), the due
 * transitions, and the ring re-read again if they changed it. Reading first means that a process
 * that cannot follow the store (a key it cannot decrypt) stops before removing anything: it may
 * still be signing with the key that is due to go. Every process on the database ticks; the
 * store's conditional writes let one of them make each transition (key-rotation.ts).
 */
export async function tickKeyRing(deps: KeySchedulerDeps): Promise<void> {
  await deps.keys.refresh();
  const { removed, created, rotated } = await maintainKeyRing(deps);
  for (const kid of removed) deps.log.info('keys.removed', { kid });
  if (created) deps.log.info('keys.next_published', { kid: created, alg: deps.config.signingAlgorithm });
  if (rotated) deps.log.info('keys.rotated', { from: rotated.from, to: rotated.to, next: rotated.next });
  await deps.keys.refresh();
}

/**
 * Runs a first tick now (so a next key is published before the first request is served), then
 * one every `keyCheckInterval`. A tick still running when the next is due is not doubled.
 */
export async function startKeyScheduler(deps: KeySchedulerDeps): Promise<KeyScheduler> {
  await tickKeyRing(deps);
  // A failed tick leaves the ring in use as it was, and the next tick tries again.
  return runPeriodically(
    deps.config.keyCheckInterval * 1000,
    () => tickKeyRing(deps),
    (e) => deps.log.error('keys.tick_failed', { error: e instanceof Error ? e.message : String(e) }),
  );
}
