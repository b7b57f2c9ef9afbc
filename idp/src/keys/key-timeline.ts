/**
 * When each transition of the key ring may happen (OIDC Core §10.1.1: a key is published before
 * it signs anything, and stays published while tokens it signed can still be presented).
 *
 * Times are bounds every process can compute from the stored rows and the configuration alone,
 * so the issuer and the CLI agree without recording when a key was first served: a key stored at
 * `createdAt` is served by every running issuer within one `keyCheckInterval`, and an issuer
 * keeps signing with a key another process retired for at most that long too.
 */
import { MAX_CLOCK_TOLERANCE_SEC } from '@tessera/shared';
import type { Config } from '../config/config.js';
import type { StoredSigningKey } from '../store/signing-keys.js';

/**
 * The most leeway a verifier may allow past `exp`: a retired key stays published this much longer,
 * so a verifier on a slow clock, within the shared kit's bound, still finds it.
 */
const VERIFIER_LEEWAY_SEC = MAX_CLOCK_TOLERANCE_SEC;

/** How long a back-channel logout token lives (protocol/backchannel-logout.ts signs it with `exp = iat + this`). */
export const LOGOUT_TOKEN_TTL_SEC = 120;

/**
 * Status list tokens live twice their `ttl` (status-list/status-lists.ts signs them with `exp = iat + this * ttl`).
 * Whatever else the ring signs must be counted in `signedTokenLifetime` too.
 */
export const STATUS_LIST_TOKEN_TTL_FACTOR = 2;

export type TimelineConfig = Pick<
  Config,
  'jwksMaxAge' | 'keyCheckInterval' | 'keyRotationPeriod' | 'accessTokenTtl' | 'idTokenTtl' | 'statusListTtl'
>;

export interface KeyTimeline {
  /** Earliest time a next key may sign: served for one JWKS max-age, so no fresh cache lacks it. */
  promotableAt(next: StoredSigningKey): number;
  /** When the scheduler rotates away from this current key. */
  rotationDueAt(current: StoredSigningKey): number;
  /** When a retired key may go: every token it signed has expired, leeway included. */
  removableAt(retired: StoredSigningKey): number;
}

/** The longest any token signed by the ring stays acceptable to a verifier, in seconds. */
function signedTokenLifetime(config: TimelineConfig): number {
  const lifetimes = [
    config.accessTokenTtl,
    config.idTokenTtl,
    LOGOUT_TOKEN_TTL_SEC,
    STATUS_LIST_TOKEN_TTL_FACTOR * config.statusListTtl,
  ];
  return Math.max(...lifetimes) + VERIFIER_LEEWAY_SEC;
}

export function keyTimeline(config: TimelineConfig): KeyTimeline {
  const publishWaitMs = (config.keyCheckInterval + config.jwksMaxAge) * 1000;
  const retentionMs = (config.keyCheckInterval + signedTokenLifetime(config)) * 1000;
  return {
    promotableAt: (next) => next.createdAt + publishWaitMs,
    rotationDueAt: (current) => (current.activatedAt ?? current.createdAt) + config.keyRotationPeriod * 1000,
    // A retired row without retiredAt (this code never writes one) is kept rather than guessed at.
    removableAt: (retired) => (retired.retiredAt ?? Number.POSITIVE_INFINITY) + retentionMs,
  };
}
