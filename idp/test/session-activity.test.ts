/**
 * A session in use stays alive through its idle lifetime, even the shortest one allowed, while
 * its recorded last use is written only once per step (a tenth of the idle lifetime, at most a
 * minute) rather than at every SSO visit and refresh.
 */
import { describe, expect, it } from 'vitest';
import { postToken, redeemThroughSession, signInAndRedeem } from './support/browser.js';
import { registerWebClient, seed, sql, startIssuer, type RunningIssuer } from './support/fixture.js';

const web = { id: 'active-web', name: 'Active Web', secret: 'active-web-secret-active-web-secret-active' };

async function issuerWithIdleLifetime(seconds: number) {
  const idp = await startIssuer({ env: { TESSERA_SESSION_IDLE_TTL: String(seconds) } });
  const fx = await seed(idp);
  await registerWebClient(idp, fx, web);
  return { idp, fx };
}

const lastSeenAt = async (idp: RunningIssuer) => (await sql(idp, 'select last_seen_at as t from sso_sessions'))[0]?.t;

const refresh = (idp: RunningIssuer, token: string) =>
  postToken(
    idp.url,
    { grant_type: 'refresh_token', refresh_token: token },
    {
      authorization: `Basic ${Buffer.from(`${web.id}:${web.secret}`).toString('base64')}`,
    },
  );

describe('session activity', () => {
  it('keeps a session that refreshes every 40 s alive under a 60 s idle lifetime', async () => {
    const { idp, fx } = await issuerWithIdleLifetime(60);
    try {
      const signedIn = await signInAndRedeem(idp.url, { clientId: web.id, redirectUri: fx.redirectUri, auth: web });
      let token = signedIn.tokens.refresh_token as string;
      for (let i = 0; i < 4; i++) {
        idp.clock.advance(40);
        const r = await refresh(idp, token);
        expect(r.json.error).toBeUndefined();
        token = r.json.refresh_token as string;
      }
      // Unused past the idle lifetime, it ends.
      idp.clock.advance(61);
      expect((await refresh(idp, token)).json.error).toBe('invalid_grant');
    } finally {
      await idp.cleanup();
    }
  });

  it('keeps a session that visits an app every 40 s alive under a 60 s idle lifetime', async () => {
    const { idp, fx } = await issuerWithIdleLifetime(60);
    try {
      const { jar } = await signInAndRedeem(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri });
      for (let i = 0; i < 4; i++) {
        idp.clock.advance(40);
        const r = await redeemThroughSession(
          idp.url,
          { clientId: fx.publicClient.id, redirectUri: fx.redirectUri },
          jar,
        );
        expect(r.status).toBe(200);
      }
    } finally {
      await idp.cleanup();
    }
  });

  it('records the last use once per minute under an hour of idle lifetime, not at every visit', async () => {
    const { idp, fx } = await issuerWithIdleLifetime(3600);
    try {
      const visit = { clientId: fx.publicClient.id, redirectUri: fx.redirectUri };
      const { jar } = await signInAndRedeem(idp.url, visit);
      const signedInAt = (await lastSeenAt(idp)) as number;
      idp.clock.advance(30);
      expect((await redeemThroughSession(idp.url, visit, jar)).status).toBe(200);
      expect(await lastSeenAt(idp)).toBe(signedInAt);
      idp.clock.advance(31);
      expect((await redeemThroughSession(idp.url, visit, jar)).status).toBe(200);
      expect(await lastSeenAt(idp)).toBeGreaterThanOrEqual(signedInAt + 61_000);
    } finally {
      await idp.cleanup();
    }
  });
});
