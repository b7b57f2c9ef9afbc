import { describe, expect, it } from 'vitest';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createHash } from 'node:crypto';
import { sql, useIssuer } from './support/fixture.js';
import { browserFlow, redeem } from './support/browser.js';

const { idp, fx } = useIssuer();

describe('authorization code flow with a cookie-jar client', () => {
  it('signs in at the issuer, redeems the code and reads userinfo', async () => {
    const { callback, verifier, jar } = await browserFlow(
      idp.url,
      {
        clientId: fx.confidential.id,
        redirectUri: fx.redirectUri,
        state: 'xyz',
        nonce: 'n-1',
        // RFC 8707: a client allowed several APIs names the one its token is for.
        extra: { resource: fx.api.id },
      },
      { email: 'alice@example.com' },
    );
    // RFC 9207: the issuer identifies itself in the authorization response.
    expect(callback.searchParams.get('iss')).toBe(idp.url);
    expect(callback.searchParams.get('state')).toBe('xyz');
    const code = callback.searchParams.get('code')!;
    expect(code.length).toBeGreaterThanOrEqual(43);

    const { status, json, headers } = await redeem(
      idp.url,
      { code, code_verifier: verifier, redirect_uri: fx.redirectUri },
      fx.confidential,
    );
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(json.token_type).toBe('Bearer');
    expect(json.expires_in).toBe(300);
    expect(json.scope).toBe('openid profile email');

    const jwks = createRemoteJWKSet(new URL('/jwks', idp.url));
    const access = await jwtVerify(json.access_token as string, jwks, {
      issuer: idp.url,
      audience: fx.api.id,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(access.protectedHeader.typ).toBe('at+jwt');
    expect(access.payload).toMatchObject({
      sub: fx.alice.sub,
      client_id: fx.confidential.id,
      scope: 'openid profile email',
      email: 'alice@example.com',
      name: 'Alice Liddell',
    });
    expect(typeof access.payload.jti).toBe('string');
    expect(typeof access.payload.sid).toBe('string');
    expect(access.payload.exp! - access.payload.iat!).toBe(300);

    const id = await jwtVerify(json.id_token as string, jwks, {
      issuer: idp.url,
      audience: fx.confidential.id,
      algorithms: ['ES256'],
    });
    expect(id.payload).toMatchObject({ sub: fx.alice.sub, nonce: 'n-1', sid: access.payload.sid });
    expect(typeof id.payload.auth_time).toBe('number');
    // OIDC Core §3.1.3.6: at_hash is the left half of SHA-256 of the access token.
    const h = createHash('sha256')
      .update(json.access_token as string)
      .digest();
    expect(id.payload.at_hash).toBe(h.subarray(0, 16).toString('base64url'));
    expect(decodeProtectedHeader(json.id_token as string).kid).toBe(access.protectedHeader.kid);

    const info = await fetch(new URL('/userinfo', idp.url), {
      headers: { authorization: `Bearer ${json.access_token}` },
    });
    expect(info.status).toBe(200);
    expect(await info.json()).toEqual({
      sub: fx.alice.sub,
      name: 'Alice Liddell',
      email: 'alice@example.com',
      email_verified: true,
    });

    const post = await fetch(new URL('/userinfo', idp.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token: json.access_token as string }),
    });
    expect(post.status).toBe(200);

    // The SSO session answers a second authorization at once, with no sign-in page.
    const again = await browserFlow(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri }, null, jar);
    expect(again.callback.searchParams.get('code')).toBeTruthy();
  });

  it('sets the session cookie HttpOnly and SameSite=Lax, and never stores the secret', async () => {
    const { jar } = await browserFlow(
      idp.url,
      { clientId: fx.confidential.id, redirectUri: fx.redirectUri },
      { email: 'alice@example.com' },
    );
    const secret = jar.cookie(idp.url, 'tessera_session')!;
    expect(secret.length).toBeGreaterThanOrEqual(43);
    const rows = await sql(idp, 'select * from sso_sessions');
    expect(JSON.stringify(rows)).not.toContain(secret);
  });
});
