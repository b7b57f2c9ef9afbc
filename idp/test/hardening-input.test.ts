/**
 * Bad input at every endpoint family of the issuer: an oversized body, overlong or too many
 * parameters, repeated parameters (RFC 6749 §3.1), malformed percent-encoding, invalid UTF-8 and
 * huge headers. Each gets a 4xx with the standard error code — never a 500, never a stack trace.
 */
import { describe, expect, it } from 'vitest';
import { useIssuer } from './support/fixture.js';
import { authorizeQuery } from './support/browser.js';
import { errorCode } from './support/pages.js';
import { itRefusesOversizedHeaders } from './support/header-limits.js';

const { idp, fx } = useIssuer();

/** How an endpoint is called: by query (GET) or by form body (POST); pages are asked for as HTML. */
interface Endpoint {
  method: 'GET' | 'POST';
  path: string;
  html: boolean;
}

const ENDPOINTS: Record<string, Endpoint> = {
  authorize: { method: 'GET', path: '/authorize', html: true },
  'authorize (POST)': { method: 'POST', path: '/authorize', html: true },
  token: { method: 'POST', path: '/token', html: false },
  userinfo: { method: 'GET', path: '/userinfo', html: false },
  'userinfo (POST)': { method: 'POST', path: '/userinfo', html: false },
  revoke: { method: 'POST', path: '/revoke', html: false },
  introspect: { method: 'POST', path: '/introspect', html: false },
  logout: { method: 'GET', path: '/logout', html: true },
  'logout confirmation': { method: 'POST', path: '/logout/confirm', html: true },
  'sign-in page': { method: 'GET', path: '/sign-in', html: true },
  'sign-in form': { method: 'POST', path: '/sign-in', html: true },
  consent: { method: 'POST', path: '/consent', html: true },
  account: { method: 'POST', path: '/account/sign-out-everywhere', html: true },
};

/** Sends `raw` as the endpoint's query string or urlencoded body, unaltered. */
function send(
  e: Endpoint,
  raw: string | Uint8Array<ArrayBuffer>,
  headers: Record<string, string> = {},
): Promise<Response> {
  const base = { ...(e.html ? { accept: 'text/html' } : {}), origin: new URL(idp.url).origin, ...headers };
  if (e.method === 'GET') return fetch(`${idp.url}${e.path}?${raw as string}`, { headers: base, redirect: 'manual' });
  return fetch(`${idp.url}${e.path}`, {
    method: 'POST',
    headers: { ...base, 'content-type': 'application/x-www-form-urlencoded' },
    body: raw,
    redirect: 'manual',
  });
}

const long = 'a'.repeat(5000);
const many = Array.from({ length: 65 }, (_, i) => `p${i}=v`).join('&');

const CASES: [string, (e: Endpoint) => string | Uint8Array<ArrayBuffer>, number][] = [
  ['a parameter value over 4096 characters', () => `state=${long}`, 400],
  ['65 parameters', () => many, 400],
  ['a `%` without two hex digits', () => 'state=%zz', 400],
  ['a truncated escape at the end', () => 'state=abc%4', 400],
  ['percent-encoded bytes that are not UTF-8', () => 'state=%ff%fe', 400],
  ['an encoded lone surrogate', () => 'state=%ED%A0%80', 400],
  [
    'raw bytes that are not UTF-8',
    (e) => (e.method === 'GET' ? 'state=%C3%28' : Uint8Array.from([...Buffer.from('state='), 0xc3, 0x28])),
    400,
  ],
];

