/**
 * Refusals at the authorization endpoint. Until the client and its redirect URI are trusted,
 * the issuer answers with its own HTML page, never a redirect (RFC 6749 §4.1.2.1); after
 * that, errors go back to the client with `state` and `iss` (RFC 9207).
 */
import { describe, expect, it } from 'vitest';
import { registerClient } from '../src/protocol/registration.js';
import { countRows, useIssuer } from './support/fixture.js';
import { authorizeQuery, getAuthorize, locationOf } from './support/browser.js';

const { idp, fx } = useIssuer();

const query = (overrides: Record<string, string | null> = {}) =>
  authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri }, overrides);

async function expectErrorPage(res: Response, error: string): Promise<void> {
  expect(res.status).toBe(400);
  expect(res.headers.get('location')).toBeNull();
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(await res.text()).toContain(`<code>${error}</code>`);
}

/** The error redirect of RFC 6749 §4.1.2.1 with `iss` (RFC 9207 §2); returns its parameters. */
function expectErrorRedirect(res: Response, error: string, state: string | null = 'state-123'): URLSearchParams {
  expect(res.status).toBe(302);
  const location = locationOf(res, idp.url)!;
  expect(`${location.origin}${location.pathname}`).toBe(fx.redirectUri);
  const p = location.searchParams;
  expect(p.get('error')).toBe(error);
  expect(p.get('state')).toBe(state);
  expect(p.get('iss')).toBe(idp.url);
  expect(p.has('code')).toBe(false);
  return p;
}

describe('an untrusted client or redirect URI gets an HTML error page, never a redirect', () => {
  it.each([
    ['an unregistered redirect_uri', 'http://127.0.0.1:9/elsewhere'],
    ['a redirect_uri with an extra path segment', 'http://127.0.0.1:9/callback/extra'],
    ['a redirect_uri with an extra query', 'http://127.0.0.1:9/callback?next=/admin'],
    ['a redirect_uri differing in case of the path', 'http://127.0.0.1:9/Callback'],
    ['a redirect_uri differing in case of the host', 'https://APP.example.test/callback'],
    ['a redirect_uri with a trailing slash', 'http://127.0.0.1:9/callback/'],
    ['a redirect_uri with a different port', 'http://127.0.0.1:10/callback'],
    ['a redirect_uri with a fragment', 'http://127.0.0.1:9/callback#x'],
  ])('refuses %s without redirecting to it', async (_, redirectUri) => {
    await expectErrorPage(await getAuthorize(idp.url, query({ redirect_uri: redirectUri })), 'invalid_request');
  });

  it('refuses a missing redirect_uri without redirecting (OIDC Core §3.1.2.1 makes it required)', async () => {
    await expectErrorPage(await getAuthorize(idp.url, query({ redirect_uri: null })), 'invalid_request');
  });

  it('refuses a repeated redirect_uri without redirecting to either value', async () => {
    const q = query();
    q.append('redirect_uri', 'https://app.example.test/callback');
    await expectErrorPage(await getAuthorize(idp.url, q), 'invalid_request');
  });

  it('refuses an unknown client_id with an HTML page', async () => {
    await expectErrorPage(await getAuthorize(idp.url, query({ client_id: 'no-such-client' })), 'invalid_client');
  });

  it('refuses a missing client_id with an HTML page', async () => {
    await expectErrorPage(await getAuthorize(idp.url, query({ client_id: null })), 'invalid_request');
  });

  it('refuses a repeated client_id with an HTML page', async () => {
    const q = query();
    q.append('client_id', fx.publicClient.id);
    await expectErrorPage(await getAuthorize(idp.url, q), 'invalid_request');
  });

  it('answers an untrusted redirect_uri with a page even when the request has other errors', async () => {
    await expectErrorPage(
      await getAuthorize(idp.url, query({ redirect_uri: 'https://evil.example/cb', response_type: 'token' })),
      'invalid_request',
    );
  });

  it('stores no interaction for refused requests', async () => {
    const before = await countRows(idp, 'interactions');
    await getAuthorize(idp.url, query({ redirect_uri: 'https://evil.example/cb' }));
    await getAuthorize(idp.url, query({ code_challenge: null }));
    await getAuthorize(idp.url, query({ response_type: 'token' }));
    expect(await countRows(idp, 'interactions')).toBe(before);
  });
});

