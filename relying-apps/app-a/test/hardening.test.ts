/**
 * App A's hardening: a nonce CSP and the other security headers on every page, no caching of
 * anything that shows a signed-in person or carries a code, the sign-out form's CSRF defences,
 * and a 4xx with a standard error for malformed input at every endpoint — never a 500.
 */
import { describe, expect, it } from 'vitest';
import { createCookieJarClient, formValue } from '@tessera/shared/testing';
import { me, signIn, useAppA } from './support/world.js';
import { directives, expectPageSecurityHeaders, headerNonce, errorCode } from '../../../idp/test/support/pages.js';
import { itRefusesOversizedHeaders, malformedAppInputs } from '../../../idp/test/support/header-limits.js';

const world = useAppA();

const PAGES: Record<string, () => Promise<Response>> = {
  'home, signed out': () => fetch(`${world.app}/`),
  'home, signed in': async () => (await signIn(world)).page,
  'a failed callback': () => fetch(`${world.app}/callback?code=x&state=y`),
  'sign-out refused': async () => {
    const { jar } = await signIn(world);
    return jar.fetch(`${world.app}/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: 'csrf_token=x',
    });
  },
  'not found': () => fetch(`${world.app}/nothing-here`),
  'bad request': () => fetch(`${world.app}/?state=%zz`),
};

describe('every page of app A', () => {
  it.each(Object.keys(PAGES))('%s: nonce CSP, no framing, nosniff, no Referer, no-store', async (name) => {
    const res = await PAGES[name]!();
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = directives(res);
    const nonce = headerNonce(res)!;
    expect(nonce).toBeTruthy();
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('style-src')).toEqual(["'self'", `'nonce-${nonce}'`]);
    // Only app A's own FedCM script, carrying the nonce; it talks to app A and the issuer only.
    expect(csp.get('script-src')).toEqual(["'self'", `'nonce-${nonce}'`]);
    expect(csp.get('connect-src')).toEqual(["'self'", world.idp]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('form-action')).toEqual(["'self'", world.idp]);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expectPageSecurityHeaders(res);
    const html = await res.text();
    const nonced = [...html.matchAll(/nonce="([^"]*)"/g)].map((m) => m[1]);
    expect(nonced.length).toBeGreaterThan(0);
    for (const n of nonced) expect(n).toBe(nonce);
    // No inline script or style: the one script is the same-origin FedCM module, with the nonce.
    const scripts = [...html.matchAll(/<script\b[^>]*>/gi)].map((m) => m[0]);
    for (const script of scripts) expect(script).toBe(`<script type="module" src="/fedcm.js" nonce="${nonce}">`);
    expect(html.replace(/<script type="module" src="\/fedcm\.js" nonce="[^"]+"><\/script>/, '')).not.toMatch(
      /<script\b|<style\b|\sstyle="|\son[a-z]+=/i,
    );
  });

  it('draws a fresh nonce of 128 bits for every response', async () => {
    const [a, b] = [headerNonce(await fetch(`${world.app}/`))!, headerNonce(await fetch(`${world.app}/`))!];
    expect(a).not.toBe(b);
    expect(Buffer.from(a, 'base64').length).toBe(16);
  });

  it('loads the FedCM script where a person can sign in, and no script where they are signed in', async () => {
    const script = /<script type="module" src="\/fedcm\.js"/;
    expect(await (await PAGES['home, signed out']!()).text()).toMatch(script);
    expect(await (await PAGES['a failed callback']!()).text()).toMatch(script);
    expect(await (await PAGES['home, signed in']!()).text()).not.toMatch(script);
  });

  it('serves the FedCM script as JavaScript, sniff-proof, loading nothing itself', async () => {
    const res = await fetch(`${world.app}/fedcm.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const code = await res.text();
    expect(code).toContain('navigator.credentials.get');
    // Written as a string (app A has no bundler): it must at least compile. No import, no top-level
    // await, so a function body compiles it as a module would.
    expect(() => new Function(code)).not.toThrow();
  });

  it('serves the stylesheet cacheable, sniff-proof', async () => {
    const res = await fetch(`${world.app}/styles.css`);
    expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toMatch(/^public/);
  });
});

describe('no-store on every response with a code, a token or a session', () => {
  it('the login redirect, callback, signed-in page, /api/me, sign-out and back-channel logout', async () => {
    const jar = createCookieJarClient();
    const login = await jar.fetch(`${world.app}/login`);
    expect(login.status).toBe(302);
    expect(login.headers.get('cache-control')).toBe('no-store');

    const { jar: signedIn, hops } = await signIn(world);
    const callback = hops.find((r) => new URL(r.url).pathname === '/callback')!;
    expect(callback.status).toBe(303);
    expect(callback.headers.get('cache-control')).toBe('no-store');
    const api = await signedIn.fetch(`${world.app}/api/me`);
    expect(api.status).toBe(200);
    expect(api.headers.get('cache-control')).toBe('no-store');
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(api.headers.get('referrer-policy')).toBe('no-referrer');

    const page = await (await signedIn.fetch(`${world.app}/`)).text();
    const out = await signedIn.fetch(`${world.app}/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: world.app },
      body: new URLSearchParams({ csrf_token: formValue(page, 'csrf_token')! }),
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('cache-control')).toBe('no-store');

    const backchannel = await fetch(`${world.app}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'logout_token=x',
    });
    expect(backchannel.status).toBe(400);
    expect(backchannel.headers.get('cache-control')).toBe('no-store');
  });
});

