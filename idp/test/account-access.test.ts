/**
 * Ending all of a person's access (protocol/account-access.ts): every session ends with back-channel
 * logout to its apps, every grant is revoked, offline ones too, and nobody else's access changes.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@tessera/shared/testing';
import { endAccountAccess } from '../src/protocol/account-access.js';
import { basicAuth, postToken, signInAndRedeem } from './support/browser.js';
import { registerPerson, registerWebClient, sql, storedJson, useIssuer } from './support/fixture.js';
import { LogoutReceiver } from './support/logout-receiver.js';

const { idp, fx } = useIssuer({ issuer: { backchannel: { baseDelayMs: 50, maxAttempts: 3 } } });
const rp = new LogoutReceiver();
const WEB = { id: 'access-web', name: 'Access Web', secret: 'access-web-secret-0123456789abcdef' };

beforeAll(async () => {
  await rp.start();
  await registerWebClient(idp, fx, WEB, {
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    backchannelLogoutUri: rp.url,
  });
  await registerPerson(idp, 'bob@example.com', 'Bob');
});
afterAll(() => rp.stop());

const signIn = (email: string, scope = 'openid profile') =>
  signInAndRedeem(idp.url, { clientId: WEB.id, redirectUri: fx.redirectUri, auth: WEB, email, scope });

const refresh = (refreshToken: string) =>
  postToken(
    idp.url,
    { grant_type: 'refresh_token', refresh_token: refreshToken },
    { authorization: basicAuth(WEB.id, WEB.secret) },
  );

async function active(token: string): Promise<boolean> {
  const res = await fetch(new URL('/introspect', idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(WEB.id, WEB.secret) },
    body: new URLSearchParams({ token }),
  });
  return ((await res.json()) as { active: boolean }).active;
}

describe("ending a person's access", () => {
  it('ends every session with back-channel logout and revokes every grant, offline ones too, only theirs', async () => {
    // Alice on two devices, one of them with offline access; Bob on a third.
    const laptop = await signIn('alice@example.com');
    const phone = await signIn('alice@example.com', 'openid profile offline_access');
    const bob = await signIn('bob@example.com');
    const aliceSids = [laptop, phone].map((s) => decodeJwt(s.tokens.id_token as string).sid);

    const ended = await endAccountAccess(idp.issuer.ctx, fx.alice.sub, {
      ip: '192.0.2.1',
      actor: 'admin-sub',
      reason: 'account_disabled',
    });
    expect(ended).toEqual({ sessions: 2, accessTokens: 2 });

    // Each app hears of each session's end (OIDC Back-Channel Logout 1.0 §2.5).
    await eventually(() => rp.tokens.length === 2);
    expect(rp.tokens.map((t) => decodeJwt(t).sid).sort()).toEqual([...aliceSids].sort());
    expect(rp.tokens.every((t) => decodeJwt(t).sub === fx.alice.sub)).toBe(true);

    for (const s of [laptop, phone]) {
      expect((await refresh(s.tokens.refresh_token as string)).json.error).toBe('invalid_grant');
      expect(await active(s.tokens.access_token as string)).toBe(false);
      // The browser session is gone: the next authorization asks for a sign-in.
      const res = await s.jar.fetch(new URL(`/account`, idp.url), { redirect: 'manual' });
      expect(res.status).not.toBe(200);
    }
    // Bob is untouched.
    expect((await refresh(bob.tokens.refresh_token as string)).status).toBe(200);
    expect(await active(bob.tokens.access_token as string)).toBe(true);

    const [event] = await sql(idp, "select * from audit_events where type = 'account.access_ended'");
    expect(event).toMatchObject({ subject: fx.alice.sub, ip: '192.0.2.1' });
    expect(storedJson(event!.detail)).toEqual({
      reason: 'account_disabled',
      actor: 'admin-sub',
      sessions: 2,
      accessTokens: 2,
    });
  });

  it('finds nothing left the second time, and says so', async () => {
    await signIn('alice@example.com');
    const how = { ip: null, actor: fx.alice.sub, reason: 'password_reset' as const };
    const [first, second] = await Promise.all([
      endAccountAccess(idp.issuer.ctx, fx.alice.sub, how),
      endAccountAccess(idp.issuer.ctx, fx.alice.sub, how),
    ]);
    expect(first.sessions + second.sessions).toBe(1);
    expect(first.accessTokens + second.accessTokens).toBe(1);
  });
});
