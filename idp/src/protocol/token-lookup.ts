/**
 * Recognising a token presented to the revocation or introspection endpoint: one of our access
 * tokens (a JWT we signed) or one of our refresh tokens (an opaque secret we hold a digest of).
 */
import { TOKEN_TYPES } from '@tessera/shared';
import type { JWTPayload } from 'jose';
import type { IssuerContext } from '../context.js';
import { digest } from '../crypto/digest.js';
import type { Grant, RefreshToken } from '../store/index.js';

export type PresentedToken =
  | { kind: 'access_token'; claims: JWTPayload & { client_id?: string; scope?: string; sid?: string } }
  | { kind: 'refresh_token'; token: RefreshToken; grant: Grant }
  | { kind: 'unknown' };

/**
 * Finds what `value` is. Access tokens are checked with our keys and `typ: at+jwt`; `ignoreExpiry`
 * lets revocation find an expired token (revoking it is harmless), introspection never does.
 */
export async function lookUpToken(
  ctx: IssuerContext,
  value: string,
  opts: { ignoreExpiry: boolean },
): Promise<PresentedToken> {
  if (value.length > 16 * 1024) return { kind: 'unknown' };
  if (value.split('.').length === 3) {
    try {
      const { payload } = await ctx.keys.verify(value, {
        issuer: ctx.config.issuer,
        typ: TOKEN_TYPES.accessToken,
        ignoreExpiry: opts.ignoreExpiry,
      });
      return { kind: 'access_token', claims: payload };
    } catch {
      return { kind: 'unknown' };
    }
  }
  if (!/^[A-Za-z0-9_-]{20,256}$/.test(value)) return { kind: 'unknown' };
  const found = await ctx.store.refreshTokens.find(digest(value));
  return found ? { kind: 'refresh_token', ...found } : { kind: 'unknown' };
}
