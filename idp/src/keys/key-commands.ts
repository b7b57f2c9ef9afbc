/** What the CLI's `keys list` and `keys rotate` show: the ring with the time of each key's next step. */
import type { StoredSigningKey } from '../store/signing-keys.js';
import { keyTimeline } from './key-timeline.js';
import { rotateSigningKey, type KeyRotationDeps, type Rotation } from './key-rotation.js';

// A type, not an interface, so that a row is a Record<string, unknown> for the CLI's table.
export type SigningKeyListing = {
  kid: string;
  alg: string;
  state: string;
  created: string;
  activated: string | null;
  retired: string | null;
  /**
   * When this key's next step is due: for `next`, the earliest promotion; for `current`, the
   * scheduled rotation; for `retired`, its removal.
   */
  due: string | null;
};

const STATE_ORDER: Record<string, number> = { next: 0, current: 1, retired: 2 };
const iso = (ms: number | null) => (ms === null || !Number.isFinite(ms) ? null : new Date(ms).toISOString());

/** Every stored key, next first, then current, then retired (newest first). */
export async function listSigningKeys(deps: Pick<KeyRotationDeps, 'store' | 'config'>): Promise<SigningKeyListing[]> {
  const timeline = keyTimeline(deps.config);
  const dueOf = (k: StoredSigningKey) =>
    k.state === 'next'
      ? timeline.promotableAt(k)
      : k.state === 'current'
        ? timeline.rotationDueAt(k)
        : k.state === 'retired'
          ? timeline.removableAt(k)
          : null;
  return (await deps.store.signingKeys.list())
    .sort((a, b) => (STATE_ORDER[a.state] ?? 3) - (STATE_ORDER[b.state] ?? 3) || b.createdAt - a.createdAt)
    .map((k) => ({
      kid: k.kid,
      alg: k.alg,
      state: k.state,
      created: iso(k.createdAt)!,
      activated: iso(k.activatedAt),
      retired: iso(k.retiredAt),
      due: iso(dueOf(k)),
    }));
}

/**
 * Runs `keys rotate` (or the admin console's button, `actor` the admin's sub) and words its
 * outcome; a refusal is thrown as a KeyRotationError.
 */
export async function rotateFromCommand(
  deps: KeyRotationDeps,
  force: boolean,
  actor = 'cli',
): Promise<{ rotation: Rotation; text: string }> {
  const rotation = await rotateSigningKey(deps, { force, trigger: 'command', actor });
  const lines = [
    `rotated: ${rotation.to} signs from now on; ` +
      `${rotation.from} is retired and stays published until its tokens have expired`,
    rotation.next ? `published ${rotation.next} as the next key` : '',
    `a running issuer switches within ${deps.config.keyCheckInterval} s`,
    rotation.forced
      ? 'forced: verifiers whose cached JWKS predates the new signing key fail on its tokens ' +
        'until they fetch the JWKS again'
      : '',
  ];
  return { rotation, text: lines.filter(Boolean).join('\n') };
}
