/**
 * The key ring's transitions: next → current → retired → removed (OIDC Core §10.1.1: "the
 * signer can begin using a new key at its discretion and signals the change to the verifier
 * using the kid value"; a verifier that cached our JWKS must already hold that key).
 *
 * These functions only write the store; each process's KeyRing picks the result up on its next
 * refresh. Both the issuer's scheduler and the CLI call them, so every write is conditional
 * (see store/signing-keys.ts) and a lost race is reported, never half-applied.
 */
import type { Clock } from '@tessera/shared';
import type { Config } from '../config/config.js';
import { audit } from '../protocol/audit.js';
import type { Store } from '../store/index.js';
import type { StoredSigningKey } from '../store/signing-keys.js';
import { keyTimeline } from './key-timeline.js';
import { generateSigningKey, importPrivateKey } from './signing-key-material.js';

export interface KeyRotationDeps {
  store: Store;
  config: Config;
  clock: Clock;
}

export type KeyRotationErrorCode =
  /** The next key has not been published for one JWKS max-age yet (see `notBefore`). */
  | 'ERR_NEXT_KEY_TOO_NEW'
  /** Another process changed the ring meanwhile; reading it again shows what happened. */
  | 'ERR_KEY_RING_CHANGED'
  /** No current key: the issuer creates the first one when it starts. */
  | 'ERR_KEY_RING_EMPTY';

/** A rotation that did not happen; `code` says why. */
export class KeyRotationError extends Error {
  constructor(
    readonly code: KeyRotationErrorCode,
    message: string,
    /** For ERR_NEXT_KEY_TOO_NEW: the earliest time (epoch ms) the next key may be promoted. */
    readonly notBefore?: number,
  ) {
    super(message);
    this.name = 'KeyRotationError';
  }
}

export interface Rotation {
  /** The key that signed until now; it is retired, still published. */
  from: string;
  /** The key that signs from now on. */
  to: string;
  /** The new next key, published from now on; undefined if another process made one first. */
  next: string | undefined;
  /** True when `force` skipped the wait: the new key signs before every cache can hold it. */
  forced: boolean;
  at: number;
}

interface RingByState {
  current: StoredSigningKey | undefined;
  next: StoredSigningKey | undefined;
  /** Newest first. */
  retired: StoredSigningKey[];
}

function byState(keys: StoredSigningKey[]): RingByState {
  const newest = (a: StoredSigningKey, b: StoredSigningKey) => b.createdAt - a.createdAt;
  return {
    current: keys.filter((k) => k.state === 'current').sort((a, b) => (b.activatedAt ?? 0) - (a.activatedAt ?? 0))[0],
    next: keys.filter((k) => k.state === 'next').sort(newest)[0],
    retired: keys.filter((k) => k.state === 'retired').sort(newest),
  };
}

/**
 * Makes sure a next key is published, so that a rotation never has to wait for one. A next key
 * of another algorithm than the configured one is replaced when `replaceOtherAlgorithm` is set:
 * it has signed nothing, so it can go at once. Returns the kid of the key created, if any.
 */
async function ensureNextKey(
  deps: KeyRotationDeps,
  opts: { replaceOtherAlgorithm?: boolean } = {},
): Promise<string | undefined> {
  const { next } = byState(await deps.store.signingKeys.list());
  if (next && (next.alg === deps.config.signingAlgorithm || !opts.replaceOtherAlgorithm)) return undefined;
  const key = await generateSigningKey(
    deps.config.signingAlgorithm,
    'next',
    deps.config.keyEncryptionKey,
    deps.clock.now(),
  );
  return (await deps.store.signingKeys.createNext(key, next?.kid)) ? key.kid : undefined;
}

/**
 * Promotes the next key to current and retires the current one, then publishes a new next key
 * with the configured algorithm (so a change of TESSERA_SIGNING_ALG takes effect here). Refused
 * with ERR_NEXT_KEY_TOO_NEW until the next key has been published for one JWKS max-age, unless
 * `force`: a forced rotation signs with a key some caches have not seen yet.
 */
