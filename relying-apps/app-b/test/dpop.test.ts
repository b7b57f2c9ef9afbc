/**
 * App B's API and DPoP-bound tokens (RFC 9449 §7): the tokens app B's browser code gets are bound
 * to its key; the API takes them only with a fresh proof by that key, once, in every process of
 * app B and across a restart; openid-client, unmodified, gets tokens the API takes the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDPoPProver } from '@tessera/shared';
import { createCookieJarClient } from '@tessera/shared/testing';
import { submitSignIn } from '../../../idp/test/support/browser.js';
import {
  callMe,
  callMeWithBearer,
  signInToAppB,
  startWorldOnDatabase,
  useAppB,
  type WorldOnDatabase,
} from './support/world.js';

const world = useAppB();

const proofHeaders = async (token: string, proof: string) => ({ authorization: `DPoP ${token}`, dpop: proof });

describe("app B's API and DPoP-bound tokens", () => {
  it('the tokens app B signs in with are bound to its key; the API takes them only with its proofs', async () => {
    const { accessToken, dpop } = await signInToAppB(world);
    const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString());
    expect(claims.cnf).toEqual({ jkt: dpop.jkt });
    expect((await callMe(world, accessToken)).status).toBe(200);

    // A copy of the token, without the key: as a bearer token, or with a proof by another key.
    const asBearer = await callMeWithBearer(world, accessToken);
    expect(asBearer.status).toBe(401);
    expect(await asBearer.json()).toMatchObject({ error: 'invalid_token' });
    const thief = await createDPoPProver();
    const url = `${world.app}/api/me`;
    const stolen = await fetch(url, {
      headers: await proofHeaders(accessToken, await thief.proof({ method: 'GET', url, accessToken })),
    });
    expect(stolen.status).toBe(401);
    expect(await stolen.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('takes each proof once: a replayed proof is invalid_dpop_proof', async () => {
    const { accessToken, dpop } = await signInToAppB(world);
    const url = `${world.app}/api/me`;
    const headers = await proofHeaders(accessToken, await dpop.proof({ method: 'GET', url, accessToken }));
    expect((await fetch(url, { headers })).status).toBe(200);
    const replay = await fetch(url, { headers });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    expect(replay.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof", /);
  });
});

describe('openid-client, unmodified, with a DPoP key against app B', () => {
  it('gets bound tokens for app B and calls its API with proofs (fetchProtectedResource)', async () => {
    const config = await client.discovery(new URL(world.idp), 'app-b', undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
    const pkceCodeVerifier = client.randomPKCECodeVerifier();
    const expectedState = client.randomState();
    const redirectUri = `${world.app}/`;
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email',
      resource: world.app,
      code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
      code_challenge_method: 'S256',
      state: expectedState,
    });
    const jar = createCookieJarClient();
    const step = await jar.follow(url, { stopWhen: (u) => u.pathname === '/sign-in' });
    const signedIn = await submitSignIn(
      jar,
      world.idp,
      step.location!,
      'alice@example.com',
      'correct horse battery staple',
    );
    const callbackUrl = new URL(signedIn.headers.get('location')!, world.idp);
    const tokens = await client.authorizationCodeGrant(
      config,
      callbackUrl,
      { pkceCodeVerifier, expectedState },
      { resource: world.app },
      { DPoP },
    );
    expect(tokens.token_type).toBe('dpop');

    const me = await client.fetchProtectedResource(
      config,
      tokens.access_token,
      new URL(`${world.app}/api/me`),
      'GET',
      undefined,
      undefined,
      { DPoP },
    );
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ sub: world.alice.sub, client_id: 'app-b' });
    expect((await callMeWithBearer(world, tokens.access_token)).status).toBe(401);
  });
});

describe('used proofs are kept in app B’s database', () => {
  let dir: string;
  let onDatabase: WorldOnDatabase;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'app-b-dpop-'));
    onDatabase = await startWorldOnDatabase(join(dir, 'app-b.db'));
  });
  afterAll(async () => {
    await onDatabase?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a proof taken before a restart is refused after it', async () => {
    const { accessToken, dpop } = await signInToAppB(onDatabase);
    const url = `${onDatabase.app}/api/me`;
    const headers = await proofHeaders(accessToken, await dpop.proof({ method: 'GET', url, accessToken }));
    expect((await fetch(url, { headers })).status).toBe(200);
    await onDatabase.restart();
    const replay = await fetch(url, { headers });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: 'invalid_dpop_proof' });
  });
});
