/**
 * What a failed sign-in shows the person: a page that says what went wrong in words, with a way
 * to start again, and a status that is never 500 for anything the issuer or the browser sent.
 */
import {
  AuthorizationResponseError,
  CodeExchangeError,
  IssuerUnavailableError,
  TokenVerificationError,
  describeClockSkew,
  issuedInTheFutureBy,
} from '@tessera/shared';

export interface SignInFailure {
  status: 400 | 403 | 502 | 503;
  title: string;
  message: string;
  /** A short code, shown small on the page and logged. */
  code: string;
}

/** A sign-in that failed for a reason app A itself found (no ID token, mismatched subjects…). */
export class SignInError extends Error {
  constructor(
    readonly failure: SignInFailure,
    options?: { cause?: unknown },
  ) {
    super(failure.message, options);
    this.name = 'SignInError';
  }
}

const AUTHORIZATION_ERRORS: Record<string, { status: 400 | 403; title: string; message: string }> = {
  access_denied: { status: 403, title: 'Sign-in cancelled', message: 'The sign-in was cancelled or not allowed.' },
  login_required: { status: 400, title: 'Not signed in', message: 'You are not signed in at the sign-in service.' },
  consent_required: { status: 400, title: 'Permission needed', message: 'App A needs your permission first.' },
  interaction_required: {
    status: 400,
    title: 'Sign-in needed',
    message: 'The sign-in service needs you to continue there.',
  },
};

/** A failure the person can do nothing about but start again (or wait): only the message differs. */
function signInFailed(status: 400 | 502, message: string, code: string): SignInFailure {
  return { status, title: 'Sign-in failed', message, code };
}

const ISSUER_UNAVAILABLE: SignInFailure = {
  status: 503,
  title: 'Sign-in is unavailable',
  message: 'The sign-in service cannot be reached right now. Please try again shortly.',
  code: 'temporarily_unavailable',
};

/** The failure to show for an error of the sign-in path, or undefined when it is a bug of ours (a 500). */
export function describeSignInFailure(error: unknown): SignInFailure | undefined {
  if (error instanceof SignInError) return error.failure;
  if (error instanceof AuthorizationResponseError) {
    switch (error.code) {
      case 'ERR_AUTHZ_ERROR_RESPONSE': {
        const known = AUTHORIZATION_ERRORS[error.error ?? ''];
        // The error code comes from the query string: shown (escaped) only when it looks like the
        // codes of RFC 6749 §4.1.2.1 and OIDC Core §3.1.2.6 do.
        const code = /^[a-z_]{1,64}$/.test(error.error ?? '') ? error.error! : 'invalid_response';
        return known ? { ...known, code } : signInFailed(400, 'The sign-in service could not sign you in.', code);
      }
      case 'ERR_AUTHZ_STATE':
        // RFC 6749 §10.12: not the response to the request this browser made (a CSRF attempt, or an old tab).
        return signInFailed(
          400,
          'This sign-in response does not belong to the sign-in started in this browser.',
          'invalid_state',
        );
      case 'ERR_AUTHZ_ISSUER':
        // RFC 9207 §2.4: a response from another issuer (mix-up attack).
        return signInFailed(400, 'This sign-in response comes from an unexpected sign-in service.', 'invalid_issuer');
      default:
        return signInFailed(400, 'The sign-in response is malformed.', 'invalid_response');
    }
  }
  if (error instanceof CodeExchangeError) {
    return error.code === 'ERR_CODE_EXCHANGE_REJECTED'
      ? signInFailed(400, 'The sign-in could not be completed; please sign in again.', 'invalid_grant')
      : signInFailed(502, 'The sign-in service did not answer properly. Please try again.', 'bad_gateway');
  }
  // Tokens signed a moment ago, in our future past the leeway: the clocks disagree, which no new
  // attempt can mend; the person is told who can, the operator reads `clock.skew` in the log.
  const skew = issuedInTheFutureBy(error);
  if (skew !== undefined) {
    return signInFailed(
      502,
      `The sign-in could not be completed because the clocks disagree: ${describeClockSkew(skew)}. ` +
        "App A's operator must synchronise the clocks of App A and the sign-in service (the issuer); " +
        'signing in again will not help until then.',
      'clock_skew',
    );
  }
  if (error instanceof TokenVerificationError) {
    return error.code === 'ERR_JWKS_UNAVAILABLE'
      ? ISSUER_UNAVAILABLE
      : signInFailed(502, 'The sign-in service sent tokens that could not be verified.', 'invalid_token');
  }
  if (error instanceof IssuerUnavailableError) return ISSUER_UNAVAILABLE;
  return undefined;
}
