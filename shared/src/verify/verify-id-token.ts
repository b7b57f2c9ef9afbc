import type { JWTHeaderParameters } from 'jose';
import type { IdTokenClaims } from '../protocol.js';
import { TokenVerificationError } from './errors.js';
import {
  checkStringClaim,
  jwtCheckFor,
  normalizeTyp,
  requireNonEmptyString,
  verifyJwt,
  type JwtVerifyOptions,
} from './verify-jwt.js';

/** What {@link verifyIdToken} checks an ID token against (OIDC Core §3.1.3.7). */
export interface VerifyIdTokenOptions extends JwtVerifyOptions {
  /** This client's `client_id`, which `aud` must contain. */
  audience: string;
  /** The `nonce` sent in the authorization request; when given, the token must carry it. */
  nonce?: string;
  /** The `max_age` sent in the authorization request, in seconds: `auth_time` must be that recent. */
  maxAgeSec?: number;
  /** Leeway for `exp`, `nbf`, `iat` and `auth_time`, in seconds: 60 by default, 0 for strict, at most 300. */
  clockToleranceSec?: number;
}

/** A verified ID token. */
export interface VerifiedIdToken {
  claims: IdTokenClaims;
  header: JWTHeaderParameters;
}

const KIND = 'ID token';
const PLAIN_JWT_TYP = normalizeTyp('JWT');

/**
 * Verifies an OpenID Connect ID token (OIDC Core §3.1.3.7): issuer key by `kid` with the key's own
 * algorithm, `iss`, `aud` (and `azp` when there are several audiences), `exp`, `iat`, `sub`, the
 * `nonce` and `auth_time` when asked. A token typed as something else (`at+jwt`, `logout+jwt`…)
 * is refused: ID tokens carry no `typ` or `JWT`.
 *
 * @example
 * ```ts
 * const { claims } = await verifyIdToken(tokens.id_token, {
 *   issuer: 'https://idp.example.com',
 *   audience: 'app-a',
 *   keySet,
 *   nonce: session.nonce,
 * });
 * ```
 */
export async function verifyIdToken(token: string, options: VerifyIdTokenOptions): Promise<VerifiedIdToken> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const audience = requireNonEmptyString('audience', options.audience);
  const nonce = options.nonce === undefined ? undefined : requireNonEmptyString('nonce', options.nonce);
  const { maxAgeSec } = options;
  if (maxAgeSec !== undefined && (typeof maxAgeSec !== 'number' || !Number.isFinite(maxAgeSec) || maxAgeSec < 0)) {
    throw new TypeError('maxAgeSec must be a finite number >= 0');
  }
  const check = jwtCheckFor(options, {
    audience,
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'], // OIDC Core §2
    // RFC 8725 §3.11: an access token or a logout token from the same issuer must not pass for an
    // ID token. OIDC Core sets no typ, so only "none" or plain JWT is accepted.
    acceptsType: (typ) => typ === undefined || typ === PLAIN_JWT_TYP,
    kind: KIND,
  });

  const { payload, header } = await verifyJwt(token, check);
  checkStringClaim(payload, 'sub', KIND, true);
  checkStringClaim(payload, 'sid', KIND, false);

  // OIDC Core §3.1.3.7 steps 4–5: with several audiences, azp names the client it was issued to.
  const { aud, azp } = payload;
  if (azp !== undefined && azp !== audience) {
    throw new TokenVerificationError('ERR_TOKEN_AUDIENCE', 'the ID token was issued to another client (azp)', {
      claim: 'azp',
    });
  }
  if (Array.isArray(aud) && aud.length > 1 && azp === undefined) {
    throw new TokenVerificationError('ERR_TOKEN_CLAIM', 'an ID token with several audiences must carry azp', {
      claim: 'azp',
    });
  }

  // OIDC Core §3.1.3.7 step 11: the nonce binds the token to this browser's authorization request.
  if (nonce !== undefined && payload.nonce !== nonce) {
    throw new TokenVerificationError('ERR_TOKEN_CLAIM', 'the ID token nonce does not match the request', {
      claim: 'nonce',
    });
  }

  const authTime = payload.auth_time;
  if (authTime !== undefined && typeof authTime !== 'number') {
    throw new TokenVerificationError('ERR_TOKEN_CLAIM', 'the ID token "auth_time" claim must be a number', {
      claim: 'auth_time',
    });
  }
  // OIDC Core §3.1.3.7 step 13: max_age was asked, so auth_time is required and must be recent.
  if (maxAgeSec !== undefined) {
    if (authTime === undefined) {
      throw new TokenVerificationError(
        'ERR_TOKEN_CLAIM',
        'the ID token lacks auth_time although max_age was requested',
        { claim: 'auth_time' },
      );
    }
    const nowSec = Math.floor((check.now?.() ?? Date.now()) / 1000);
    if (authTime + maxAgeSec < nowSec - check.clockToleranceSec) {
      throw new TokenVerificationError('ERR_TOKEN_CLAIM', 'the authentication is older than max_age', {
        claim: 'auth_time',
      });
    }
  }
  return { claims: payload as unknown as IdTokenClaims, header };
}
