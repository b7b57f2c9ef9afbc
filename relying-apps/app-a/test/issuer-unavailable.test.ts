import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '@tessera/shared';

// Route-level: nothing listens at this issuer, and the fetch says so at once.
const config = loadConfig({ APP_A_CLIENT_SECRET: 's3cret', TESSERA_ISSUER: 'http://idp.localhost:9' });
const unreachable = async (): Promise<Response> => {
  throw new TypeError('fetch failed: connection refused');
};

describe('when the issuer cannot be reached', () => {
  it('answers /login with a 503 page and a way to try again, not a 500', async () => {
    const app = createApp(config, { fetch: unreachable, log: silentLogger });
    const res = await app.request('/login');
    expect(res.status).toBe(503);
    const body = await res.text();
    expect(body).toContain('<code>temporarily_unavailable</code>');
    expect(body).toContain('id="sign-in"');
  });

  it('answers /fedcm/start with a 503 JSON error, so the page goes on with /login', async () => {
    const app = createApp(config, { fetch: unreachable, log: silentLogger });
    const res = await app.request('/fedcm/start');
    expect(res.status).toBe(503);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(((await res.json()) as { error: string }).error).toBe('temporarily_unavailable');
    expect(res.headers.getSetCookie()).toEqual([]); // no transaction begun
  });

  it('answers a back-channel logout with 503 (try later), not 400: the token may well be good', async () => {
    const app = createApp(config, { fetch: unreachable, log: silentLogger });
    const res = await app.request('/backchannel-logout', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        logout_token: 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsiLCJ0eXAiOiJsb2dvdXQrand0In0.e30.c2ln',
      }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('still serves the signed-out home page', async () => {
    const app = createApp(config, { fetch: unreachable, log: silentLogger });
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<p id="status">Signed out</p>');
  });
});
