/**
 * App B's hardening: its one page carries a nonce CSP that lets only our own script run and talk
 * only to ourselves and the issuer; no caching of the page (it receives the code) or the API; no
 * state-changing GET and no forms at all; and a 4xx with a standard error for malformed input at
 * the API and the back-channel logout endpoint — never a 500.
 */
import { describe, expect, it } from 'vitest';
import { callMe, signInToAppB, useAppB } from './support/world.js';
import { directives, expectPageSecurityHeaders, headerNonce } from '../../../idp/test/support/pages.js';
import { itRefusesOversizedHeaders, malformedAppInputs } from '../../../idp/test/support/header-limits.js';

const world = useAppB({ browserBundle: Promise.resolve('export {};') });

describe('the page', () => {
  it.each([
    ['the page', '/'],
    ['the page with an authorization response', '/?code=abc&state=xyz&iss=http%3A%2F%2Fidp'],
  ])('%s: nonce CSP for script and style, connect only to itself and the issuer, no framing', async (_, path) => {
    const res = await fetch(`${world.app}${path}`);
    expect(res.status).toBe(200);
    const csp = directives(res);
    const nonce = headerNonce(res)!;
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'", `'nonce-${nonce}'`]);
    expect(csp.get('style-src')).toEqual(["'self'", `'nonce-${nonce}'`]);
    expect(csp.get('connect-src')).toEqual(["'self'", world.idp]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('form-action')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expectPageSecurityHeaders(res);

    const html = await res.text();
    const tags = [...html.matchAll(/<(script|link)\b[^>]*>/g)].map((m) => m[0]);
    expect(tags).toHaveLength(2);
    for (const tag of tags) expect(tag).toContain(`nonce="${nonce}"`);
    expect(html).not.toMatch(/<script\b[^>]*>[^<]|<style\b|\sstyle="|\son[a-z]+=/i);
  });

  it('draws a fresh nonce of 128 bits for every response', async () => {
    const [a, b] = [headerNonce(await fetch(`${world.app}/`))!, headerNonce(await fetch(`${world.app}/`))!];
    expect(a).not.toBe(b);
    expect(Buffer.from(a, 'base64').length).toBe(16);
  });

  it.each(['/app.js', '/app.css', '/config.json', '/api/me', '/nothing-here'])(
    '%s: nosniff and no Referer',
    async (path) => {
      const res = await fetch(`${world.app}${path}`);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    },
  );

  it('keeps /config.json revalidated, not stored blindly: it holds no token, only public settings', async () => {
    const res = await fetch(`${world.app}/config.json`);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(Object.keys((await res.json()) as object).sort()).toEqual([
      'appUrl',
      'clientId',
      'clockToleranceSec',
      'issuer',
    ]);
  });
});

describe('no-store on every response about a token', () => {
  it('/api/me with a good token, without one, and with a bad one; the back-channel logout', async () => {
    const { accessToken } = await signInToAppB(world);
    for (const res of [await callMe(world, accessToken), await callMe(world), await callMe(world, 'not.a.token')]) {
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    const bcl = await fetch(`${world.app}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'logout_token=x',
    });
    expect(bcl.headers.get('cache-control')).toBe('no-store');
  });
});

describe('nothing state-changing outside the back-channel logout', () => {
  it.each(['/', '/api/me', '/logout', '/sign-out'])('POST %s changes nothing: 404 or 401', async (path) => {
    const res = await fetch(`${world.app}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: 'a=b',
    });
    expect([401, 404]).toContain(res.status);
  });

  it('has no GET route with a side effect: GET /backchannel-logout is not a route', async () => {
    expect((await fetch(`${world.app}/backchannel-logout?logout_token=x`)).status).toBe(404);
  });
});

describe('malformed input gets a 4xx with a standard error, never a 500', () => {
  const ENDPOINTS = {
    api: { method: 'GET', path: '/api/me' },
    page: { method: 'GET', path: '/' },
    'back-channel logout': { method: 'POST', path: '/backchannel-logout' },
  } as const;
  type Endpoint = (typeof ENDPOINTS)[keyof typeof ENDPOINTS];

  const send = (e: Endpoint, raw: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) =>
    e.method === 'GET'
      ? fetch(`${world.app}${e.path}?${raw as string}`, { headers })
      : fetch(`${world.app}${e.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body: raw,
        });

  async function errorOf(res: Response): Promise<string> {
    const body = await res.text();
    expect(body).not.toMatch(/\bat \S+ \(|\.ts:\d+|Error: /);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    return (JSON.parse(body) as { error: string }).error;
  }

  const CASES = malformedAppInputs('logout_token', 'x');

  describe.each(Object.keys(ENDPOINTS) as (keyof typeof ENDPOINTS)[])('%s', (name) => {
    const e = ENDPOINTS[name];
    it.each(CASES)('answers %s with 400 invalid_request', async (_, body) => {
      const res = await send(e, body(e));
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toBe('invalid_request');
      expect(res.headers.get('cache-control')).toBe('no-store');
    });

    itRefusesOversizedHeaders((headers) => send(e, 'a=b', headers), errorOf, {
      name: 'authorization',
      value: (filler) => `Bearer ${filler}`,
    });
  });

  it('back-channel logout: answers a body over 16 KiB with 413 invalid_request', async () => {
    const res = await send(ENDPOINTS['back-channel logout'], `logout_token=${'a'.repeat(20 * 1024)}`);
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toBe('invalid_request');
  });

  it('back-channel logout: answers a repeated logout_token with 400 invalid_request', async () => {
    const res = await send(ENDPOINTS['back-channel logout'], 'logout_token=a&logout_token=b');
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toBe('invalid_request');
  });
});