describe('CSRF on the sign-out form (the only state-changing form of app A)', () => {
  async function attempt(fields: (csrf: string) => Record<string, string>, headers: Record<string, string>) {
    const { jar, page } = await signIn(world);
    const csrf = formValue(await page.text(), 'csrf_token')!;
    const res = await jar.fetch(`${world.app}/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields(csrf)),
    });
    return { res, stillSignedIn: (await me(world, jar)).status === 200 };
  }

  it.each([
    [
      'a cross-site Origin with the token',
      (t: string) => ({ csrf_token: t }),
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    ],
    ['a same-origin post without the token', () => ({}), { origin: 'SELF', 'sec-fetch-site': 'same-origin' }],
    ['a wrong token', () => ({ csrf_token: 'A'.repeat(43) }), { origin: 'SELF' }],
    [
      'Origin: null from another site with the token',
      (t: string) => ({ csrf_token: t }),
      { origin: 'null', 'sec-fetch-site': 'cross-site' },
    ],
    ['Origin: null without Sec-Fetch-Site, with the token', (t: string) => ({ csrf_token: t }), { origin: 'null' }],
    [
      'no Origin and Sec-Fetch-Site: cross-site, with the token',
      (t: string) => ({ csrf_token: t }),
      { 'sec-fetch-site': 'cross-site' },
    ],
  ] as const)('refuses %s with 403 and keeps the session', async (_, fields, headers) => {
    const resolved = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v === 'SELF' ? world.app : v]));
    const { res, stillSignedIn } = await attempt(fields, resolved);
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('forbidden');
    expect(stillSignedIn).toBe(true);
  });

  it('has no GET that signs out: GET /logout is not a route', async () => {
    const { jar } = await signIn(world);
    expect((await jar.fetch(`${world.app}/logout`)).status).toBe(404);
    expect((await me(world, jar)).status).toBe(200);
  });
});

describe('malformed input gets a 4xx with a standard error, never a 500', () => {
  interface Endpoint {
    method: 'GET' | 'POST';
    path: string;
    /** What it answers with: a page or JSON. */
    json: boolean;
  }
  const ENDPOINTS: Record<string, Endpoint> = {
    login: { method: 'GET', path: '/login', json: false },
    callback: { method: 'GET', path: '/callback', json: false },
    home: { method: 'GET', path: '/', json: false },
    logout: { method: 'POST', path: '/logout', json: false },
    'back-channel logout': { method: 'POST', path: '/backchannel-logout', json: true },
    api: { method: 'GET', path: '/api/me', json: true },
    'FedCM start': { method: 'GET', path: '/fedcm/start', json: true },
    'FedCM completion': { method: 'POST', path: '/fedcm/complete', json: true },
  };
  const send = (e: Endpoint, raw: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) =>
    e.method === 'GET'
      ? fetch(`${world.app}${e.path}?${raw as string}`, { headers, redirect: 'manual' })
      : fetch(`${world.app}${e.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: world.app, ...headers },
          body: raw,
          redirect: 'manual',
        });

  const CASES = malformedAppInputs('state');

  describe.each(Object.keys(ENDPOINTS))('%s', (name) => {
    const e = ENDPOINTS[name]!;
    it.each(CASES)('answers %s with 400 invalid_request', async (_, body) => {
      const res = await send(e, body(e));
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(e.json ? /^application\/json/ : /^text\/html/);
      expect(await errorCode(res)).toBe('invalid_request');
      expect(res.headers.get('cache-control')).toBe('no-store');
    });

    itRefusesOversizedHeaders((headers) => send(e, 'a=b', headers), errorCode);

    if (e.method === 'POST') {
      it('answers a body over 16 KiB with 413 invalid_request', async () => {
        const res = await send(e, `logout_token=${'a'.repeat(20 * 1024)}`);
        expect(res.status).toBe(413);
        expect(await errorCode(res)).toBe('invalid_request');
      });

      it('answers a repeated field with 400 invalid_request', async () => {
        const res = await send(e, 'csrf_token=a&csrf_token=b&logout_token=a&logout_token=b');
        expect(res.status).toBe(400);
        expect(await errorCode(res)).toBe('invalid_request');
      });
    }
  });

  it('refuses a repeated parameter in the authorization response (RFC 6749 §3.1) without a 500', async () => {
    const jar = createCookieJarClient();
    const login = await jar.fetch(`${world.app}/login`);
    const state = new URL(login.headers.get('location')!).searchParams.get('state')!;
    const res = await jar.fetch(
      `${world.app}/callback?${new URLSearchParams([
        ['code', 'a'],
        ['code', 'b'],
        ['state', state],
        ['iss', world.idp],
      ])}`,
    );
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('invalid_response');
  });

  it('reads a session cookie with broken escapes as no session', async () => {
    const res = await fetch(`${world.app}/api/me`, { headers: { cookie: 'app_a_session=%zz%ff' } });
    expect(res.status).toBe(401);
  });
});
