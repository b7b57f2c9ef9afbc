/**
 * The one leeway rule for every time check the kit makes of what an issuer signed: `iat` and `nbf`
 * may be up to this far in this server's future, and `exp` (with `auth_time` + `max_age`, a status
 * list's `exp`) up to this far in its past. Clocks on different machines never agree exactly; the
 * libraries a relying party would otherwise use allow the same kind of leeway (oauth4webapi 30 s,
 * Spring Security 60 s). A leeway never lets a token live longer than its `exp` plus the leeway.
 */

/** The default leeway, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SEC = 60;

/**
 * The largest leeway an option may ask for, in seconds. Past five minutes (Kerberos' own bound) the
 * clock is what needs fixing, and every token would silently live that much longer. The issuer
 * keeps a retired key published this long past the last `exp` it signed, for such verifiers.
 */
export const MAX_CLOCK_TOLERANCE_SEC = 300;

/** A clock tolerance option, 0 (strict) to {@link MAX_CLOCK_TOLERANCE_SEC}; the default when absent. */
export function requireClockTolerance(value: unknown): number {
  if (value === undefined) return DEFAULT_CLOCK_TOLERANCE_SEC;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_CLOCK_TOLERANCE_SEC) {
    throw new TypeError(`clockToleranceSec must be a number from 0 to ${MAX_CLOCK_TOLERANCE_SEC}`);
  }
  return value;
}
