/**
 * DPoP (RFC 9449) at the issuer: openid-client, unmodified, binds a browser app's tokens to its key
 * (with the nonce dance), refreshes and calls UserInfo with proofs; every forged, replayed or
 * misdirected proof, and a bound token used as a plain bearer token, is refused with RFC 9449's
 * error and stores nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { SignJWT, calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { accessTokenHash } from '@tessera/shared';
import { createCookieJarClient } from '@tessera/shared/testing';
import { browserFlow, postToken, submitSignIn, expectTokenRefusal } from './support/browser.js';
import { registerClient } from '../src/protocol/registration.js';
import { registerWebClient, registration, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();

/** A browser app that may refresh, as app B is registered. */
const SPA = 'dpop-spa';
beforeAll(async () => {
  await registerClient(registration(idp), {
    id: SPA,
    name: 'DPoP browser app',
    type: 'public',
    party: 'first',
    redirectUris: [fx.redirectUri],
    scopes: ['openid', 'profile', 'email'],
    resources: [fx.api.id],
    grantTypes: ['refresh_token'],
  });
});

/** Discovery over plain http (the test issuer is loopback). */
const discover = (clientId: string, secret?: string) =>
  client.discovery(
    new URL(idp.url),
    clientId,
    secret,
    secret === undefined ? client.None() : client.ClientSecretBasic(secret),
    { execute: [client.allowInsecureRequests] },
  );

/** The browser part of a code flow started by openid-client: alice signs in, back with a code. */
async function authorize(config: client.Configuration) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const expectedState = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: fx.redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
  });
  const jar = createCookieJarClient();
  const step = await jar.follow(url, {
    stopWhen: (u) => u.pathname === '/sign-in' || u.href.startsWith(fx.redirectUri),
  });
  const res = await submitSignIn(jar, idp.url, step.location!, 'alice@example.com', 'correct horse battery staple');
  return { callbackUrl: new URL(res.headers.get('location')!, idp.url), checks: { pkceCodeVerifier, expectedState } };
}

describe('a browser app with openid-client and a DPoP key', () => {
  it('gets tokens bound to its key after the nonce dance, refreshes and reads UserInfo with proofs', async () => {
    const config = await discover(SPA);
    expect(config.serverMetadata().dpop_signing_alg_values_supported).toContain('ES256');
    const keyPair = await client.randomDPoPKeyPair('ES256');
    const DPoP = client.getDPoPHandle(config, keyPair);
    const { callbackUrl, checks } = await authorize(config);
    // The first request has no nonce: use_dpop_nonce, which openid-client answers by retrying.
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, checks, undefined, { DPoP });
    expect(tokens.token_type).toBe('dpop');
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt });

    const info = await client.fetchUserInfo(config, tokens.access_token, fx.alice.sub, { DPoP });
    expect(info).toMatchObject({ sub: fx.alice.sub, name: 'Alice Liddell' });

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
    expect(refreshed.token_type).toBe('dpop');
    expect(decodeJwt(refreshed.access_token).cnf).toEqual({ jkt });

    // The refresh token is bound too: with another key it is refused, and stays the owner's.
    const thief = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    await expect(
      client.refreshTokenGrant(config, refreshed.refresh_token!, undefined, { DPoP: thief }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    const again = await client.refreshTokenGrant(config, refreshed.refresh_token!, undefined, { DPoP });
    expect(again.token_type).toBe('dpop');
  });
});

/** A key of the client's own, and proofs made with it (RFC 9449 §4.2). */
async function dpopKey() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256'), fullJwk: await exportJWK(privateKey) };
}
type DPoPKey = Awaited<ReturnType<typeof dpopKey>>;

