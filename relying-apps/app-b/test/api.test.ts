import { describe, expect, it } from 'vitest';
import { createRemoteKeySet, exchangeToken, verifyAccessToken } from '@tessera/shared';
import { APP_A, DPOP_CHALLENGE, callMe, signInToAppA, signInToAppB, useAppB } from './support/world.js';

const world = useAppB();
const BOTH_SCHEMES = 'Bearer, DPoP algs="ES256 ES384 EdDSA RS256 PS256"';

describe('GET /api/me (RFC 6750 bearer, RFC 9068 access token)', () => {
  it('answers sub, email, name and client_id for a token issued for app B', async () => {
    const { accessToken } = await signInToAppB(world);
    const res = await callMe(world, accessToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      sub: world.alice.sub,
      email: 'alice@example.com',
      name: 'Alice Liddell',
      client_id: 'app-b',
      act: null,
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers who acts for the person for a token app A got by exchange (RFC 8693 §4.1 act)', async () => {
    const { accessToken } = await signInToAppA(world, APP_A);
    const metadata = (await (await fetch(`${world.idp}/.well-known/openid-configuration`)).json()) as {
      token_endpoint: string;
    };
    const exchanged = await exchangeToken({
      tokenEndpoint: metadata.token_endpoint,
      clientId: 'app-a',
      clientSecret: world.appASecret,
      subjectToken: accessToken,
      resource: world.app,
    });
    const res = await callMe(world, exchanged.access_token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      sub: world.alice.sub,
      email: 'alice@example.com',
      name: 'Alice Liddell',
      client_id: 'app-a',
      act: { sub: 'app-a' },
    });
    // The token it was exchanged for stays app A's: app B's API refuses it.
    expect((await callMe(world, accessToken)).status).toBe(401);
  });

  it('accepts a token for app B’s API whichever client it was issued to', async () => {
    const { accessToken } = await signInToAppA(world, world.app);
    const res = await callMe(world, accessToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sub: world.alice.sub, client_id: 'app-a' });
  });

  it('refuses a token issued for app A’s API: 401 invalid_token', async () => {
    const { accessToken } = await signInToAppA(world, APP_A);
    const res = await callMe(world, accessToken);
    expect(res.status).toBe(401);
    const description = 'The access token is not meant for this resource';
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", error_description="${description}", ${DPOP_CHALLENGE}`,
    );
    expect(await res.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('keeps the audiences apart the other way too: a token for app B is refused where app A is audience', async () => {
    const { accessToken } = await signInToAppB(world);
    const keySet = createRemoteKeySet(`${world.idp}/jwks`);
    await expect(verifyAccessToken(accessToken, { issuer: world.idp, audience: APP_A, keySet })).rejects.toMatchObject({
      code: 'ERR_TOKEN_AUDIENCE',
    });
    await expect(
      verifyAccessToken(accessToken, { issuer: world.idp, audience: world.app, keySet }),
    ).resolves.toBeDefined();
  });

  it('answers 401 with bare Bearer and DPoP challenges and JSON when there is no token, never a redirect', async () => {
    const res = await fetch(`${world.app}/api/me`, { redirect: 'manual' });
    expect(res.status).toBe(401);
    // RFC 9449 §7.1: an API that takes both schemes offers both.
    expect(res.headers.get('www-authenticate')).toBe(BOTH_SCHEMES);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error: 'unauthenticated' });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses an ID token presented as an access token', async () => {
    const { idToken } = await signInToAppB(world);
    const res = await callMe(world, idToken);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('refuses a token that is not a JWT, and a token in the query string is not read', async () => {
    expect((await callMe(world, 'not.a.token')).status).toBe(401);
    const { accessToken } = await signInToAppB(world);
    const res = await fetch(`${world.app}/api/me?access_token=${accessToken}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(BOTH_SCHEMES);
  });

  it('refuses a tampered token', async () => {
    const { accessToken } = await signInToAppB(world);
    const [header, payload, signature] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url');
    expect((await callMe(world, `${header}.${forged}.${signature}`)).status).toBe(401);
  });
});