describe('errors once the redirect URI is trusted go back to the client with state and iss', () => {
  it('refuses a request without a PKCE code_challenge (RFC 9700 §2.1.1)', async () => {
    expectErrorRedirect(await getAuthorize(idp.url, query({ code_challenge: null })), 'invalid_request');
  });

  it('refuses code_challenge_method=plain', async () => {
    expectErrorRedirect(await getAuthorize(idp.url, query({ code_challenge_method: 'plain' })), 'invalid_request');
  });

  it('refuses a code_challenge without a method, which would mean plain (RFC 7636 §4.3)', async () => {
    expectErrorRedirect(await getAuthorize(idp.url, query({ code_challenge_method: null })), 'invalid_request');
  });

  it('refuses a code_challenge that is not a base64url SHA-256 value', async () => {
    expectErrorRedirect(await getAuthorize(idp.url, query({ code_challenge: 'too-short' })), 'invalid_request');
  });

  it.each(['token', 'id_token', 'code id_token', 'code token'])(
    'refuses response_type=%s as unsupported_response_type',
    async (responseType) => {
      expectErrorRedirect(
        await getAuthorize(idp.url, query({ response_type: responseType })),
        'unsupported_response_type',
      );
    },
  );

  it('refuses a missing response_type', async () => {
    expectErrorRedirect(await getAuthorize(idp.url, query({ response_type: null })), 'invalid_request');
  });

  it('refuses a repeated parameter (RFC 6749 §3.1)', async () => {
    const q = query();
    q.append('scope', 'openid');
    expectErrorRedirect(await getAuthorize(idp.url, q), 'invalid_request');
  });

  it('refuses a repeated state and echoes no state back', async () => {
    const q = query();
    q.append('state', 'second-state');
    expectErrorRedirect(await getAuthorize(idp.url, q), 'invalid_request', null);
  });

  it('refuses a repeated parameter in a form POST to /authorize too', async () => {
    const body = query();
    body.append('nonce', 'another-nonce');
    const res = await fetch(new URL('/authorize', idp.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      redirect: 'manual',
    });
    expectErrorRedirect(res, 'invalid_request');
  });

  it('answers prompt=none without a session with login_required (OIDC Core §3.1.2.6)', async () => {
    expectErrorRedirect(await getAuthorize(idp.url, query({ prompt: 'none' })), 'login_required');
  });

  it('refuses prompt=none combined with another value', async () => {
    expectErrorRedirect(await getAuthorize(idp.url, query({ prompt: 'none login' })), 'invalid_request');
  });

  it('refuses a resource the client may not ask for as invalid_target (RFC 8707 §2)', async () => {
    expectErrorRedirect(
      await getAuthorize(idp.url, query({ resource: 'https://not-registered.example.test' })),
      'invalid_target',
    );
  });

  it('refuses a resource that is not an absolute URI as invalid_target', async () => {
    expectErrorRedirect(await getAuthorize(idp.url, query({ resource: 'api' })), 'invalid_target');
  });

  it('refuses an unknown scope as invalid_scope', async () => {
    expectErrorRedirect(await getAuthorize(idp.url, query({ scope: 'openid admin' })), 'invalid_scope');
  });

  it('refuses a request object as request_not_supported', async () => {
    expectErrorRedirect(
      await getAuthorize(idp.url, query({ request: 'eyJhbGciOiJub25lIn0.e30.' })),
      'request_not_supported',
    );
  });

  it('refuses a malformed max_age', async () => {
    expectErrorRedirect(await getAuthorize(idp.url, query({ max_age: '-1' })), 'invalid_request');
  });

  it('echoes a state with reserved characters back exactly', async () => {
    const state = 'a b&c=d/é?#%';
    expectErrorRedirect(await getAuthorize(idp.url, query({ state, code_challenge: null })), 'invalid_request', state);
  });

  it('keeps the query of a registered redirect URI and adds the error to it (RFC 6749 §3.1.2)', async () => {
    const { store, clock } = idp.issuer.ctx;
    await registerClient(
      { store, clock },
      {
        id: 'with-query',
        name: 'With Query',
        type: 'public',
        party: 'first',
        redirectUris: ['http://127.0.0.1:9/cb?tenant=a'],
      },
    );
    const res = await getAuthorize(
      idp.url,
      authorizeQuery(
        { clientId: 'with-query', redirectUri: 'http://127.0.0.1:9/cb?tenant=a' },
        { code_challenge: null },
      ),
    );
    const location = locationOf(res, idp.url)!;
    expect(location.searchParams.get('tenant')).toBe('a');
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });
});
