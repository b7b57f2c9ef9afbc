/**
 * Consent for third-party clients: a page naming the client and the scopes with Allow and Deny,
 * remembered once allowed, never shown for prompt=none (OIDC Core §3.1.2.4, §3.1.2.6).
 */
import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { createCookieJarClient, formValue, pkcePair, type CookieJarClient } from '@tessera/shared/testing';
import { PASSWORD, countRows, registerPerson, useIssuer } from './support/fixture.js';
import { authorizeQuery, getAuthorize, locationOf, redeem, submitSignIn } from './support/browser.js';

const { idp, fx } = useIssuer();
let users = 0;

/** A new person (so no consent is remembered) signed in on a new browser. */
async function newPersonSignedIn(): Promise<{ jar: CookieJarClient; email: string }> {
  const email = `person${++users}@example.com`;
  await registerPerson(idp, email, `Person ${users}`);
  const jar = createCookieJarClient();
  const res = await getAuthorize(
    idp.url,
    authorizeQuery({ clientId: fx.confidential.id, redirectUri: fx.redirectUri }),
    jar,
  );
  const done = await submitSignIn(jar, idp.url, locationOf(res, idp.url)!, email, PASSWORD);
  expect(locationOf(done, idp.url)!.searchParams.get('code')).toBeTruthy();
  return { jar, email };
}

/** An authorization request of the third-party client; where it led and the verifier. */
async function authorizeThirdParty(jar: CookieJarClient, overrides: Record<string, string> = {}) {
  const { verifier, challenge } = pkcePair();
  const res = await getAuthorize(
    idp.url,
    authorizeQuery(
      { clientId: fx.thirdParty.id, redirectUri: fx.redirectUri },
      { code_challenge: challenge, ...overrides },
    ),
    jar,
  );
  expect(res.status).toBe(302);
  return { location: locationOf(res, idp.url)!, verifier };
}

/** Reads the consent page at `location`. */
async function consentPage(jar: CookieJarClient, location: URL) {
  expect(location.pathname).toBe('/consent');
  const res = await jar.fetch(location);
  expect(res.status).toBe(200);
  const html = await res.text();
  return { html, interaction: formValue(html, 'interaction')!, csrfToken: formValue(html, 'csrf_token')! };
}

function decide(
  jar: CookieJarClient,
  form: { interaction: string; csrfToken: string },
  decision: 'allow' | 'deny',
  headers: Record<string, string> = { origin: new URL(idp.url).origin },
) {
  return jar.fetch(new URL('/consent', idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ interaction: form.interaction, csrf_token: form.csrfToken, decision }),
  });
}

