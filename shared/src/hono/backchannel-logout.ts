/**
 * A relying party's back-channel logout endpoint (OIDC Back-Channel Logout 1.0 §2.5–2.8): the
 * issuer posts a signed logout token, server to server. No cookie, no CSRF token: the token is the
 * whole authority. What "logging out" means is the app's: `onLogout` receives the verified claims.
 */
import type { Context, Handler } from 'hono';
import { parseUrlencoded } from '../http/urlencoded.js';
import { TokenVerificationError } from '../verify/errors.js';
import {
  verifyLogoutToken,
  type LogoutTokenClaims,
  type VerifyLogoutTokenOptions,
} from '../verify/verify-logout-token.js';

/** Options of {@link backchannelLogout}: how to verify the logout token, and what to do with it. */
export interface BackchannelLogoutOptions extends VerifyLogoutTokenOptions {
  /**
   * Ends what the logout token names (§2.7): with `sid`, the sessions of that issuer session;
   * with only `sub`, every session of the subject. Throwing makes the answer a 500 (the root
   * handler's), which the issuer may retry with the same token: its `jti` is released
   * (JtiStore.release), so the retry is taken.
   */
  onLogout: (claims: LogoutTokenClaims, c: Context) => void | Promise<void>;
  /** Called with every refused token, for the log: the issuer only ever sees the error code. */
  onError?: (error: TokenVerificationError, c: Context) => void;
  /**
   * Reads the request's form; `undefined` when the body is no
   * application/x-www-form-urlencoded form. By default the body is read strictly with
   * parseUrlencoded, whose MalformedRequestError goes on to the root error handler.
   */
  readForm?: (c: Context) => Promise<URLSearchParams | undefined>;
}

async function readUrlencodedBody(c: Context): Promise<URLSearchParams | undefined> {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header('content-type') ?? '')) return undefined;
  return parseUrlencoded(new Uint8Array(await c.req.arrayBuffer()));
}

function hasRepeatedParameter(form: URLSearchParams): boolean {
  return new Set(form.keys()).size !== [...form.keys()].length;
}

// §2.8: every answer carries Cache-Control: no-store.
const NO_STORE = { 'Cache-Control': 'no-store' } as const;

/**
 * Builds the POST handler of a back-channel logout endpoint. Answers (§2.8): 200 once `onLogout`
 * has run, also when no session matched (it may have ended here already); 400 `invalid_request`
 * for a missing or refused logout token, a repeated parameter, or a body that is not a form; 503
 * `temporarily_unavailable` when the issuer's keys cannot be had (our inability to check is not a
 * bad token: a 5xx makes the issuer retry later). Every answer carries `Cache-Control: no-store`.
 * Errors other than TokenVerificationError go on to the root error handler.
 *
 * @example
 * ```ts
 * app.post('/backchannel-logout', backchannelLogout({
 *   issuer: 'https://idp.example.com',
 *   audience: 'my-client-id',
 *   keySet: createRemoteKeySet('https://idp.example.com/jwks'),
 *   jtiStore: createMemoryJtiStore(),
 *   onLogout: (claims) =>
 *     claims.sid !== undefined ? sessions.endByIssuerSession(claims.sid) : sessions.endBySubject(claims.sub!),
 * }));
 * ```
 */
export function backchannelLogout(options: BackchannelLogoutOptions): Handler {
  const { onLogout, onError, readForm = readUrlencodedBody, ...verifyOptions } = options;
  if (typeof onLogout !== 'function') throw new TypeError('onLogout must be a function');

  const refuse = (c: Context) => c.json({ error: 'invalid_request' }, 400, NO_STORE);

  return async function backchannelLogout(c) {
    // §2.5: application/x-www-form-urlencoded, exactly one logout_token parameter; like every
    // OAuth request, no parameter may be sent more than once (RFC 6749 §3.1).
    const form = await readForm(c);
    const token = form === undefined || hasRepeatedParameter(form) ? null : form.get('logout_token');
    if (token === null) return refuse(c);

    let claims: LogoutTokenClaims;
    try {
      // §2.6: signature, iss, aud = our client_id, iat/exp, typ, events, no nonce, sub or sid, unused jti.
      ({ claims } = await verifyLogoutToken(token, verifyOptions));
    } catch (error) {
      if (!(error instanceof TokenVerificationError)) throw error;
      onError?.(error, c);
      if (error.code === 'ERR_JWKS_UNAVAILABLE') return c.json({ error: 'temporarily_unavailable' }, 503, NO_STORE);
      return refuse(c);
    }

    try {
      await onLogout(claims, c);
    } catch (error) {
      // Nothing was done: the issuer's retry brings the same token (§2.8: a 5xx, so it retries), whose
      // jti must not then be refused as a replay. A failed release leaves the original error to report.
      await Promise.resolve()
        .then(() => verifyOptions.jtiStore.release?.(claims.jti))
        .catch(() => {});
      throw error;
    }
    return c.body(null, 200, NO_STORE);
  };
}
