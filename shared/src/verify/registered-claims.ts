/**
 * The registered-claim checks of a JWT (RFC 7519 §4.1, §7.2 step 10) for the path where the
 * signature is checked synchronously: the rules, their order and the errors of jose's
 * `jwtVerify` claim-set validation with the options the kit passes it (issuer, audience,
 * required claims, clock tolerance, current date), without its per-call option parsing. The
 * Web Crypto path keeps jose's own; verify-jwt.test.ts holds the two to the same refusals.
 */
import { errors, type JWTPayload } from 'jose';

/** What the claims are checked against; see `JwtCheck` in verify-jwt.ts. */
export interface RegisteredClaimsCheck {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly clockToleranceSec: number;
  /** The claims that must be present, in the order they are looked for (see {@link claimPresenceOrder}). */
  readonly presenceOrder: readonly string[];
}

/**
 * The order in which missing claims are reported: jose's (the required claims, then `aud` and
 * `iss`, reversed and deduplicated), so a token missing several is refused with the code it
 * always was.
 */
export const claimPresenceOrder = (requiredClaims: readonly string[]): readonly string[] => [
  ...new Set([...requiredClaims, 'aud', 'iss'].reverse()),
];

const failed = (claims: JWTPayload, claim: string, message: string, reason: string) =>
  new errors.JWTClaimValidationFailed(message, claims, claim, reason);

/** The instant a Date made from `ms` holds (ECMA-262 TimeClip), without making one for a number. */
const timeClip = (ms: number): number =>
  typeof ms !== 'number' ? new Date(ms).getTime() : Math.abs(ms) <= 8.64e15 ? Math.trunc(ms) + 0 : Number.NaN;

/**
 * Checks presence, `iss`, `aud`, then `iat`, `nbf` and `exp` with the leeway (clock-tolerance.ts);
 * `nowMs` is the verifier's clock. Every refusal is the jose error jose would throw.
 */
export function checkRegisteredClaims(claims: JWTPayload, check: RegisteredClaimsCheck, nowMs: number): void {
  for (const claim of check.presenceOrder) {
    if (!Object.hasOwn(claims, claim)) throw failed(claims, claim, `missing required "${claim}" claim`, 'missing');
  }
  // RFC 7519 §4.1.1: the issuer, compared exactly.
  if (claims.iss !== check.issuer) throw failed(claims, 'iss', 'unexpected "iss" claim value', 'check_failed');
  // RFC 7519 §4.1.3: one of the audiences this verifier answers for, as a string or in an array.
  const { audience } = check;
  const aud: unknown = claims.aud;
  const forUs =
    typeof audience === 'string'
      ? aud === audience || (Array.isArray(aud) && aud.includes(audience))
      : typeof aud === 'string'
        ? audience.includes(aud)
        : Array.isArray(aud) && audience.some((a) => aud.includes(a));
  if (!forUs) throw failed(claims, 'aud', 'unexpected "aud" claim value', 'check_failed');

  // NumericDate seconds (RFC 7519 §2) of the clock as a Date holds it: a clock reading no Date can
  // hold is a broken clock, not a time.
  const nowSec = Math.floor(timeClip(nowMs) / 1000);
  if (!Number.isFinite(nowSec)) throw new TypeError('Invalid currentDate option input');
  const leeway = check.clockToleranceSec;
  if (claims.iat !== undefined && typeof claims.iat !== 'number')
    throw failed(claims, 'iat', '"iat" claim must be a number', 'invalid');
  // RFC 7519 §4.1.5: not before nbf, less the leeway.
  if (claims.nbf !== undefined) {
    if (typeof claims.nbf !== 'number') throw failed(claims, 'nbf', '"nbf" claim must be a number', 'invalid');
    if (claims.nbf > nowSec + leeway) throw failed(claims, 'nbf', '"nbf" claim timestamp check failed', 'check_failed');
  }
  // RFC 7519 §4.1.4: on or after exp is too late, plus the leeway.
  if (claims.exp !== undefined) {
    if (typeof claims.exp !== 'number') throw failed(claims, 'exp', '"exp" claim must be a number', 'invalid');
    if (claims.exp <= nowSec - leeway)
      throw new errors.JWTExpired('"exp" claim timestamp check failed', claims, 'exp', 'check_failed');
  }
}
