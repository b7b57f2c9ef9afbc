/**
 * App A calling app B's API for the signed-in person, across sites: app A's server exchanges the
 * person's access token (audience: app A) at the issuer for one whose audience is app B's API,
 * with `act` naming app A (RFC 8693), and sends only that one to app B. App A's own token never
 * leaves for app B; the exchanged one goes nowhere else and is not kept.
 */
import {
  IssuerUnavailableError,
  TokenExchangeError,
  describeError,
  exchangeToken,
  parseStepUpChallenge,
  readBoundedText,
  type ActorClaim,
  type StepUpChallenge,
} from '@tessera/shared';
import type { AppContext } from './context.js';
import type { AppSession } from './sessions/session-store.js';

/** What app B's API said about the person, as app A shows it. */
export interface AppBAnswer {
  kind: 'answer';
  sub: string;
  name: string | null;
  email: string | null;
  /** The client the token was issued to. */
  clientId: string;
  /** The actors, current first (RFC 8693 §4.1); empty when app B saw no `act`. */
  actors: string[];
}

/** App A holds no live access token for the person: only a new sign-in gets one. */
export interface AppBNeedsSignIn {
  kind: 'sign_in_again';
}

/** The issuer or app B refused, or could not be reached: said in words, with a short code. */
export interface AppBFailure {
  kind: 'failed';
  message: string;
  code: string;
  /** Whether a new sign-in can mend it (the access token was refused as revoked or expired). */
  signInHelps: boolean;
}

export type FromAppB = AppBAnswer | AppBNeedsSignIn | AppBFailure;

/** How the person signed in, as app B's step-up API read it from the token it was sent. */
export interface AppBSecurityAnswer {
  kind: 'answer';
  acr: string | null;
  amr: string[];
  /** Epoch seconds. */
  authTime: number | null;
}

/** App B needs a stronger or more recent sign-in than the token shows (RFC 9470 §3). */
export interface AppBStepUp {
  kind: 'step_up';
  challenge: StepUpChallenge;
}

export type SecurityFromAppB = AppBSecurityAnswer | AppBStepUp | AppBNeedsSignIn | AppBFailure;

/** App B's 200 answer's JSON body, or why there is none. */
type AppBCall = { kind: 'ok'; body: Record<string, unknown> } | AppBStepUp | AppBNeedsSignIn | AppBFailure;

/** App B answers at once or not at all: the page waits for it. */
const APP_B_TIMEOUT_MS = 5_000;
const MAX_ANSWER_BYTES = 16 * 1024;

/** A code from another party's answer, shown only when it looks like an OAuth error code. */
const safeCode = (code: unknown, fallback: string): string =>
  typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? code : fallback;

const failed = (message: string, code: string, signInHelps = false): AppBFailure => ({
  kind: 'failed',
  message,
  code,
  signInHelps,
});

/** Asks app B's API who it sees, for this session's person; never throws for what another party did. */
export async function askAppB(ctx: AppContext, session: AppSession): Promise<FromAppB> {
  const call = await callAppB(ctx, session, '/api/me');
  if (call.kind === 'step_up') {
    // /api/me needs no more than a valid token: a step-up there is app B misconfigured.
    return failed("App B's API asked for a stronger sign-in where it needs none.", 'insufficient_user_authentication');
  }
  if (call.kind !== 'ok') return call;
  const { body } = call;
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  if (typeof body.sub !== 'string' || typeof body.client_id !== 'string') {
    return failed("App B's API answered something App A could not read.", 'invalid_response');
  }
  ctx.log.info('app_b.called', { sub: session.sub, seen_sub: body.sub });
  return {
    kind: 'answer',
    sub: body.sub,
    name: text(body.name),
    email: text(body.email),
    clientId: body.client_id,
    actors: actorsOf(body.act),
  };
}

/**
 * Asks app B's step-up API how the person signed in; a token whose sign-in is too weak for it
 * comes back as the step-up app B asks for. Never throws for what another party did.
 */
export async function askAppBSecurity(ctx: AppContext, session: AppSession): Promise<SecurityFromAppB> {
  const call = await callAppB(ctx, session, '/api/security');
  if (call.kind !== 'ok') return call;
  const { acr, amr, auth_time: authTime } = call.body;
  if (
    (acr !== null && typeof acr !== 'string') ||
    !Array.isArray(amr) ||
    !amr.every((v) => typeof v === 'string') ||
    (authTime !== null && typeof authTime !== 'number')
  ) {
    return failed("App B's API answered something App A could not read.", 'invalid_response');
  }
  return { kind: 'answer', acr, amr, authTime };
}

