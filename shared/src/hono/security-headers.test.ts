import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { allowFormRedirectTo, cspNonce, renderPage, securityHeaders, type PagePolicy } from './security-headers.js';

function appWith(page: PagePolicy = { formActions: ["'self'"] }) {
  const app = new Hono();
  app.use('*', securityHeaders({ page }));
  app.get('/page', (c) => renderPage(c, () => cspNonce()));
  app.get('/sign-in', (c) => {
    allowFormRedirectTo(c, 'https://client.example/callback?x=1');
    allowFormRedirectTo(c, 'https://client.example/other');
    return renderPage(c, () => cspNonce());
  });
  app.get('/api', (c) => c.json({ ok: true }));
  app.get('/cached', (c) => c.text('asset', 200, { 'Cache-Control': 'public, max-age=60' }));
  return app;
}

describe('securityHeaders', () => {
  it('gives a page the server’s CSP with the nonce that cspNonce() gave the route', async () => {
    const response = await appWith().request('/page');
    const nonce = await response.text();
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/); // 128 bits, base64url
    expect(response.headers.get('content-security-policy')).toBe(
      `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'self'; form-action 'self'; base-uri 'none'; ` +
        `frame-ancestors 'none'`,
    );
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });

  it('adds the sources a server allows, the nonce on scripts and styles alike', async () => {
    const response = await appWith({
      styleSources: ["'self'"],
      scriptSources: ["'self'"],
      connectSources: ["'self'", 'https://idp.example'],
      formActions: [],
    }).request('/page');
    const nonce = await response.text();
    expect(response.headers.get('content-security-policy')).toBe(
      `default-src 'none'; script-src 'self' 'nonce-${nonce}'; connect-src 'self' https://idp.example; ` +
        `style-src 'self' 'nonce-${nonce}'; img-src 'self'; form-action 'none'; base-uri 'none'; ` +
        `frame-ancestors 'none'`,
    );
  });

  it('lets one response’s forms go on to the origins its route allowed, and no other response’s', async () => {
    const app = appWith({ formActions: ["'self'", 'https://idp.example'] });
    const signIn = await app.request('/sign-in');
    expect(signIn.headers.get('content-security-policy')).toContain(
      "form-action 'self' https://idp.example https://client.example;",
    );
    expect((await app.request('/page')).headers.get('content-security-policy')).toContain(
      "form-action 'self' https://idp.example;",
    );
  });

  it('gives every response a fresh nonce', async () => {
    const app = appWith();
    const [a, b] = await Promise.all([app.request('/page'), app.request('/page')]);
    expect(await a.text()).not.toBe(await b.text());
  });

  it('gives what is not a page a CSP that loads and frames nothing, and no nonce', async () => {
    const response = await appWith().request('/api');
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBeNull();
  });

  it('sets nosniff and no-referrer always, and Cache-Control: no-store only where the route chose none', async () => {
    const app = appWith();
    for (const path of ['/page', '/api', '/cached']) {
      const response = await app.request(path);
      expect([response.headers.get('x-content-type-options'), response.headers.get('referrer-policy')]).toEqual([
        'nosniff',
        'no-referrer',
      ]);
    }
    expect((await app.request('/page')).headers.get('cache-control')).toBe('no-store');
    expect((await app.request('/api')).headers.get('cache-control')).toBe('no-store');
    expect((await app.request('/cached')).headers.get('cache-control')).toBe('public, max-age=60');
  });

  it('gives each of many pages in flight the nonce of its own response, whatever each awaited first', async () => {
    const app = new Hono();
    app.use('*', securityHeaders({ page: { formActions: [] } }));
    app.get('/slow/:ms', async (c) => {
      await new Promise((resolve) => setTimeout(resolve, Number(c.req.param('ms'))));
      return renderPage(c, () => cspNonce());
    });
    const responses = await Promise.all([30, 0, 20, 10, 0].map((ms) => app.request(`/slow/${ms}`)));
    const nonces = await Promise.all(responses.map((r) => r.text()));
    for (const [i, r] of responses.entries())
      expect(r.headers.get('content-security-policy')).toContain(`'nonce-${nonces[i]}'`);
    expect(new Set(nonces).size).toBe(nonces.length);
  });

  it('refuses cspNonce() outside renderPage(), and the others outside a request it handles', async () => {
    expect(() => cspNonce()).toThrow(TypeError);
    const bare = new Hono();
    let refused: unknown[] = [];
    bare.get('/', (c) => {
      refused = [() => renderPage(c, () => 'page'), () => allowFormRedirectTo(c, 'https://client.example/')].map(
        (call) => {
          try {
            call();
            return undefined;
          } catch (e) {
            return e;
          }
        },
      );
      return c.text('done');
    });
    await bare.request('/');
    expect(refused.map((e) => e instanceof TypeError)).toEqual([true, true]);
    // Inside a handled request, a nonce read while no page is being rendered is refused too.
    const app = new Hono();
    app.use('*', securityHeaders({ page: { formActions: [] } }));
    app.get('/', (c) => c.html(cspNonce()));
    app.onError((e, c) => c.text(e instanceof TypeError ? 'refused' : 'other', 500));
    expect(await (await app.request('/')).text()).toBe('refused');
  });

  it('refuses to be built without saying where forms may post (a TypeError at start-up)', () => {
    expect(() => securityHeaders({} as never)).toThrow(TypeError);
    expect(() => securityHeaders({ page: {} } as never)).toThrow(TypeError);
  });
});
