/**
 * The expiry sweep through the issuer: what nobody completes does not pile up, a code replayed
 * within a day of its expiry is still recognised, and the tokens, grant and session of a sign-in go
 * once each rule allows, while a rotated refresh token of a family still in use still reveals its
 * reuse. (Each rule, on both engines: store-engines-retention.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { digest } from '../src/crypto/digest.js';
import {
  ACCESS_TOKEN_KEPT_AFTER_EXPIRY_MS,
  CODE_KEPT_AFTER_EXPIRY_MS,
  GRANT_KEPT_AFTER_END_MS,
  SESSION_KEPT_AFTER_END_MS,
  sweepExpired,
} from '../src/workers/expiry-sweep.js';
import { authorizeQuery, basicAuth, getAuthorize, postToken, redeem, signInAndRedeem } from './support/browser.js';
import { countRows, registerWebClient, sql, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();
const sweep = (batch?: number) => sweepExpired({ ...idp.issuer.ctx, clock: idp.clock }, batch);

describe('expiry sweep', () => {
  it('deletes the interactions of abandoned sign-ins once expired, and only those', async () => {
    const before = await countRows(idp, 'interactions');
    for (let i = 0; i < 5; i++) {
      const res = await getAuthorize(
        idp.url,
        authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }),
      );
      expect(res.status).toBe(302);
    }
    expect(await countRows(idp, 'interactions')).toBe(before + 5);
    expect((await sweep()).interactions).toBe(0);
    idp.clock.advance(idp.issuer.ctx.config.interactionTtl + 1);
    try {
      const fresh = await getAuthorize(
        idp.url,
        authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }),
      );
      expect(fresh.status).toBe(302);
      expect((await sweep()).interactions).toBe(before + 5);
      expect(await countRows(idp, 'interactions')).toBe(1);
    } finally {
      idp.clock.advance(-(idp.issuer.ctx.config.interactionTtl + 1));
    }
  });

  it('deletes in batches until none is left', async () => {
    const ids = Array.from({ length: 1234 }, (_, i) => `abandoned-${i}`);
    await sql(
      idp,
      'insert into interactions (id, browser_digest, csrf_token, created_at, expires_at) values ' +
        ids.map(() => "(?, 'b', 'c', 0, 1)").join(', '),
      ...ids,
    );
    expect((await sweep(100)).interactions).toBe(1234);
    expect(await countRows(idp, 'interactions', "id like 'abandoned-%'")).toBe(0);
  });

  it('keeps a redeemed code a day past its expiry, so a replay still revokes its grant, then deletes it', async () => {
    const { code } = await signInAndRedeem(idp.url, {
      clientId: fx.confidential.id,
      redirectUri: fx.redirectUri,
      auth: fx.confidential,
    });
    const codes = await countRows(idp, 'authorization_codes');
    const revokedGrants = await countRows(idp, 'grants', 'revoked_at is not null');
    const hours = 3600;
    idp.clock.advance(idp.issuer.ctx.config.authorizationCodeTtl + hours);
    try {
      await sweep();
      expect(await countRows(idp, 'authorization_codes')).toBe(codes);
      const replay = await redeem(
        idp.url,
        { code, code_verifier: 'x'.repeat(43), redirect_uri: fx.redirectUri },
        fx.confidential,
      );
      expect(replay.json.error).toBe('invalid_grant');
      expect(await countRows(idp, 'grants', 'revoked_at is not null')).toBe(revokedGrants + 1);

      idp.clock.advance(CODE_KEPT_AFTER_EXPIRY_MS / 1000);
      expect((await sweep()).codes).toBeGreaterThanOrEqual(1);
      expect(await countRows(idp, 'authorization_codes')).toBe(0);
    } finally {
      idp.clock.advance(-(idp.issuer.ctx.config.authorizationCodeTtl + hours + CODE_KEPT_AFTER_EXPIRY_MS / 1000));
    }
  });

  it("deletes a sign-in's tokens and session as each rule allows, a rotated token with its family", async () => {
    const web = { id: 'sweep-web', name: 'Sweep Web', secret: 'sweep-web-secret-sweep-web-secret-0123456' };
    await registerWebClient(idp, fx, web);
    const auth = { authorization: basicAuth(web.id, web.secret) };
    const { tokens } = await signInAndRedeem(idp.url, { clientId: web.id, redirectUri: fx.redirectUri, auth: web });
    const first = tokens.refresh_token as string;
    const rotated = await postToken(idp.url, { grant_type: 'refresh_token', refresh_token: first }, auth);
    expect(rotated.status).toBe(200);
    const found = await idp.issuer.ctx.store.refreshTokens.find(digest(first));
    const grant = found!.grant;
    const ofGrant = `grant_id = '${grant.id}'`;
    expect(await countRows(idp, 'access_tokens', ofGrant)).toBe(2);

    const { accessTokenTtl, sessionAbsoluteTtl } = idp.issuer.ctx.config;
    // The session expired a day ago, and so did both access tokens, past any verifier's leeway.
    const later = sessionAbsoluteTtl * 1000 + SESSION_KEPT_AFTER_END_MS + 1;
    expect(later).toBeGreaterThan(accessTokenTtl * 1000 + ACCESS_TOKEN_KEPT_AFTER_EXPIRY_MS);
    idp.clock.advance(later / 1000);
    try {
      await sweep();
      expect(await countRows(idp, 'access_tokens', ofGrant)).toBe(0);
      expect(await countRows(idp, 'sso_sessions', `id = '${grant.sessionId}'`)).toBe(0);
      // The family has not ended (its grant is neither revoked nor past its absolute end): the
      // rotated token stays, so that presenting it again is still seen as reuse (RFC 9700 §4.14.2).
      expect(await countRows(idp, 'grants', `id = '${grant.id}'`)).toBe(1);
      expect(await countRows(idp, 'refresh_tokens', ofGrant)).toBe(2);
      const reused = await postToken(idp.url, { grant_type: 'refresh_token', refresh_token: first }, auth);
      expect(reused.json.error).toBe('invalid_grant');
      expect(reused.json.error_description).toMatch(/already used/);
      expect(await countRows(idp, 'grants', `id = '${grant.id}' and revoked_at is not null`)).toBe(1);

      // Revoked: the grant and its whole family go once the margin has passed, not a moment before.
      const [row] = await idp.issuer.ctx.store.database.query('select revoked_at from grants where id = ?', [grant.id]);
      const revokedAt = Number(row!.revoked_at);
      const sweepAt = (now: number) => sweepExpired({ ...idp.issuer.ctx, clock: { now: () => now } });
      await sweepAt(revokedAt + GRANT_KEPT_AFTER_END_MS);
      expect(await countRows(idp, 'grants', `id = '${grant.id}'`)).toBe(1);
      await sweepAt(revokedAt + GRANT_KEPT_AFTER_END_MS + 1);
      expect(await countRows(idp, 'grants', `id = '${grant.id}'`)).toBe(0);
      expect(await countRows(idp, 'refresh_tokens', ofGrant)).toBe(0);
    } finally {
      idp.clock.advance(-later / 1000);
    }
  });
});