export async function rotateSigningKey(
  deps: KeyRotationDeps,
  /** `actor`: who asked for a command's rotation (an admin's sub, or `cli`). */
  opts: { force?: boolean; trigger: 'schedule' | 'command'; actor?: string },
): Promise<Rotation> {
  const before = byState(await deps.store.signingKeys.list());
  if (!before.current)
    throw new KeyRotationError(
      'ERR_KEY_RING_EMPTY',
      'there is no current signing key yet: start the issuer once to create it',
    );
  // A process with another KEK (a CLI run with the wrong environment) must not store a key
  // the issuer cannot open: this throws a ConfigError before anything is written.
  await importPrivateKey(before.current, deps.config.keyEncryptionKey);

  await ensureNextKey(deps);
  const { current, next } = byState(await deps.store.signingKeys.list());
  if (!current || !next || current.kid !== before.current.kid)
    throw new KeyRotationError('ERR_KEY_RING_CHANGED', 'the key ring changed while rotating; look at it again');
  const now = deps.clock.now();
  const notBefore = keyTimeline(deps.config).promotableAt(next);
  const early = now < notBefore;
  if (early && !opts.force) {
    throw new KeyRotationError(
      'ERR_NEXT_KEY_TOO_NEW',
      `the next key ${next.kid} has not been published for one JWKS max-age (${deps.config.jwksMaxAge} s, ` +
        `plus ${deps.config.keyCheckInterval} s for the issuer to notice it): ` +
        `it can sign from ${new Date(notBefore).toISOString()}`,
      notBefore,
    );
  }
  if (!(await deps.store.signingKeys.promote({ currentKid: current.kid, nextKid: next.kid, at: now }))) {
    throw new KeyRotationError('ERR_KEY_RING_CHANGED', 'the key ring changed while rotating; look at it again');
  }
  await audit(deps, 'key.rotated', {
    detail: {
      from: current.kid,
      to: next.kid,
      alg: next.alg,
      forced: early,
      trigger: opts.trigger,
      ...(opts.actor === undefined ? {} : { actor: opts.actor }),
    },
  });
  return { from: current.kid, to: next.kid, next: await ensureNextKey(deps), forced: early, at: now };
}

/** Deletes the retired keys whose every token has expired; returns their kids. */
async function removeExpiredKeys(deps: KeyRotationDeps): Promise<string[]> {
  const timeline = keyTimeline(deps.config);
  const now = deps.clock.now();
  const removed: string[] = [];
  for (const k of byState(await deps.store.signingKeys.list()).retired) {
    if (timeline.removableAt(k) <= now && (await deps.store.signingKeys.removeRetired(k.kid))) removed.push(k.kid);
  }
  return removed;
}

export interface Maintenance {
  removed: string[];
  created: string | undefined;
  rotated: Rotation | undefined;
}

/**
 * Every transition that is due: retired keys past their tokens' lifetime removed, a next key of
 * the configured algorithm in place, and a rotation once the current key has signed for the
 * rotation period and the next key has been published long enough.
 */
export async function maintainKeyRing(deps: KeyRotationDeps): Promise<Maintenance> {
  const removed = await removeExpiredKeys(deps);
  const created = await ensureNextKey(deps, { replaceOtherAlgorithm: true });
  const { current, next } = byState(await deps.store.signingKeys.list());
  const timeline = keyTimeline(deps.config);
  const now = deps.clock.now();
  let rotated: Rotation | undefined;
  if (current && next && now >= timeline.rotationDueAt(current) && now >= timeline.promotableAt(next)) {
    try {
      rotated = await rotateSigningKey(deps, { trigger: 'schedule' });
    } catch (e) {
      // Another process rotated first: that is the rotation that was due.
      if (!(e instanceof KeyRotationError && e.code === 'ERR_KEY_RING_CHANGED')) throw e;
    }
  }
  return { removed, created, rotated };
}
