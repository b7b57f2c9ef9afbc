/**
 * How each surface of the issuer answers an error its routes throw: one Hono error handler per
 * surface, set with `onError` on that surface's routes. Routes only throw. Whatever a handler does
 * not recognise it throws on, to the root handler in app.ts (page or JSON by Accept, and an
 * unknown error is a server_error without its stack).
 */
import type { Context, ErrorHandler } from 'hono';
import { OAuthError } from '@tessera/shared';
import { renderPage } from '@tessera/shared/node';
import { RedirectableAuthorizationError } from '../protocol/authorization-request.js';
import { errorRedirect } from '../protocol/authorization-response.js';
import { InvalidClientError } from '../protocol/client-auth.js';
import { DeviceNotFound } from '../protocol/devices.js';
import { DPOP_SIGNING_ALGORITHMS, DPoPNonceRequired, DPoPResourceError } from '../protocol/dpop.js';
import { LogoutRequestError } from '../protocol/end-session.js';
import { errorPage } from '../views/pages.js';
import { noStore } from './cache-control.js';
import type { Env } from './env.js';

/**
 * The token, revocation and introspection endpoints: RFC 6749 §5.2, a JSON error that is never
 * cached, and 401 with a Basic challenge for invalid_client (RFC 7009 §2.2.1 and RFC 7662 §2.3
 * answer as §5.2 does).
 */
export const tokenEndpointErrors: ErrorHandler<Env> = (err, c) => {
  if (!(err instanceof OAuthError)) throw err;
  noStore(c);
  if (err instanceof InvalidClientError) {
    c.header('WWW-Authenticate', err.usedBasic ? 'Basic realm="tessera", charset="UTF-8"' : 'Basic realm="tessera"');
  }
  // RFC 9449 §8: the nonce the client's next proof must carry.
  if (err instanceof DPoPNonceRequired) c.header('DPoP-Nonce', err.nonce);
  return c.json(err.toJSON(), err.status);
};

/** RFC 6750 §3.1: a request that sent no access token at all; its challenge names no error. */
export class MissingBearerToken extends OAuthError {
  constructor() {
    super('invalid_token', 'a bearer access token is required');
  }
}

// RFC 6750 §3: error_description holds only %x20-21 / %x23-5B / %x5D-7E. A description may echo
// request input (a parameter name), and a header value outside that set would be a 500.
const quote = (s: string) => s.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '');

/** The UserInfo endpoint (a protected resource): RFC 6750 §3, the Bearer challenge names the error. */
export const bearerErrors: ErrorHandler<Env> = (err, c) => {
  if (!(err instanceof OAuthError)) throw err;
  noStore(c);
  const error = `error="${err.error}", error_description="${quote(err.description)}"`;
  c.header(
    'WWW-Authenticate',
    err instanceof MissingBearerToken
      ? 'Bearer realm="tessera"'
      : err instanceof DPoPResourceError
        ? // RFC 9449 §7.1: the DPoP challenge names the algorithms a proof may use.
          `DPoP algs="${DPOP_SIGNING_ALGORITHMS.join(' ')}", ${error}`
        : `Bearer realm="tessera", ${error}`,
  );
  return c.json(err.toJSON(), err.status);
};

/** RFC 6749 §4.1.2.1 and RFC 9207 §2: back to the validated redirect URI, with error, state and iss. */
function redirectToClient(c: Context<Env>, issuer: string, err: RedirectableAuthorizationError): Response {
  return c.redirect(errorRedirect(issuer, err.redirectUri, err, err.state), 302);
}

/**
 * The authorization endpoint: back to the client once its redirect URI is trusted, otherwise an
 * HTML page at the issuer, never a redirect (RFC 6749 §4.1.2.1).
 */
export function authorizationEndpointErrors(issuer: string): ErrorHandler<Env> {
  return (err, c) => {
    if (err instanceof RedirectableAuthorizationError) return redirectToClient(c, issuer, err);
    if (!(err instanceof OAuthError)) throw err;
    // An unknown client is invalid_client, yet no client authenticated here: a 401 would ask for credentials.
    return renderPage(
      c,
      () => errorPage('This sign-in request cannot be completed', err.error, err.description),
      err.status === 401 ? 400 : err.status,
    );
  };
}

/**
 * The sign-in page, where a signed-in person's authorization request resumes: its refusals
 * (OIDC Core §3.1.2.6) go back to the client as at the authorization endpoint. A form that cannot
 * be read is the root handler's.
 */
export function signInErrors(issuer: string): ErrorHandler<Env> {
  return (err, c) => {
    if (err instanceof RedirectableAuthorizationError) return redirectToClient(c, issuer, err);
    throw err;
  };
}

/**
 * The end-session endpoint: a refused request gets a page, never the redirect it asked for
 * (RP-Initiated Logout §3).
 */
export const endSessionErrors: ErrorHandler<Env> = (err, c) => {
  if (!(err instanceof LogoutRequestError)) throw err;
  return renderPage(c, () => errorPage('This sign-out request cannot be completed', err.error, err.description), 400);
};

/** The account page: a device that is not this person's signed-in one is not found, whatever the reason. */
export const accountErrors: ErrorHandler<Env> = (err, c) => {
  if (!(err instanceof DeviceNotFound)) throw err;
  return renderPage(
    c,
    () =>
      errorPage(
        'Device not found',
        'not_found',
        'This device is not signed in to your account, or it has already been signed out.',
      ),
    404,
  );
};
