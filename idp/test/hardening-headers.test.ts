/**
 * The issuer's response headers: a nonce-based CSP on every page, no framing, no sniffing, no
 * Referer, and no caching of anything that carries a token, a code or a session.
 */
import { describe, expect, it } from 'vitest';
import { useIssuer } from './support/fixture.js';
import { authorizeQuery, browserFlow, getAuthorize, redeem, submitSignIn } from './support/browser.js';
import {
  accountPage,
  consentPage,
  directives,
  everyPage,
  headerNonce,
  logoutConfirmPage,
  signInPage,
  signedIn,
} from './support/pages.js';

const { idp, fx } = useIssuer();

/** Alice signs in for the confidential client, which redeems the code: the token endpoint's answer. */
async function tokenAnswerForAlice(): ReturnType<typeof redeem> {
  const flow = await browserFlow(
    idp.url,
    { clientId: fx.confidential.id, redirectUri: fx.redirectUri },
    { email: 'alice@example.com' },
  );
  return redeem(
    idp.url,
    { code: flow.callback.searchParams.get('code')!, code_verifier: flow.verifier, redirect_uri: fx.redirectUri },
    fx.confidential,
  );
}

const PAGES = [
  'sign-in',
  'sign-in started at the issuer',
  'sign-in after a wrong password',
  'consent',
  'account',
  'add a passkey',
  'account signed out',
  'logout confirmation',
  'signed out',
  'home',
  'home signed in',
  'authorization error',
  'expired interaction',
  'not found',
  'bad request (root handler)',
];

