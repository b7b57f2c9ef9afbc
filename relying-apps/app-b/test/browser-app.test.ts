import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createApp } from '../src/app.js';
import { silentLogger } from '@tessera/shared';
import { useAppB } from './support/world.js';
import { expectPageSecurityHeaders } from '../../../idp/test/support/pages.js';

const world = useAppB();

describe('the browser app as served', () => {
  it('serves the page with a CSP that allows only our script and connections to us and the issuer', async () => {
    const res = await fetch(`${world.app}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ${world.idp}`);
    expectPageSecurityHeaders(res);
  });

  it('has no inline script, and the ids the browser tests use', async () => {
    const body = await (await fetch(`${world.app}/`)).text();
    // The one script is ours, by URL, with the response's CSP nonce (see hardening.test.ts).
    expect([...body.matchAll(/<script\b[^>]*>/g)].map((m) => m[0].replace(/ nonce="[^"]*"/, ''))).toEqual([
      '<script type="module" src="/app.js">',
    ]);
    expect(body).toMatch(/<script type="module" src="\/app.js" nonce="[^"]+"><\/script>/);
    for (const id of ['status', 'sign-in', 'sign-out']) expect(body).toContain(`id="${id}"`);
    expect(body).not.toMatch(/\son[a-z]+=/i); // no inline event handlers either
  });

  it('bundles the browser code into /app.js: an ES module, nothing from Node, localStorage for one hint', async () => {
    const res = await fetch(`${world.app}/app.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const code = await res.text();
    // No token ever goes to localStorage: its one use is the FedCM hint (browser/fedcm-memory.ts).
    expect(code).toContain('"app-b.fedcm-connected"');
    expect([...code.matchAll(/localStorage\b[^;\n]*/g)].map((m) => m[0]).sort()).toEqual([
      'localStorage.getItem(CONNECTED) !== null',
      'localStorage.removeItem(CONNECTED)',
      'localStorage.setItem(CONNECTED, "1")',
    ]);
    expect(code).not.toMatch(/from\s*["']node:|require\(/);
    expect(code).toContain('sessionStorage'); // only the PKCE round trip
    expect(code).toContain('prompt'); // silent sign-in
    // The shared kit's helpers are in the bundle, not fetched from elsewhere.
    expect(code).not.toMatch(/^\s*import\s/m);
  });

  it('answers a repeated /app.js with 304 when unchanged', async () => {
    const first = await fetch(`${world.app}/app.js`);
    const etag = first.headers.get('etag')!;
    const again = await fetch(`${world.app}/app.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it.each([
    ['weakly (RFC 9110 §13.1.2 compares weakly)', (etag: string) => `W/${etag}`],
    ['in a list', (etag: string) => `"older", ${etag}`],
  ])('answers /app.js with 304 to an If-None-Match naming its ETag %s', async (_, field) => {
    const etag = (await fetch(`${world.app}/app.js`)).headers.get('etag')!;
    const again = await fetch(`${world.app}/app.js`, { headers: { 'if-none-match': field(etag) } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('serves /config.json with the issuer, the client id, the app URL and the clock leeway', async () => {
    const res = await fetch(`${world.app}/config.json`);
    expect(await res.json()).toEqual({
      issuer: world.idp,
      clientId: 'app-b',
      appUrl: world.app,
      clockToleranceSec: 60,
    });
  });

  it('answers /app.js with a 500 and no details when the browser code did not build', async () => {
    const app = createApp(loadConfig({}), {
      log: silentLogger,
      browserBundle: Promise.reject(new Error('syntax error in main.ts')),
    });
    const res = await app.request('/app.js');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'server_error' });
  });
});
