import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { cspNonce, securityHeaders } from './security-headers.js';

function appWith(policy = (nonce: string) => `default-src 'none'; style-src 'nonce-${nonce}'`) {
  const app = new Hono();
  app.use('*', securityHeaders({ contentSecurityPolicy: policy }));
  app.get('/page', (c) => c.text(cspNonce()));
  app.get('/cached', (c) => c.text('asset', 200, { 'Cache-Control': 'public, max-age=60' }));
  return app;
}

describe('securityHeaders', () => {
  it('sets the app’s CSP with the nonce that cspNonce() gave the route', async () => {
    const response = await appWith().request('/page');
    const nonce = await response.text();
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/); // 128 bits, base64
    expect(response.headers.get('content-security-policy')).toBe(`default-src 'none'; style-src 'nonce-${nonce}'`);
  });

  it('gives every response a fresh nonce', async () => {
    const app = appWith();
    const [a, b] = await Promise.all([app.request('/page'), app.request('/page')]);
    expect(await a.text()).not.toBe(await b.text());
  });

  it('sets the fixed headers, and Cache-Control: no-store only where the route chose none', async () => {
    const app = appWith();
    const page = await app.request('/page');
    expect([
      page.headers.get('x-frame-options'),
      page.headers.get('x-content-type-options'),
      page.headers.get('referrer-policy'),
    ]).toEqual(['DENY', 'nosniff', 'no-referrer']);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect((await app.request('/cached')).headers.get('cache-control')).toBe('public, max-age=60');
  });

  it('refuses cspNonce() outside a request it handles', () => {
    expect(() => cspNonce()).toThrow(TypeError);
  });

  it('refuses to be built without a policy (a TypeError at start-up)', () => {
    expect(() => securityHeaders({} as never)).toThrow(TypeError);
  });
});
