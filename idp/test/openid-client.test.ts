/**
 * The whole flow driven by openid-client (v6), a certified relying-party library, used
 * unmodified: discovery, PKCE, state, nonce, the `iss` response parameter (RFC 9207), ID token
 * validation including its signature against the JWKS, and UserInfo.
 */
import { describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { createCookieJarClient } from '@tessera/shared/testing';
import { useIssuer } from './support/fixture.js';
import { submitSignIn } from './support/browser.js';

const { idp, fx } = useIssuer();

/** Discovery over plain http (the test issuer is loopback), with ID token signatures checked. */
function discover(
  clientId: string,
  secret: string | undefined,
  auth: client.ClientAuth,
): Promise<client.Configuration> {
  return client.discovery(new URL(idp.url), clientId, secret, auth, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
}

/** Builds the authorization URL with openid-client, signs in as alice, returns the callback URL and the checks. */
async function authorizeWithOpenIdClient(config: client.Configuration) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const expectedState = client.randomState();
  const expectedNonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: fx.redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
    nonce: expectedNonce,
  });
  const jar = createCookieJarClient();
  const step = await jar.follow(url, {
    stopWhen: (u) => u.pathname === '/sign-in' || u.href.startsWith(fx.redirectUri),
  });
  expect(step.location?.pathname).toBe('/sign-in');
  const res = await submitSignIn(jar, idp.url, step.location!, 'alice@example.com', 'correct horse battery staple');
  expect(res.status).toBe(303);
  const callbackUrl = new URL(res.headers.get('location')!, idp.url);
  return { callbackUrl, checks: { pkceCodeVerifier, expectedState, expectedNonce } };
}

async function runFlow(config: client.Configuration, clientId: string) {
  const { callbackUrl, checks } = await authorizeWithOpenIdClient(config);
  const tokens = await client.authorizationCodeGrant(config, callbackUrl, checks);
  const claims = tokens.claims()!;
  expect(claims).toMatchObject({ iss: idp.url, sub: fx.alice.sub, aud: clientId, nonce: checks.expectedNonce });
  expect(tokens.token_type).toBe('bearer');
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  expect(info).toEqual({ sub: fx.alice.sub, name: 'Alice Liddell', email: 'alice@example.com', email_verified: true });
}

describe('openid-client against the issuer', () => {
  it('discovers the issuer and reads the metadata it needs', async () => {
    const config = await discover(
      fx.confidential.id,
      fx.confidential.secret,
      client.ClientSecretBasic(fx.confidential.secret),
    );
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(idp.url);
    expect(meta.supportsPKCE()).toBe(true);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
  });

  it.each([
    { method: 'client_secret_basic', authenticate: client.ClientSecretBasic },
    { method: 'client_secret_post', authenticate: client.ClientSecretPost },
  ])('completes the code flow for a confidential client with $method', async ({ authenticate }) => {
    const { id, secret } = fx.confidential;
    await runFlow(await discover(id, secret, authenticate(secret)), id);
  });

  it('completes the code flow for a public client authenticating with none', async () => {
    const config = await discover(fx.publicClient.id, undefined, client.None());
    await runFlow(config, fx.publicClient.id);
  });

  it('surfaces the issuer’s invalid_grant when the code is redeemed twice', async () => {
    const config = await discover(fx.publicClient.id, undefined, client.None());
    const { callbackUrl, checks } = await authorizeWithOpenIdClient(config);
    await client.authorizationCodeGrant(config, callbackUrl, checks);
    await expect(client.authorizationCodeGrant(config, callbackUrl, checks)).rejects.toMatchObject({
      error: 'invalid_grant',
      status: 400,
    });
  });
});