describe('every page of the issuer', () => {
  it('lists every page the fixtures reach', () => {
    expect(Object.keys(everyPage(idp, fx)).sort()).toEqual([...PAGES].sort());
  });

  it.each(PAGES)(
    '%s: a nonce CSP that allows no inline code, no framing, no base, and the other headers',
    async (name) => {
      const { res, html } = await everyPage(idp, fx)[name]!();
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = directives(res);
      expect(csp.get('default-src')).toEqual(["'none'"]);
      expect(csp.get('base-uri')).toEqual(["'none'"]);
      expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
      expect(csp.get('form-action')?.[0]).toBe("'self'");
      expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');

      // Every <style> and <script> carries the header's nonce; nothing else is inline.
      const nonce = headerNonce(res);
      expect(csp.get('style-src')).toEqual([`'nonce-${nonce}'`]);
      const tags = [...html.matchAll(/<(style|script)\b[^>]*>/g)].map((m) => m[0]);
      expect(tags.length).toBeGreaterThan(0);
      for (const tag of tags) expect(tag).toContain(`nonce="${nonce}"`);
      expect(html).not.toMatch(/\sstyle="|\son[a-z]+=/i);
    },
  );

  it('draws a fresh nonce of 128 bits for every response of the same page', async () => {
    const first = await signInPage(idp, fx);
    const again = await first.jar.fetch(first.location);
    const [a, b] = [headerNonce(first.res), headerNonce(again)];
    expect(a).not.toBe(b);
    expect(Buffer.from(a, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(await again.text()).toContain(`<style nonce="${b}">`);
  });
});

describe('framing and form targets', () => {
  it.each([
    ['/sign-in', () => signInPage(idp, fx)],
    ['/consent', () => consentPage(idp, fx)],
    ['/account', () => accountPage(idp, fx)],
    ['/logout', () => logoutConfirmPage(idp, fx)],
  ])('refuses to be framed on %s (frame-ancestors and X-Frame-Options)', async (_, open) => {
    const { res } = await open();
    expect(res.status).toBe(200);
    expect(directives(res).get('frame-ancestors')).toEqual(["'none'"]);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it.each([
    ['the sign-in page', () => signInPage(idp, fx)],
    ['the consent page', () => consentPage(idp, fx)],
    ['the logout confirmation', () => logoutConfirmPage(idp, fx)],
  ])('lets the forms of %s reach only the issuer and the client origin they redirect to', async (_, open) => {
    const { res } = await open();
    expect(directives(res).get('form-action')).toEqual(["'self'", 'http://127.0.0.1:9']);
  });

  it('keeps the forms of the account page and of a sign-in with no app waiting on the issuer', async () => {
    expect(directives((await accountPage(idp, fx)).res).get('form-action')).toEqual(["'self'"]);
    const started = await everyPage(idp, fx)['sign-in started at the issuer']!();
    expect(directives(started.res).get('form-action')).toEqual(["'self'"]);
  });
});

describe('responses that are not pages', () => {
  it.each([
    ['discovery', '/.well-known/openid-configuration'],
    ['the JWKS', '/jwks'],
    ['an unknown path', '/nothing-here'],
    ['userinfo without a token', '/userinfo'],
  ])('%s: nosniff, no Referer, and a CSP that loads and frames nothing', async (_, path) => {
    const res = await fetch(`${idp.url}${path}`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('keeps the public cache policy of discovery and the JWKS', async () => {
    expect((await fetch(`${idp.url}/.well-known/openid-configuration`)).headers.get('cache-control')).toMatch(
      /^public, max-age=\d+$/,
    );
    expect((await fetch(`${idp.url}/jwks`)).headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
  });
});

describe('the token endpoint, open to any origin (browser apps redeem their codes from their own)', () => {
  const openToAny = (res: { headers: Headers }) => {
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    // The answer does not depend on Origin.
    expect(res.headers.get('vary')).toBeNull();
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  };

  it('answers the preflight for a POST with Content-Type, Authorization and DPoP (RFC 9449)', async () => {
    const res = await fetch(`${idp.url}/token`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://spa.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, dpop',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-methods')).toBe('POST');
    expect(res.headers.get('access-control-allow-headers')).toBe('Content-Type,Authorization,DPoP');
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('lets any origin read its tokens, its refusals and its 401', async () => {
    const ok = await tokenAnswerForAlice();
    expect(ok.status).toBe(200);
    openToAny(ok);
    // A browser app reads the nonce its next DPoP proof must carry (RFC 9449 §8).
    expect(ok.headers.get('access-control-expose-headers')).toBe('DPoP-Nonce');
    expect(ok.headers.get('content-type')).toMatch(/^application\/json/);
    expect(ok.headers.get('pragma')).toBe('no-cache');
    const bad = await redeem(
      idp.url,
      { code: 'nope', code_verifier: 'x'.repeat(43), redirect_uri: fx.redirectUri },
      fx.confidential,
    );
    expect(bad.status).toBe(400);
    openToAny(bad);
    const unauthenticated = await redeem(
      idp.url,
      { code: 'nope', code_verifier: 'x'.repeat(43), redirect_uri: fx.redirectUri },
      { ...fx.confidential, secret: 'wrong' },
    );
    expect(unauthenticated.status).toBe(401);
    openToAny(unauthenticated);
  });
});

describe('the other endpoints open to any origin', () => {
  it.each([
    ['userinfo', 'GET', '/userinfo', null],
    ['userinfo', 'POST', '/userinfo', null],
    ['revocation', 'POST', '/revoke', null],
    ['a status list', 'GET', '/statuslists/no-such-list', 'ETag'],
    ['discovery with a query string', 'GET', '/.well-known/openid-configuration?x=1', 'ETag'],
  ])('%s (%s): any origin reads the answer, which does not vary by Origin', async (_, method, path, exposed) => {
    const res = await fetch(`${idp.url}${path}`, { method, headers: { origin: 'https://spa.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toBe(exposed);
    expect(res.headers.get('vary')).toBeNull();
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it.each([
    ['/userinfo', 'GET,POST', 'Authorization,Content-Type,DPoP'],
    ['/revoke', 'POST', 'Content-Type,Authorization'],
    ['/statuslists/no-such-list', 'GET', null],
  ])('%s answers its preflight', async (path, methods, headers) => {
    const res = await fetch(`${idp.url}${path}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://spa.example', 'access-control-request-method': methods.split(',')[0]! },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toBe(methods);
    expect(res.headers.get('access-control-allow-headers')).toBe(headers);
    expect(res.headers.get('access-control-max-age')).toBe('600');
  });
});

describe('Cache-Control: no-store on every response with a token, a code or a session', () => {
  const noStore = (res: Response) => expect(res.headers.get('cache-control')).toBe('no-store');

  it('the authorization redirect to the sign-in page and the one carrying the code', async () => {
    const jar = (await signedIn(idp, fx)).jar;
    noStore(await getAuthorize(idp.url, authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri })));
    const withCode = await getAuthorize(
      idp.url,
      authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri }),
      jar,
    );
    expect(new URL(withCode.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    noStore(withCode);
  });

  it('the sign-in POST that sets the session and redirects with the code', async () => {
    const page = await signInPage(idp, fx);
    const res = await submitSignIn(
      page.jar,
      idp.url,
      page.location,
      'alice@example.com',
      'correct horse battery staple',
    );
    expect(res.status).toBe(303);
    noStore(res);
  });

  it('the token endpoint, its errors, userinfo, introspection and revocation', async () => {
    const ok = await tokenAnswerForAlice();
    expect(ok.status).toBe(200);
    noStore(new Response(null, { headers: ok.headers }));
    const bad = await redeem(
      idp.url,
      { code: 'nope', code_verifier: 'x'.repeat(43), redirect_uri: fx.redirectUri },
      fx.confidential,
    );
    expect(bad.status).toBe(400);
    noStore(new Response(null, { headers: bad.headers }));

    const accessToken = ok.json.access_token as string;
    const auth = {
      authorization: `Basic ${Buffer.from(`${fx.confidential.id}:${fx.confidential.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    };
    const userinfo = await fetch(`${idp.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(userinfo.status).toBe(200);
    noStore(userinfo);
    noStore(await fetch(`${idp.url}/userinfo`, { headers: { authorization: 'Bearer not.a.token' } }));
    // Introspection first: revocation would leave nothing to introspect.
    for (const path of ['/introspect', '/revoke']) {
      const res = await fetch(`${idp.url}${path}`, {
        method: 'POST',
        headers: auth,
        body: new URLSearchParams({ token: accessToken }),
      });
      expect(res.status, path).toBe(200);
      noStore(res);
    }
  });

  it('the consent, account and logout pages and their redirects', async () => {
    noStore((await consentPage(idp, fx)).res);
    noStore((await accountPage(idp, fx)).res);
    noStore((await logoutConfirmPage(idp, fx)).res);
    const { jar, idToken } = await signedIn(idp, fx);
    const query = new URLSearchParams({
      id_token_hint: idToken,
      post_logout_redirect_uri: 'http://127.0.0.1:9/',
      state: 's',
    });
    const res = await jar.fetch(`${idp.url}/logout?${query}`);
    expect(res.status).toBe(303);
    noStore(res);
  });
});