describe.each(Object.keys(ENDPOINTS))('%s', (name) => {
  const e = ENDPOINTS[name]!;

  it.each(CASES)('answers %s with invalid_request', async (_, body, status) => {
    const res = await send(e, body(e));
    expect(res.status).toBe(status);
    expect(await errorCode(res)).toBe('invalid_request');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  itRefusesOversizedHeaders((headers) => send(e, 'a=b', headers), errorCode);

  if (e.method === 'POST') {
    it('answers a body over 64 KiB with 413 invalid_request', async () => {
      const res = await send(e, `state=${'a'.repeat(70 * 1024)}`);
      expect(res.status).toBe(413);
      expect(await errorCode(res)).toBe('invalid_request');
    });

    it('answers a body over 64 KiB sent without Content-Length (chunked) with 413', async () => {
      const chunks = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 70; i++) controller.enqueue(new Uint8Array(1024).fill(0x61));
          controller.close();
        },
      });
      const res = await fetch(`${idp.url}${e.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(e.html ? { accept: 'text/html' } : {}) },
        body: chunks,
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(await errorCode(res)).toBe('invalid_request');
    });
  }
});

describe('repeated parameters (RFC 6749 §3.1)', () => {
  const basic = () => `Basic ${Buffer.from(`${fx.confidential.id}:${fx.confidential.secret}`).toString('base64')}`;

  it.each(['/token', '/revoke', '/introspect'])(
    '%s answers a repeated parameter with 400 invalid_request',
    async (path) => {
      const res = await fetch(`${idp.url}${path}`, {
        method: 'POST',
        headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=authorization_code&token=a&token=b&code=a&code=b',
      });
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('invalid_request');
    },
  );

  it('userinfo answers a repeated access_token with 400 invalid_request', async () => {
    const res = await fetch(`${idp.url}/userinfo`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'access_token=a&access_token=b',
    });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('invalid_request');
  });

  it.each(['/sign-in', '/consent', '/logout/confirm', '/account/sign-out-everywhere'])(
    'the %s form answers a repeated field with 400 invalid_request',
    async (path) => {
      const res = await fetch(`${idp.url}${path}`, {
        method: 'POST',
        headers: {
          accept: 'text/html',
          origin: new URL(idp.url).origin,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'csrf_token=a&csrf_token=b',
        redirect: 'manual',
      });
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('invalid_request');
    },
  );

  it('logout answers a repeated parameter with a 400 page', async () => {
    const res = await fetch(`${idp.url}/logout?state=a&state=b`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('invalid_request');
  });

  it('logout by POST answers a repeated parameter with the same page as by GET', async () => {
    const heading = async (res: Response) => /<h1>([^<]*)<\/h1>/.exec(await res.text())?.[1];
    const get = await fetch(`${idp.url}/logout?state=a&state=b`, { headers: { accept: 'text/html' } });
    const post = await fetch(`${idp.url}/logout`, {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'state=a&state=b',
    });
    expect(post.status).toBe(400);
    expect(await heading(get)).toBe('This sign-out request cannot be completed');
    expect(await heading(post)).toBe('This sign-out request cannot be completed');
  });

  it('authorize returns a repeated parameter to the trusted redirect URI as invalid_request (§4.1.2.1)', async () => {
    const q = authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri });
    q.append('scope', 'openid');
    const res = await fetch(`${idp.url}/authorize?${q}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(fx.redirectUri);
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  it('authorize shows a page, never a redirect, when redirect_uri itself is repeated', async () => {
    const q = authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri });
    q.append('redirect_uri', 'https://evil.example/cb');
    const res = await fetch(`${idp.url}/authorize?${q}`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await errorCode(res)).toBe('invalid_request');
  });

  it('POST authorize keeps the same rule as GET: back to the client', async () => {
    const q = authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri });
    q.append('scope', 'openid');
    const res = await fetch(`${idp.url}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: q,
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });
});

describe('malformed cookies and paths', () => {
  it('reads a cookie with broken escapes as no session, not a 500', async () => {
    const res = await fetch(`${idp.url}/account`, {
      headers: { cookie: 'tessera_session=%zz%ff; tessera_browser=%', accept: 'text/html' },
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/sign-in');
  });

  it('answers a path with broken escapes with 404, not a 500', async () => {
    const res = await fetch(`${idp.url}/account/devices/%zz%ff/end`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf_token=x',
    });
    expect(res.status).toBeLessThan(500);
  });
});

/**
 * A NUL character where the issuer looks a value up: a value no row can hold (PostgreSQL's text
 * cannot hold one at all, and refuses it as a parameter), so it finds nothing, on either engine.
 */
describe('a NUL character in a value the issuer looks up', () => {
  const nul = encodeURIComponent('\u0000');
  const authorize = () => authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri });
  const CASES: [string, () => Promise<Response>][] = [
    ['the sign-in page’s interaction', () => send(ENDPOINTS['sign-in page']!, `interaction=${nul}`)],
    ['the sign-in form’s interaction', () => send(ENDPOINTS['sign-in form']!, `interaction=${nul}&csrf_token=x`)],
    ['the consent form’s interaction', () => send(ENDPOINTS.consent!, `interaction=${nul}&csrf_token=x`)],
    ['the client_id at authorize', () => send(ENDPOINTS.authorize!, `client_id=${nul}&response_type=code`)],
    ['a resource at authorize', () => send(ENDPOINTS.authorize!, `${authorize()}&resource=https://a.test/${nul}`)],
    [
      'the client_id of a token request',
      () => send(ENDPOINTS.token!, `grant_type=authorization_code&code=x&client_id=${nul}&client_secret=x`),
    ],
    [
      'the client id in Basic authentication',
      () =>
        send(ENDPOINTS.introspect!, 'token=x', {
          authorization: `Basic ${Buffer.from('\u0000:secret').toString('base64')}`,
        }),
    ],
    ['the client_id at logout', () => send(ENDPOINTS.logout!, `client_id=${nul}`)],
  ];

  it.each(CASES)('in %s finds nothing: never a 500', async (_, request) => {
    const res = await request();
    expect(res.status).toBeLessThan(500);
    expect(await errorCode(res)).not.toBe('server_error');
  });
});
