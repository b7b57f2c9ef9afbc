/**
 * Step-up at a resource server (RFC 9470): an API that needs a stronger or more recent sign-in
 * than the access token shows refuses it with `insufficient_user_authentication`, saying what it
 * needs, so the client can send the person back to the issuer for just that.
 */
import type { MiddlewareHandler } from 'hono';
import { ACR_LEVELS, acrSatisfies } from '../authn/authentication-context.js';
import { OAuthError } from '../errors.js';
import type { AccessTokenClaims } from '../protocol.js';
import { requireClockTolerance } from '../time/clock-tolerance.js';
import { DPOP_ALGORITHMS } from '../verify/verify-dpop-proof.js';

/** What an API needs of the sign-in behind an access token. */
export interface UserAuthenticationRequirement {
  /**
   * The weakest authentication context class accepted (one of `ACR_LEVELS`); a stronger one meets
   * it too. The token's `acr` (RFC 9068 §2.2.1) is compared.
   */
  acr?: string;
  /** How long ago, at most, the person may have authenticated, in seconds: compared with `auth_time`. */
  maxAgeSec?: number;
}

/** The clock a requirement's age is read on. */
export interface UserAuthenticationClock {
  /** The clock, in milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
  /** Leeway for `auth_time` against `maxAgeSec`, in seconds: 60 by default, 0 for strict, at most 300. */
  clockToleranceSec?: number;
}

/** Options of {@link requireUserAuthentication}. */
export interface RequireUserAuthenticationOptions extends UserAuthenticationRequirement, UserAuthenticationClock {
  /** The `realm` auth-param of `WWW-Authenticate`, as given to requireBearer. */
  realm?: string;
  /** The proof algorithms a DPoP challenge names, as given to requireBearer; default {@link DPOP_ALGORITHMS}. */
  dpopAlgorithms?: readonly string[];
}

/**
 * A sign-in short of the requirement: the error, and the auth-params that say what is needed
 * (`acr_values`, `max_age`), for the challenge of whichever scheme the token came with.
 */
export interface UnmetUserAuthentication {
  error: OAuthError;
  params: string[];
}

/** What falls short in a token's sign-in, or undefined when it is enough. */
export type UserAuthenticationCheck = (claims: AccessTokenClaims) => UnmetUserAuthentication | undefined;

// Fixed strings: within RFC 6750 §3's error_description characters (no quote, no backslash).
const TOO_WEAK = 'A stronger authentication is required';
const TOO_OLD = 'A more recent authentication is required';
const QUOTABLE = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

/**
 * Builds the check for `requirement`, or undefined when it asks for nothing. Options are checked
 * here: an unknown class would refuse every token, so it is a `TypeError` at start-up.
 */
export function userAuthenticationCheck(
  requirement: UserAuthenticationRequirement & UserAuthenticationClock,
): UserAuthenticationCheck | undefined {
  const { acr, maxAgeSec } = requirement;
  if (acr !== undefined && !ACR_LEVELS.includes(acr)) {
    throw new TypeError(`acr must be one of ${ACR_LEVELS.join(', ')}`);
  }
  if (maxAgeSec !== undefined && (!Number.isInteger(maxAgeSec) || maxAgeSec < 0)) {
    throw new TypeError('maxAgeSec must be an integer >= 0');
  }
  const toleranceSec = requireClockTolerance(requirement.clockToleranceSec);
  if (acr === undefined && maxAgeSec === undefined) return undefined;
  const now = requirement.now ?? Date.now;
  // RFC 9470 §3: the whole requirement, whichever part failed, so one new sign-in meets it all.
  const params = [
    ...(acr === undefined ? [] : [`acr_values="${acr}"`]),
    ...(maxAgeSec === undefined ? [] : [`max_age="${maxAgeSec}"`]),
  ];
  const unmet = (description: string) => ({
    error: new OAuthError('insufficient_user_authentication', description),
    params,
  });

  return (claims) => {
    if (acr !== undefined && !acrSatisfies(typeof claims.acr === 'string' ? claims.acr : undefined, acr)) {
      return unmet(TOO_WEAK);
    }
    if (maxAgeSec === undefined) return undefined;
    const authTime = claims.auth_time;
    // RFC 9470 §4: without auth_time the age cannot be shown, so it is not met.
    const nowSec = Math.floor(now() / 1000);
    if (typeof authTime !== 'number' || authTime + maxAgeSec < nowSec - toleranceSec) return unmet(TOO_OLD);
    return undefined;
  };
}

/**
 * Middleware for routes behind {@link requireBearer} that need more of the sign-in than the rest
 * of the API: a token whose `acr` does not meet `acr`, or whose `auth_time` is older than
 * `maxAgeSec`, gets 401 `insufficient_user_authentication` with `acr_values` and `max_age` (RFC 9470
 * §3), in a challenge of the scheme the token came with (Bearer, or DPoP: RFC 9449 §7.1). For a
 * whole API, give the same options to requireBearer as `userAuthentication` instead.
 *
 * @example
 * ```ts
 * app.use('/api/*', requireBearer({ issuer, audience, keySet }));
 * app.get('/api/security', requireUserAuthentication({ acr: ACR_MFA }), (c) => c.json({ … }));
 * ```
 */
export function requireUserAuthentication(
  options: RequireUserAuthenticationOptions,
): MiddlewareHandler<{ Variables: { accessToken: AccessTokenClaims } }> {
  const { realm } = options;
  if (realm !== undefined && (typeof realm !== 'string' || !QUOTABLE.test(realm))) {
    throw new TypeError('realm must be a string without quotes, backslashes or control characters');
  }
  const check = userAuthenticationCheck(options);
  const realmParam = realm === undefined ? [] : [`realm="${realm}"`];
  const algorithms = options.dpopAlgorithms ?? DPOP_ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.some((alg) => !DPOP_ALGORITHMS.includes(alg))) {
    throw new TypeError(`dpopAlgorithms must be among ${DPOP_ALGORITHMS.join(', ')}`);
  }
  // RFC 9449 §7.1: a DPoP challenge names the proof algorithms taken.
  const algsParam = [`algs="${algorithms.join(' ')}"`];
  return async function requireUserAuthentication(c, next) {
    const claims = c.get('accessToken');
    // A route mounted without requireBearer before it: the app's bug, not the client's.
    if (claims === undefined) throw new Error('requireUserAuthentication runs after requireBearer');
    const unmet = check?.(claims);
    if (unmet !== undefined) {
      const { error } = unmet;
      // requireBearer took the token under one of these two schemes.
      const dpop = /^dpop /i.test(c.req.header('authorization') ?? '');
      const params = [
        ...realmParam,
        `error="${error.error}"`,
        `error_description="${error.description}"`,
        ...unmet.params,
        ...(dpop ? algsParam : []),
      ];
      return c.json(error.toJSON(), 401, { 'WWW-Authenticate': `${dpop ? 'DPoP' : 'Bearer'} ${params.join(', ')}` });
    }
    await next();
    return undefined;
  };
}