/** Exchanges the person's token for one for app B's API and calls `path` with it. */
async function callAppB(ctx: AppContext, session: AppSession, path: string): Promise<AppBCall> {
  const { config } = ctx;
  // The issuer would refuse an expired subject token (RFC 8693 §2.2.2); asking is pointless.
  if (session.accessToken === undefined || (session.accessTokenExpiresAt ?? 0) <= ctx.clock.now()) {
    return { kind: 'sign_in_again' };
  }
  let token: string;
  try {
    const exchanged = await exchangeToken({
      tokenEndpoint: (await ctx.issuer.metadata()).token_endpoint,
      clientId: config.clientId,
      clientSecret: config.clientSecret, // client_secret_basic, as for the code
      subjectToken: session.accessToken,
      resource: config.appBUrl,
      fetch: ctx.fetch,
    });
    token = exchanged.access_token;
  } catch (error) {
    const failure = exchangeFailure(error);
    if (failure === undefined) throw error;
    ctx.log.warn('app_b.exchange_failed', { sub: session.sub, reason: failure.code, ...describeError(error) });
    return failure;
  }

  let status: number;
  let answer: unknown;
  let challenge: string | null;
  try {
    const response = await ctx.fetch(`${config.appBUrl}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(APP_B_TIMEOUT_MS),
    });
    status = response.status;
    challenge = response.headers.get('www-authenticate');
    const text = await readBoundedText(response, MAX_ANSWER_BYTES);
    answer = text === '' ? undefined : JSON.parse(text);
  } catch (error) {
    ctx.log.warn('app_b.unreachable', { sub: session.sub, ...describeError(error) });
    return failed("App B's API cannot be reached right now. Please try again shortly.", 'temporarily_unavailable');
  }
  const body = typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>) : {};
  if (status !== 200) {
    const stepUp = status === 401 ? parseStepUpChallenge(challenge) : undefined;
    if (stepUp !== undefined) {
      ctx.log.info('app_b.step_up', { sub: session.sub, path, acr_values: stepUp.acrValues.join(' ') });
      return { kind: 'step_up', challenge: stepUp };
    }
    // RFC 6750 §3: the reason is in WWW-Authenticate (and in app B's JSON body).
    const code = safeCode(/error="([^"]*)"/.exec(challenge ?? '')?.[1] ?? body.error, `http_${status}`);
    ctx.log.warn('app_b.refused', { sub: session.sub, path, status, code });
    return failed(`App B's API refused App A's call for you (HTTP ${status}).`, code);
  }
  return { kind: 'ok', body };
}

/** RFC 8693 §4.1: the current actor outermost, earlier ones nested; only string `sub`s are kept. */
function actorsOf(act: unknown, depth = 0): string[] {
  if (typeof act !== 'object' || act === null || depth > 8) return [];
  const { sub, act: earlier } = act as Partial<ActorClaim>;
  return typeof sub === 'string' ? [sub, ...actorsOf(earlier, depth + 1)] : [];
}

/** What the person is told when the issuer does not give app A a token for app B. */
function exchangeFailure(error: unknown): AppBFailure | undefined {
  if (error instanceof IssuerUnavailableError) {
    return failed(
      'The sign-in service cannot be reached right now. Please try again shortly.',
      'temporarily_unavailable',
    );
  }
  if (!(error instanceof TokenExchangeError)) return undefined;
  if (error.code === 'ERR_TOKEN_EXCHANGE_RESPONSE') {
    return failed('The sign-in service did not answer properly. Please try again.', 'bad_gateway');
  }
  switch (error.error) {
    // RFC 6749 §5.2: not registered for the grant at all; RFC 8693 §2.2.2: not for that API.
    case 'unauthorized_client':
    case 'invalid_target':
      return failed(
        "The sign-in service does not let App A call app B's API for you: App A is not registered for it.",
        error.error,
      );
    case 'invalid_request':
      // RFC 8693 §2.2.2: the subject token was not accepted; here, revoked (a sign-out elsewhere) or expired.
      return failed(
        "The sign-in service no longer accepts App A's access for you (it ended or expired). Sign in again.",
        'invalid_request',
        true,
      );
    default:
      return failed(
        "The sign-in service refused to let App A call app B's API for you.",
        safeCode(error.error, 'invalid_grant'),
      );
  }
}
