/**
 * What a browser and a relying app do at an issuer, over HTTP, for either server under test:
 * sign in during an authorization request, come back with a session (SSO), redeem a code, rotate
 * a refresh token. Only the sign-in form differs between Tessera and oidc-provider.
 */
import { createHash, randomBytes } from 'node:crypto';
import { BENCH_CLIENT, BENCH_PASSWORD, BENCH_REDIRECT, BENCH_SCOPE, benchEmail } from './constants.js';
import { CookieJar, type HttpClient, type Reply, UnexpectedReply, expect, location } from './http.js';

export interface Code {
  code: string;
  verifier: string;
}

export interface Tokens {
  access_token: string;
  id_token: string;
  refresh_token: string;
}

export interface IssuerUnderTest {
  name: string;
  http: HttpClient;
  authorizePath: string;
  /** Fills in and posts the sign-in form `page` shows; returns the issuer's answer. */
  submitSignIn(page: Reply, pageUrl: URL, jar: CookieJar, user: number): Promise<Reply>;
}

export function authorizeQuery(): { query: string; verifier: string; state: string } {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: BENCH_CLIENT,
    redirect_uri: BENCH_REDIRECT,
    scope: BENCH_SCOPE,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state,
    nonce: randomBytes(8).toString('base64url'),
  }).toString();
  return { query, verifier, state };
}

/** Follows the issuer's redirects (signing in where it shows its form) until one leaves for the client. */
async function toClient(issuer: IssuerUnderTest, jar: CookieJar, reply: Reply, url: URL, user: number): Promise<URL> {
  for (let hops = 0; hops < 8; hops++) {
    jar.take(reply);
    if (reply.status === 200) {
      reply = await issuer.submitSignIn(reply, url, jar, user);
      continue;
    }
    url = location('authorization', reply, issuer.http.origin);
    if (url.origin !== issuer.http.origin) return url;
    reply = await issuer.http.send(url.pathname + url.search, { headers: jar.header() });
  }
  throw new UnexpectedReply('authorization: too many redirects', reply);
}

function codeFrom(url: URL, state: string, reply: () => Reply): string {
  const code = url.searchParams.get('code');
  if (url.origin + url.pathname !== BENCH_REDIRECT || !code || url.searchParams.get('state') !== state)
    throw new UnexpectedReply(`authorization ended at ${url.href.slice(0, 200)}`, reply());
  return code;
}

/**
 * One authorization request from the browser `jar` (signing in when the issuer asks, as `user`)
 * to the code at the client's redirect URI.
 */
export async function authorize(issuer: IssuerUnderTest, jar: CookieJar, user: number): Promise<Code> {
  const { query, verifier, state } = authorizeQuery();
  const path = `${issuer.authorizePath}?${query}`;
  const first = await issuer.http.send(path, { headers: jar.header() });
  const last = await toClient(issuer, jar, first, new URL(path, issuer.http.origin), user);
  return { code: codeFrom(last, state, () => first), verifier };
}

export function basic(secret: string): string {
  return `Basic ${Buffer.from(`${BENCH_CLIENT}:${secret}`).toString('base64')}`;
}

async function tokenRequest(issuer: IssuerUnderTest, secret: string, form: Record<string, string>): Promise<Tokens> {
  const reply = expect('token endpoint', await issuer.http.post('/token', form, { authorization: basic(secret) }), 200);
  const tokens = JSON.parse(reply.body) as Tokens;
  if (!tokens.access_token || !tokens.id_token || !tokens.refresh_token)
    throw new UnexpectedReply('token endpoint: a token is missing', reply);
  return tokens;
}

export const redeem = (issuer: IssuerUnderTest, secret: string, c: Code) =>
  tokenRequest(issuer, secret, {
    grant_type: 'authorization_code',
    code: c.code,
    code_verifier: c.verifier,
    redirect_uri: BENCH_REDIRECT,
  });

export const rotate = (issuer: IssuerUnderTest, secret: string, refreshToken: string) =>
  tokenRequest(issuer, secret, { grant_type: 'refresh_token', refresh_token: refreshToken });

/** The value of the form field `name` in `html`, whatever the order of the input's attributes. */
function field(html: string, name: string): string {
  for (const input of html.match(/<input\b[^>]*>/g) ?? []) {
    if (!new RegExp(`\\sname="${name}"`).test(input)) continue;
    return /\svalue="([^"]*)"/.exec(input)?.[1] ?? '';
  }
  return '';
}

/**
 * Posts a sign-in form as the browser `jar` holds it, from the issuer's own origin. A refused sign-in
 * with the right password is an error of the run, whatever the reason.
 */
async function postSignIn(http: HttpClient, path: string, form: Record<string, string>, jar: CookieJar) {
  const reply = await http.post(path, form, { origin: http.origin, ...jar.header() });
  if (reply.status === 401 || reply.status === 200)
    throw new UnexpectedReply('sign-in refused the correct password', reply);
  return reply;
}

export function tesseraUnderTest(http: HttpClient): IssuerUnderTest {
  return {
    name: 'Tessera',
    http,
    authorizePath: '/authorize',
    async submitSignIn(page, _pageUrl, jar, user) {
      const form = {
        interaction: field(page.body, 'interaction'),
        csrf_token: field(page.body, 'csrf_token'),
        email: benchEmail(user),
        password: BENCH_PASSWORD,
      };
      return postSignIn(http, '/sign-in', form, jar);
    },
  };
}

export function oidcProviderUnderTest(http: HttpClient): IssuerUnderTest {
  return {
    name: 'oidc-provider',
    http,
    authorizePath: '/auth',
    async submitSignIn(page, pageUrl, jar, user) {
      const action = /action="([^"]+)"/.exec(page.body)?.[1] ?? `${pageUrl.pathname}/login`;
      return postSignIn(http, action, { email: benchEmail(user), password: BENCH_PASSWORD }, jar);
    },
  };
}

/** A new browser: no cookies. */
export const freshJar = () => new CookieJar();