describe('consent for a third-party client', () => {
  it('shows a page naming the client and each scope, with Allow and Deny', async () => {
    const { jar, email } = await newPersonSignedIn();
    const { location } = await authorizeThirdParty(jar);
    const { html } = await consentPage(jar, location);
    expect(html).toContain('Partner App');
    expect(html).toContain(email);
    for (const scope of ['openid', 'profile', 'email']) expect(html).toContain(`(${scope})`);
    expect(html).toMatch(/<button[^>]*name="decision"[^>]*value="allow"[^>]*>Allow<\/button>/);
    expect(html).toMatch(/<button[^>]*name="decision"[^>]*value="deny"[^>]*>Deny<\/button>/);
  });

  it('asks for consent right after the sign-in when the browser had no session', async () => {
    const email = `person${++users}@example.com`;
    await registerPerson(idp, email, 'Fresh');
    const jar = createCookieJarClient();
    const { location } = await authorizeThirdParty(jar);
    const res = await submitSignIn(jar, idp.url, location, email, PASSWORD);
    expect(res.status).toBe(303);
    const { html } = await consentPage(jar, locationOf(res, idp.url)!);
    expect(html).toContain('Partner App');
  });

  it('sends access_denied with state and iss back to the client on Deny, and remembers nothing', async () => {
    const { jar } = await newPersonSignedIn();
    const consents = await countRows(idp, 'consents');
    const { location } = await authorizeThirdParty(jar);
    const res = await decide(jar, await consentPage(jar, location), 'deny');
    expect(res.status).toBe(303);
    const back = locationOf(res, idp.url)!;
    expect(`${back.origin}${back.pathname}`).toBe(fx.redirectUri);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('state-123');
    expect(back.searchParams.get('iss')).toBe(idp.url);
    expect(back.searchParams.has('code')).toBe(false);
    expect(await countRows(idp, 'consents')).toBe(consents);
    // Asked again next time.
    expect((await authorizeThirdParty(jar)).location.pathname).toBe('/consent');
  });

  it('issues a code the client can redeem on Allow', async () => {
    const { jar } = await newPersonSignedIn();
    const { location, verifier } = await authorizeThirdParty(jar);
    const res = await decide(jar, await consentPage(jar, location), 'allow');
    expect(res.status).toBe(303);
    const back = locationOf(res, idp.url)!;
    expect(back.searchParams.get('state')).toBe('state-123');
    expect(back.searchParams.get('iss')).toBe(idp.url);
    const { status, json } = await redeem(
      idp.url,
      { code: back.searchParams.get('code')!, code_verifier: verifier, redirect_uri: fx.redirectUri },
      fx.thirdParty,
    );
    expect(status).toBe(200);
    expect(decodeJwt(json.id_token as string).aud).toBe(fx.thirdParty.id);
  });

  it('skips consent for a second authorization with the same scopes', async () => {
    const { jar } = await newPersonSignedIn();
    const first = await authorizeThirdParty(jar);
    await decide(jar, await consentPage(jar, first.location), 'allow');
    const second = await authorizeThirdParty(jar);
    expect(second.location.searchParams.get('code')).toBeTruthy();
    // A subset of what was allowed needs no consent either.
    expect((await authorizeThirdParty(jar, { scope: 'openid' })).location.searchParams.get('code')).toBeTruthy();
  });

  it('asks again when the client wants a scope that was not allowed', async () => {
    const { jar } = await newPersonSignedIn();
    const first = await authorizeThirdParty(jar, { scope: 'openid' });
    await decide(jar, await consentPage(jar, first.location), 'allow');
    const wider = await authorizeThirdParty(jar, { scope: 'openid email' });
    expect(wider.location.pathname).toBe('/consent');
  });

  it('asks again for prompt=consent even when consent was given', async () => {
    const { jar } = await newPersonSignedIn();
    const first = await authorizeThirdParty(jar);
    await decide(jar, await consentPage(jar, first.location), 'allow');
    expect((await authorizeThirdParty(jar, { prompt: 'consent' })).location.pathname).toBe('/consent');
  });

  it('answers prompt=none without consent with consent_required, state and iss', async () => {
    const { jar } = await newPersonSignedIn();
    const { location } = await authorizeThirdParty(jar, { prompt: 'none' });
    expect(`${location.origin}${location.pathname}`).toBe(fx.redirectUri);
    expect(location.searchParams.get('error')).toBe('consent_required');
    expect(location.searchParams.get('state')).toBe('state-123');
    expect(location.searchParams.get('iss')).toBe(idp.url);
  });

  it('answers prompt=none with a code once consent was given', async () => {
    const { jar } = await newPersonSignedIn();
    const first = await authorizeThirdParty(jar);
    await decide(jar, await consentPage(jar, first.location), 'allow');
    expect((await authorizeThirdParty(jar, { prompt: 'none' })).location.searchParams.get('code')).toBeTruthy();
  });

  it('asks for consent after the new sign-in that prompt=login asks for', async () => {
    const { jar, email } = await newPersonSignedIn();
    const { location, verifier } = await authorizeThirdParty(jar, { prompt: 'login' });
    expect(location.pathname).toBe('/sign-in');
    const signedIn = await submitSignIn(jar, idp.url, location, email, PASSWORD);
    const res = await decide(jar, await consentPage(jar, locationOf(signedIn, idp.url)!), 'allow');
    const code = locationOf(res, idp.url)!.searchParams.get('code')!;
    const { status } = await redeem(
      idp.url,
      { code, code_verifier: verifier, redirect_uri: fx.redirectUri },
      fx.thirdParty,
    );
    expect(status).toBe(200);
  });

  it('never asks first-party clients for consent', async () => {
    const { jar } = await newPersonSignedIn();
    const res = await getAuthorize(
      idp.url,
      authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }),
      jar,
    );
    expect(locationOf(res, idp.url)!.searchParams.get('code')).toBeTruthy();
  });
});

describe('the consent form refuses', () => {
  it('a wrong csrf_token with 403, remembering nothing', async () => {
    const { jar } = await newPersonSignedIn();
    const consents = await countRows(idp, 'consents');
    const { location } = await authorizeThirdParty(jar);
    const form = await consentPage(jar, location);
    const res = await decide(jar, { ...form, csrfToken: 'forged' }, 'allow');
    expect(res.status).toBe(403);
    expect(res.headers.get('location')).toBeNull();
    expect(await countRows(idp, 'consents')).toBe(consents);
  });

  it('a post from a foreign Origin with 403, remembering nothing', async () => {
    const { jar } = await newPersonSignedIn();
    const consents = await countRows(idp, 'consents');
    const { location } = await authorizeThirdParty(jar);
    const res = await decide(jar, await consentPage(jar, location), 'allow', { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(await countRows(idp, 'consents')).toBe(consents);
  });

  it('a decision sent twice: the second finds the interaction used', async () => {
    const { jar } = await newPersonSignedIn();
    const { location } = await authorizeThirdParty(jar);
    const form = await consentPage(jar, location);
    expect((await decide(jar, form, 'allow')).status).toBe(303);
    const again = await decide(jar, form, 'allow');
    expect(again.status).toBe(400);
    expect(again.headers.get('location')).toBeNull();
  });

  it('a decision from a browser without the session', async () => {
    const { jar } = await newPersonSignedIn();
    const { location } = await authorizeThirdParty(jar);
    const form = await consentPage(jar, location);
    const stranger = createCookieJarClient();
    const res = await decide(stranger, form, 'allow');
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });
});
