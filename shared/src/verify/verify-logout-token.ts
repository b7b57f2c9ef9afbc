import type { JWTHeaderParameters } from 'jose';
import { BACKCHANNEL_LOGOUT_EVENT, TOKEN_TYPES } from '../protocol.js';
import { TokenVerificationError } from './errors.js';
import type { JtiStore } from './jti-store.js';
import {
  checkStringClaim,
  jwtCheckFor,
  normalizeTyp,
  requireNonEmptyString,
  verifyJwt,
  type JwtVerifyOptions,
} from './verify-jwt.js';

/** Claims of a back-channel logout token (OIDC Back-Channel Logout 1.0 §2.4). */
export interface LogoutTokenClaims {
  iss: string;
  aud: string | string[];
  iat: number;
  exp: number;
  jti: string;
  /** Member `http://schemas.openid.net/event/backchannel-logout` with an object value. */
  events: Record<string, unknown>;
  /** The subject to log out; present when `sid` is not. */
  sub?: string;
  /** The issuer session to log out; present when `sub` is not. */
  sid?: string;
}

/** What {@link verifyLogoutToken} checks a logout token against. */
export interface VerifyLogoutTokenOptions extends JwtVerifyOptions {
  /** This client's `client_id`, which `aud` must contain. */
  audience: string;
  /** Where used `jti`s are recorded; a replayed `jti` is refused with `ERR_TOKEN_REPLAYED`. */
  jtiStore: JtiStore;
}

/** A verified logout token. */
export interface VerifiedLogoutToken {
  claims: LogoutTokenClaims;
  header: JWTHeaderParameters;
}

const KIND = 'logout token';
const LOGOUT_TOKEN_TYP = normalizeTyp(TOKEN_TYPES.logoutToken);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Verifies a back-channel logout token as OIDC Back-Channel Logout 1.0 §2.6 asks: signature, `typ`
 * `logout+jwt`, `iss`, `aud`, `iat`, `exp`, the logout event, no `nonce`, `sub` and/or `sid`, and a
 * `jti` not seen before. The `jti` is recorded only once every other check has passed, so a
 * forged or broken token cannot burn it.
 *
 * @example
 * ```ts
 * app.post('/backchannel-logout', async (c) => {
 *   const form = await c.req.parseBody();
 *   try {
 *     const { claims } = await verifyLogoutToken(String(form.logout_token), {
 *       issuer,
 *       audience: 'app-a',
 *       keySet,
 *       jtiStore,
 *     });
 *     await sessions.endByIssuerSession(claims.sid, claims.sub);
 *     return c.body(null, 200, { 'Cache-Control': 'no-store' });
 *   } catch {
 *     return c.json({ error: 'invalid_request' }, 400, { 'Cache-Control': 'no-store' }); // §2.8
 *   }
 * });
 * ```
 */
export async function verifyLogoutToken(
  token: string,
  options: VerifyLogoutTokenOptions,
): Promise<VerifiedLogoutToken> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const { jtiStore } = options;
  if (typeof jtiStore !== 'object' || jtiStore === null || typeof jtiStore.consume !== 'function') {
    throw new TypeError('jtiStore must be a JtiStore (createMemoryJtiStore)');
  }
  const check = jwtCheckFor(options, {
    audience: requireNonEmptyString('audience', options.audience),
    requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti', 'events'], // §2.4
    // §2.4: logout tokens are explicitly typed so an ID token cannot be replayed as one (RFC 8725 §3.11).
    acceptsType: (typ) => typ === LOGOUT_TOKEN_TYP,
    kind: KIND,
  });

  const { payload, header } = await verifyJwt(token, check);

  // §2.4, §2.6: events must be an object whose logout member is itself a JSON object.
  const { events } = payload;
  if (
    !isObject(events) ||
    !Object.hasOwn(events, BACKCHANNEL_LOGOUT_EVENT) ||
    !isObject(events[BACKCHANNEL_LOGOUT_EVENT])
  ) {
    throw new TokenVerificationError('ERR_TOKEN_CLAIM', 'the logout token lacks the back-channel logout event', {
      claim: 'events',
    });
  }
  // §2.4 "A nonce Claim MUST NOT be present", checked per §2.6: keeps an ID token from passing as one.
  if (Object.hasOwn(payload, 'nonce')) {
    throw new TokenVerificationError('ERR_TOKEN_CLAIM', 'a logout token must not carry a nonce', { claim: 'nonce' });
  }
  // §2.4, §2.6: it must say what to log out.
  checkStringClaim(payload, 'sub', KIND, false);
  checkStringClaim(payload, 'sid', KIND, false);
  if (payload.sub === undefined && payload.sid === undefined) {
    throw new TokenVerificationError('ERR_TOKEN_CLAIM', 'a logout token must carry sub or sid', { claim: 'sid' });
  }
  checkStringClaim(payload, 'jti', KIND, true);
  const claims = payload as unknown as LogoutTokenClaims;

  // §2.6 (jti not recently received): last, so only a token that passed everything else is recorded. Kept until the
  // token could no longer be accepted anyway.
  const firstUse = await jtiStore.consume(claims.jti, claims.exp + check.clockToleranceSec);
  if (!firstUse)
    throw new TokenVerificationError('ERR_TOKEN_REPLAYED', 'the logout token was already used', { claim: 'jti' });
  return { claims, header };
}
