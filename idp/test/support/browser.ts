/** Walking the authorization code flow with a cookie-jar client, step by step. */
import { createCookieJarClient, formValue, pkcePair, type CookieJarClient } from '@tessera/shared/testing';
import { expect } from 'vitest';
import { tableDigests } from './db-digest.js';
import { PASSWORD, type RunningIssuer } from './fixture.js';

export interface AuthorizeOptions {
  clientId: string;
  redirectUri: string;
  scope?: string;
  state?: string;
  nonce?: string;
  extra?: Record<string, string>;
  challenge?: string;
}

export function authorizeUrl(issuer: string, o: AuthorizeOptions & { challenge: string }): string {
  const u = new URL('/authorize', issuer);
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: o.clientId,
    redirect_uri: o.redirectUri,
    scope: o.scope ?? 'openid profile email',
    state: o.state ?? 'state-123',
    nonce: o.nonce ?? 'nonce-456',
    code_challenge: o.challenge,
    code_challenge_method: 'S256',
    ...o.extra,
  }).toString();
  return u.toString();
}

/** Posts the sign-in form found at `signInUrl`. */
export async function submitSignIn(
  jar: CookieJarClient,
  issuer: string,
  signInUrl: URL,
  email: string,
  password: string,
): Promise<Response> {
  const page = await (await jar.fetch(signInUrl)).text();
  const form = new URLSearchParams({
    interaction: formValue(page, 'interaction') ?? '',
    csrf_token: formValue(page, 'csrf_token') ?? '',
    email,
    password,
  });
  return jar.fetch(new URL('/sign-in', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(issuer).origin },
    body: form,
  });
}

/**
 * Runs the browser part of the flow: authorize → (sign-in) → redirect to the client.
 * Returns the callback URL the issuer redirected to.
 */
export async function browserFlow(
  issuer: string,
  o: AuthorizeOptions,
  signIn: { email: string; password?: string } | null,
  jar: CookieJarClient = createCookieJarClient(),
): Promise<{ callback: URL; verifier: string; jar: CookieJarClient }> {
  const { verifier, challenge } = pkcePair();
  const isCallback = (u: URL) => u.href.startsWith(o.redirectUri);
  let step = await jar.follow(authorizeUrl(issuer, { ...o, challenge: o.challenge ?? challenge }), {
    stopWhen: (u) => isCallback(u) || u.pathname === '/sign-in',
  });
  if (step.location?.pathname === '/sign-in') {
    if (!signIn) throw new Error('the issuer asked for a sign-in');
    const res = await submitSignIn(jar, issuer, step.location, signIn.email, signIn.password ?? PASSWORD);
    const loc = res.headers.get('location');
    if (!loc) throw new Error(`sign-in did not redirect: ${res.status} ${await res.text()}`);
    step = { responses: [res], last: res, location: new URL(loc, issuer) };
  }
  if (!step.location || !isCallback(step.location))
    throw new Error(`expected a redirect to the client, got ${step.last.status} ${step.location?.href ?? ''}`);
  return { callback: step.location, verifier, jar };
}

/** HTTP Basic client authentication, id and secret form-encoded first (RFC 6749 §2.3.1). */
export const basicAuth = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** POSTs a form to /token: the status, the JSON and the headers. */
export async function postToken(
  issuer: string,
  body: URLSearchParams | Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(new URL('/token', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: body instanceof URLSearchParams ? body : new URLSearchParams(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** Redeems a code at the token endpoint. */
export function redeem(
  issuer: string,
  body: Record<string, string>,
  auth?: { id: string; secret: string },
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  return postToken(
    issuer,
    { grant_type: 'authorization_code', ...body },
    auth ? { authorization: basicAuth(auth.id, auth.secret) } : {},
  );
}

/**
 * Authorizes public client `o.clientId` through the SSO session already in `jar` (the flow fails if
 * the issuer asks for a sign-in) and redeems the code: the token endpoint's answer.
 */
export async function redeemThroughSession(
  issuer: string,
  o: AuthorizeOptions,
  jar: CookieJarClient,
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const { callback, verifier } = await browserFlow(issuer, o, null, jar);
  return redeem(issuer, {
    code: callback.searchParams.get('code')!,
    code_verifier: verifier,
    redirect_uri: o.redirectUri,
    client_id: o.clientId,
  });
}

/**
 * The query of an authorization request with the usual values; `overrides` replace them and
 * `null` leaves a parameter out.
 */
export function authorizeQuery(
  o: { clientId: string; redirectUri: string },
  overrides: Record<string, string | null> = {},
): URLSearchParams {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: o.clientId,
    redirect_uri: o.redirectUri,
    scope: 'openid profile email',
    state: 'state-123',
    nonce: 'nonce-456',
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
  });
  for (const [k, v] of Object.entries(overrides)) {
    if (v === null) q.delete(k);
    else q.set(k, v);
  }
  return q;
}

/** One GET of /authorize, redirects not followed; through `jar` when given. */
export function getAuthorize(
  issuer: string,
  query: URLSearchParams | string,
  jar?: CookieJarClient,
): Promise<Response> {
  const url = new URL(`/authorize?${query.toString()}`, issuer);
  return jar ? jar.fetch(url) : fetch(url, { redirect: 'manual' });
}

/** The Location a response redirects to, resolved against the issuer. */
export function locationOf(res: Response, issuer: string): URL | undefined {
  const loc = res.headers.get('location');
  return loc === null ? undefined : new URL(loc, issuer);
}

/**
 * Runs the flow for alice (or the person `email` names) and redeems the code: the token response and
 * the jar holding the session.
 */
export async function signInAndRedeem(
  issuer: string,
  o: AuthorizeOptions & { auth?: { id: string; secret: string }; email?: string },
  jar?: CookieJarClient,
): Promise<{ tokens: Record<string, unknown>; jar: CookieJarClient; code: string }> {
  const { auth, email = 'alice@example.com', ...rest } = o;
  const flow = await browserFlow(issuer, rest, { email }, jar);
  const code = flow.callback.searchParams.get('code')!;
  const body: Record<string, string> = { code, code_verifier: flow.verifier, redirect_uri: o.redirectUri };
  if (!auth) body.client_id = o.clientId;
  const res = await redeem(issuer, body, auth);
  if (res.status !== 200) throw new Error(`redeem failed: ${res.status} ${JSON.stringify(res.json)}`);
  return { tokens: res.json, jar: flow.jar, code };
}

/**
 * Sends a token-endpoint request that must be refused with `status` and `error`, and shows it
 * changed no durable table (a digest of every row before and after, not a count taken while the
 * request may already be running). Returns the answer's headers.
 */
export async function expectTokenRefusal(
  running: RunningIssuer,
  send: () => Promise<{ status: number; json: Record<string, unknown>; headers: Headers }>,
  status: number,
  error: string,
): Promise<Headers> {
  const before = await tableDigests(running.issuer.ctx.store.database);
  const res = await send();
  expect({ status: res.status, error: res.json.error }).toEqual({ status, error });
  expect(await tableDigests(running.issuer.ctx.store.database)).toEqual(before);
  return res.headers;
}
