/**
 * App B's browser code signing in through FedCM, DOM-free against a real issuer: signInWithFedCm
 * builds the request in the page (nonce, PKCE), the browser's part is played by what Chromium
 * sends to the issuer's assertion endpoint (@tessera/shared/testing fedcm-browser.ts), and the
 * code is redeemed from the "page" at the token endpoint, bound to the page's key (DPoP).
 */
import { describe, expect, it } from 'vitest';
import { createDPoPProver } from '@tessera/shared';
import { createCookieJarClient, fedcmToken, type CookieJarClient } from '@tessera/shared/testing';
import { browserFlow } from '../../../idp/test/support/browser.js';
import type { AppConfig } from '../src/browser/app-config.js';
import { signInWithFedCm, type GetIdentityCredential, type IdentityRequest } from '../src/browser/fedcm.js';
import { discoverIssuer, type Issuer } from '../src/browser/issuer.js';
import { callMe, rememberBinding, useAppB, type World } from './support/world.js';

const world = useAppB();

async function page(): Promise<{ config: AppConfig; issuer: Issuer }> {
  const config = (await (await fetch(`${world.app}/config.json`)).json()) as AppConfig;
  return { config, issuer: await discoverIssuer(world.idp) };
}

/** A browser signed in at the issuer. */
async function signedInAtIssuer(w: World): Promise<CookieJarClient> {
  const { jar } = await browserFlow(
    w.idp,
    { clientId: 'app-b', redirectUri: `${w.app}/`, extra: { resource: w.app } },
    { email: 'alice@example.com' },
  );
  return jar;
}

/**
 * The browser's part: the person picks their account, the browser asks the issuer's assertion
 * endpoint with their cookies and app B's origin. `tamper` changes the params on the way (a test
 * of what the page checks); `asked` records what the page asked for.
 */
function browser(jar: CookieJarClient, asked: IdentityRequest[], tamper = (p: object) => p): GetIdentityCredential {
  return async (request) => {
    asked.push(request);
    const [provider] = request.identity.providers;
    const token = await fedcmToken(jar, {
      issuer: world.idp,
      origin: world.app,
      clientId: provider!.clientId,
      accountId: world.alice.sub,
      params: tamper(provider!.params),
    });
    return { type: 'identity', token, isAutoSelected: false };
  };
}

describe('signInWithFedCm', () => {
  it('asks with the issuer’s config, a nonce and an S256 challenge; redeems the code, DPoP-bound', async () => {
    const { config, issuer } = await page();
    const jar = await signedInAtIssuer(world);
    const asked: IdentityRequest[] = [];
    const dpop = await createDPoPProver();
    const outcome = await signInWithFedCm(
      config,
      issuer,
      { mode: 'active' },
      { getCredential: browser(jar, asked), dpop },
    );

    expect(asked).toEqual([
      {
        identity: {
          mode: 'active',
          providers: [
            {
              configURL: issuer.metadata.fedcm_config_uri,
              clientId: 'app-b',
              params: {
                nonce: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
                code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
                code_challenge_method: 'S256',
                scope: 'openid profile email',
                resource: world.app,
              },
            },
          ],
        },
      },
    ]);
    if (outcome.kind !== 'signed-in') throw new Error(`not signed in: ${JSON.stringify(outcome)}`);
    // The API takes the token with the page key's proofs: alice is signed in to app B.
    rememberBinding(outcome.tokens.accessToken, dpop);
    const res = await callMe(world, outcome.tokens.accessToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sub: world.alice.sub });
    expect(outcome.tokens.refreshToken).toEqual(expect.any(String));
  });

  it('asks passively on load, with the mediation and the time limit given, and no mode', async () => {
    const { config, issuer } = await page();
    const jar = await signedInAtIssuer(world);
    const asked: IdentityRequest[] = [];
    const signal = AbortSignal.timeout(60_000);
    const outcome = await signInWithFedCm(
      config,
      issuer,
      { mode: 'passive', mediation: 'silent', signal },
      { getCredential: browser(jar, asked) },
    );
    expect(outcome.kind).toBe('signed-in');
    expect(asked[0]).toMatchObject({ mediation: 'silent', signal });
    expect(asked[0]!.identity).not.toHaveProperty('mode');
  });

  it('fails a code issued for a nonce this page did not make (OIDC Core §3.1.3.7)', async () => {
    const { config, issuer } = await page();
    const jar = await signedInAtIssuer(world);
    const tamper = (params: object) => ({ ...params, nonce: 'a-nonce-of-someone-else-entirely' });
    const outcome = await signInWithFedCm(
      config,
      issuer,
      { mode: 'active' },
      { getCredential: browser(jar, [], tamper) },
    );
    expect(outcome).toEqual({ kind: 'failed', message: 'The sign-in could not be completed. Please sign in again.' });
  });

  it.each([
    [
      'the browser refuses (the issuer’s error code)',
      () => Promise.reject(idpError('login_required')),
      'login_required',
    ],
    ['the person closes the dialog', () => Promise.reject(new DOMException('closed', 'NetworkError')), 'NetworkError'],
    ['the time limit passes', () => Promise.reject(new DOMException('late', 'TimeoutError')), 'TimeoutError'],
    ['the browser gives nothing', () => Promise.resolve(null), 'no_credential'],
  ])('is unavailable when %s: the page goes on with the redirect flow', async (_, getCredential, reason) => {
    const { config, issuer } = await page();
    const outcome = await signInWithFedCm(config, issuer, { mode: 'active' }, { getCredential });
    expect(outcome).toEqual({ kind: 'unavailable', reason });
  });

  it('is unavailable, asking the browser nothing, for an issuer that names no FedCM config', async () => {
    const { config, issuer } = await page();
    const { fedcm_config_uri: _, ...metadata } = issuer.metadata;
    const asked: IdentityRequest[] = [];
    const jar = createCookieJarClient();
    const outcome = await signInWithFedCm(
      config,
      { ...issuer, metadata: metadata as Issuer['metadata'] },
      { mode: 'active' },
      { getCredential: browser(jar, asked) },
    );
    expect(outcome).toEqual({ kind: 'unavailable', reason: 'no_fedcm_config' });
    expect(asked).toEqual([]);
  });
});

/** What Chromium rejects with when the identity provider answered `{"error":{"code":…}}`. */
function idpError(code: string): Error {
  return Object.assign(new Error('the identity provider refused'), { name: 'IdentityCredentialError', code });
}