function proof(
  key: DPoPKey,
  claims: Record<string, unknown> = {},
  header: { jwk?: JWK; typ?: string } = {},
  signWith: CryptoKey = key.privateKey,
): Promise<string> {
  return new SignJWT({
    jti: crypto.randomUUID(),
    htm: 'POST',
    htu: `${idp.url}/token`,
    iat: Math.floor(idp.clock.now() / 1000),
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', typ: header.typ ?? 'dpop+jwt', jwk: header.jwk ?? key.jwk })
    .sign(signWith);
}

/** A fresh code for the public client. */
async function freshCode() {
  const flow = await browserFlow(
    idp.url,
    { clientId: SPA, redirectUri: fx.redirectUri },
    { email: 'alice@example.com' },
  );
  const code = flow.callback.searchParams.get('code');
  if (!code) throw new Error(`no code: ${flow.callback.href}`);
  return {
    grant_type: 'authorization_code',
    code,
    code_verifier: flow.verifier,
    redirect_uri: fx.redirectUri,
    client_id: SPA,
  };
}

/** The server's current nonce, as a first request without one learns it. */
async function nonce(key: DPoPKey): Promise<string> {
  const res = await postToken(
    idp.url,
    { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43), client_id: SPA },
    { dpop: await proof(key) },
  );
  expect(res.json.error).toBe('use_dpop_nonce');
  return res.headers.get('dpop-nonce')!;
}

/** A 400 refusal with RFC 9449's code that stores nothing; the answer's headers. */
const expectRefused = (send: Parameters<typeof expectTokenRefusal>[1], error: string) =>
  expectTokenRefusal(idp, send, 400, error);

describe('proofs at the token endpoint (RFC 9449 §4.3, §5, §8)', () => {
  let key: DPoPKey;
  beforeAll(async () => {
    key = await dpopKey();
  });

  it('asks for a nonce first, in the DPoP-Nonce header, and takes a proof that carries it', async () => {
    const body = await freshCode();
    const headers = await expectRefused(
      async () => postToken(idp.url, body, { dpop: await proof(key) }),
      'use_dpop_nonce',
    );
    const serverNonce = headers.get('dpop-nonce')!;
    expect(serverNonce).toBeTruthy();
    const ok = await postToken(idp.url, body, { dpop: await proof(key, { nonce: serverNonce }) });
    expect(ok.status).toBe(200);
    expect(ok.json.token_type).toBe('DPoP');
    expect(ok.headers.get('dpop-nonce')).toBeTruthy();
    expect(decodeJwt(ok.json.access_token as string).cnf).toEqual({ jkt: key.jkt });
  });

  it('refuses a replayed proof, leaving the code to a fresh one', async () => {
    const body = await freshCode();
    const used = await proof(key, { nonce: await nonce(key) });
    expect((await postToken(idp.url, await freshCode(), { dpop: used })).status).toBe(200);
    await expectRefused(() => postToken(idp.url, body, { dpop: used }), 'invalid_dpop_proof');
    const ok = await postToken(idp.url, body, { dpop: await proof(key, { nonce: await nonce(key) }) });
    expect(ok.status).toBe(200);
  });

  it('refuses a proof for another URL or method, too old, with a private key, or signed by another key', async () => {
    const n = await nonce(key);
    const body = await freshCode();
    const other = await dpopKey();
    for (const bad of [
      await proof(key, { nonce: n, htu: `${idp.url}/userinfo` }),
      await proof(key, { nonce: n, htm: 'GET' }),
      // Older than a minute's use plus the minute of leeway for the device's clock.
      await proof(key, { nonce: n, iat: Math.floor(idp.clock.now() / 1000) - 130 }),
      await proof(key, { nonce: n, iat: Math.floor(idp.clock.now() / 1000) + 70 }),
      await proof(key, { nonce: n }, { jwk: key.fullJwk }),
      await proof(key, { nonce: n }, {}, other.privateKey),
      await proof(key, { nonce: n }, { typ: 'JWT' }),
    ])
      await expectRefused(() => postToken(idp.url, body, { dpop: bad }), 'invalid_dpop_proof');
    // Unused by all that, the code is still good.
    expect((await postToken(idp.url, body, { dpop: await proof(key, { nonce: n }) })).status).toBe(200);
  });

  it("takes a proof from a device whose clock is 45 s off either way (the proof's iat is the device's)", async () => {
    const n = await nonce(key);
    const nowSec = Math.floor(idp.clock.now() / 1000);
    for (const iat of [nowSec + 45, nowSec - 45]) {
      const res = await postToken(idp.url, await freshCode(), { dpop: await proof(key, { nonce: n, iat }) });
      expect(res.status).toBe(200);
    }
  });

  it('refuses a stale nonce, and a nonce made up', async () => {
    const stale = await nonce(key);
    idp.clock.advance(150);
    const body = await freshCode();
    await expectRefused(
      async () => postToken(idp.url, body, { dpop: await proof(key, { nonce: stale }) }),
      'use_dpop_nonce',
    );
    await expectRefused(
      async () => postToken(idp.url, body, { dpop: await proof(key, { nonce: 'made-up' }) }),
      'use_dpop_nonce',
    );
  });

  it('refuses a token request without a proof from a client registered with dpop_bound_access_tokens', async () => {
    const bound = { id: 'dpop-only', name: 'DPoP only', secret: 'dpop-only-secret-dpop-only-secret-dpop' };
    await registerWebClient(idp, fx, bound, {
      dpopBound: true,
      grantTypes: ['client_credentials'],
      resources: [fx.api.id],
    });
    const auth = { authorization: `Basic ${Buffer.from(`${bound.id}:${bound.secret}`).toString('base64')}` };
    await expectRefused(() => postToken(idp.url, { grant_type: 'client_credentials' }, auth), 'invalid_dpop_proof');
    const ok = await postToken(
      idp.url,
      { grant_type: 'client_credentials' },
      { ...auth, dpop: await proof(key, { nonce: await nonce(key) }) },
    );
    expect({ status: ok.status, type: ok.json.token_type }).toEqual({ status: 200, type: 'DPoP' });
    expect(decodeJwt(ok.json.access_token as string)).toMatchObject({ sub: bound.id, cnf: { jkt: key.jkt } });
  });
});

describe('a bound token at UserInfo (RFC 9449 §7)', () => {
  let key: DPoPKey;
  let accessToken: string;
  beforeAll(async () => {
    key = await dpopKey();
    const body = await freshCode();
    const res = await postToken(idp.url, body, { dpop: await proof(key, { nonce: await nonce(key) }) });
    accessToken = res.json.access_token as string;
  });

  const userinfo = async (scheme: string, dpop?: string) => {
    const res = await fetch(new URL('/userinfo', idp.url), {
      headers: { authorization: `${scheme} ${accessToken}`, ...(dpop ? { dpop } : {}) },
    });
    return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '', json: await res.json() };
  };
  const resourceProof = async (over: Record<string, unknown> = {}, signer: DPoPKey = key) =>
    proof(signer, { htm: 'GET', htu: `${idp.url}/userinfo`, ath: await accessTokenHash(accessToken), ...over });

  it('is served with the DPoP scheme and a proof of its key', async () => {
    const res = await userinfo('DPoP', await resourceProof());
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ sub: fx.alice.sub });
  });

  it('is refused as a plain bearer token, with a DPoP challenge', async () => {
    const res = await userinfo('Bearer');
    expect(res.status).toBe(401);
    expect(res.json.error).toBe('invalid_token');
    expect(res.challenge).toMatch(/^DPoP algs="[^"]*ES256[^"]*", error="invalid_token"/);
  });

  it('is refused with a proof by another key, for another token, or replayed', async () => {
    const other = await dpopKey();
    expect((await userinfo('DPoP', await resourceProof({}, other))).json.error).toBe('invalid_dpop_proof');
    expect((await userinfo('DPoP', await resourceProof({ ath: await accessTokenHash('another') }))).json.error).toBe(
      'invalid_dpop_proof',
    );
    expect((await userinfo('DPoP')).json.error).toBe('invalid_dpop_proof');
    const once = await resourceProof();
    expect((await userinfo('DPoP', once)).status).toBe(200);
    const replay = await userinfo('DPoP', once);
    expect({ status: replay.status, error: replay.json.error }).toEqual({ status: 401, error: 'invalid_dpop_proof' });
  });

  it('is reported with its cnf by introspection (RFC 9449 §6.2)', async () => {
    const { secret, id } = fx.confidential;
    const res = await fetch(new URL('/introspect', idp.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: accessToken }),
    });
    expect(await res.json()).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
  });
});
