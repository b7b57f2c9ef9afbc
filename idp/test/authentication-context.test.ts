/**
 * How the person signed in, as the issuer states it: `acr`, `amr` and `auth_time` in ID tokens,
 * access tokens (RFC 9068 §2.2.1) and introspection (RFC 9470 §6.2), taken from the issuer's record
 * of the session when the grant was made — never from the request; a further factor added to a
 * session keeps its `sid` and changes its secret; the fresh sign-in window of security changes.
 */
import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { ACR_LEVELS, ACR_MFA, ACR_PASSWORD, type ProviderMetadata } from '@tessera/shared';
import { digest } from '../src/crypto/digest.js';
import { addFactorToSession, isFreshSignIn } from '../src/protocol/sso-session.js';
import { registerWebClient, sql, storedJson, useIssuer } from './support/fixture.js';
import {
  authorizeQuery,
  basicAuth,
  getAuthorize,
  locationOf,
  postToken,
  redeemThroughSession,
  signInAndRedeem,
} from './support/browser.js';

const { idp, fx } = useIssuer();

const WEB = { id: 'mfa-web', name: 'MFA Web', secret: 'mfa-web-secret-0123456789abcdef' };

async function introspect(token: string): Promise<Record<string, unknown>> {
  const res = await fetch(new URL('/introspect', idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(WEB.id, WEB.secret) },
    body: new URLSearchParams({ token }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** The session the jar's cookie names, as stored. */
async function sessionOf(secret: string) {
  const session = await idp.issuer.ctx.store.sessions.findBySecretDigest(digest(secret));
  expect(session).toBeDefined();
  return session!;
}

describe('authentication context of tokens', () => {
  it('states a password sign-in as pwd in every token and at introspection, whatever the request asks', async () => {
    await registerWebClient(idp, fx, WEB, { scopes: ['openid', 'profile', 'email', 'offline_access'] });
    const { tokens, jar } = await signInAndRedeem(idp.url, {
      clientId: WEB.id,
      redirectUri: fx.redirectUri,
      auth: WEB,
      // A class the issuer does not know is ignored (OIDC Core §3.1.2.1): it says nothing of the sign-in.
      extra: { acr_values: 'urn:example:gold' },
    });
    const id = decodeJwt(tokens.id_token as string);
    const access = decodeJwt(tokens.access_token as string);
    for (const claims of [id, access]) {
      expect(claims.acr).toBe(ACR_PASSWORD);
      expect(claims.amr).toEqual(['pwd']);
      expect(typeof claims.auth_time).toBe('number');
    }
    expect(access.auth_time).toBe(id.auth_time);
    expect(await introspect(tokens.access_token as string)).toMatchObject({
      active: true,
      acr: ACR_PASSWORD,
      amr: ['pwd'],
      auth_time: id.auth_time,
    });
    expect(await introspect(tokens.refresh_token as string)).toMatchObject({
      active: true,
      acr: ACR_PASSWORD,
      amr: ['pwd'],
    });
    // Asking for two factors gets no code from a password-only session: the factor page instead.
    const asked = await getAuthorize(
      idp.url,
      authorizeQuery({ clientId: WEB.id, redirectUri: fx.redirectUri }, { acr_values: ACR_MFA }),
      jar,
    );
    expect(asked.status).toBe(302);
    expect(locationOf(asked, idp.url)?.pathname).toBe('/sign-in/factor');
  });

  it('adds a factor to the same session with a new secret; a grant keeps what was proved when made', async () => {
    const { tokens, jar } = await signInAndRedeem(idp.url, {
      clientId: WEB.id,
      redirectUri: fx.redirectUri,
      auth: WEB,
    });
    const oldSecret = jar.cookie(idp.url, 'tessera_session')!;
    const before = await sessionOf(oldSecret);
    expect(before.amr).toEqual(['pwd']);

    idp.clock.advance(30);
    const { session, secret } = await addFactorToSession(idp.issuer.ctx, before, ['otp']);
    expect(session.id).toBe(before.id);
    expect(secret).not.toBe(oldSecret);
    // No fixation: the secret the browser held before the factor no longer names the session.
    expect(await idp.issuer.ctx.store.sessions.findBySecretDigest(digest(oldSecret))).toBeUndefined();
    const stored = await sessionOf(secret);
    expect(stored).toMatchObject({ id: before.id, amr: ['pwd', 'otp', 'mfa'], expiresAt: before.expiresAt });
    expect(stored.authTime).toBeGreaterThan(before.authTime);
    const [row] = await sql(idp, 'select amr from sso_sessions where id = ?', before.id);
    expect(storedJson(row?.amr)).toEqual(['pwd', 'otp', 'mfa']);

    // The grant made before the factor still says a password, refreshed.
    const refreshed = await postToken(
      idp.url,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string },
      { authorization: basicAuth(WEB.id, WEB.secret) },
    );
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.json.id_token as string)).toMatchObject({ acr: ACR_PASSWORD, amr: ['pwd'] });

    // A grant made after it states both factors.
    jar.setCookie(idp.url, 'tessera_session', secret);
    const after = await redeemThroughSession(
      idp.url,
      { clientId: fx.publicClient.id, redirectUri: fx.redirectUri },
      jar,
    );
    expect(after.status).toBe(200);
    const id = decodeJwt(after.json.id_token as string);
    expect(id).toMatchObject({ acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'], sid: before.id });
    expect(id.auth_time).toBe(Math.floor(stored.authTime / 1000));
    expect(decodeJwt(after.json.access_token as string)).toMatchObject({ acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'] });
  });

  it('lists its authentication context classes and claims in discovery', async () => {
    const metadata = (await (
      await fetch(new URL('/.well-known/openid-configuration', idp.url))
    ).json()) as ProviderMetadata & { acr_values_supported: string[] };
    expect(metadata.acr_values_supported).toEqual([...ACR_LEVELS]);
    expect(metadata.claims_supported).toEqual(expect.arrayContaining(['acr', 'amr', 'auth_time']));
  });
});

describe('fresh sign-in', () => {
  it('holds for the configured window after auth_time, and not a moment longer', async () => {
    const { jar } = await signInAndRedeem(idp.url, { clientId: WEB.id, redirectUri: fx.redirectUri, auth: WEB });
    const session = await sessionOf(jar.cookie(idp.url, 'tessera_session')!);
    const window = idp.issuer.ctx.config.freshSignInWindow;
    expect(window).toBe(300);
    expect(isFreshSignIn(idp.issuer.ctx, session)).toBe(true);
    idp.clock.advance(window - 1);
    expect(isFreshSignIn(idp.issuer.ctx, session)).toBe(true);
    idp.clock.advance(2);
    expect(isFreshSignIn(idp.issuer.ctx, session)).toBe(false);
  });
});
