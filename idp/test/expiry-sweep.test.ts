/**
 * The sweep of expired interactions and codes: what nobody completes does not pile up, and a code
 * replayed within a day of its expiry is still recognised.
 */
import { describe, expect, it } from 'vitest';
import { CODE_KEPT_AFTER_EXPIRY_MS, sweepExpired } from '../src/workers/expiry-sweep.js';
import { authorizeQuery, getAuthorize, redeem, signInAndRedeem } from './support/browser.js';
import { countRows, useIssuer } from './support/fixture.js';
import { sqliteOf } from '../src/store/index.js';

const { idp, fx } = useIssuer();
const sweep = (batch?: number) =>
  sweepExpired({ store: idp.issuer.ctx.store, clock: idp.clock, log: idp.issuer.ctx.log }, batch);

describe('expiry sweep', () => {
  it('deletes the interactions of abandoned sign-ins once expired, and only those', async () => {
    const before = countRows(idp, 'interactions');
    for (let i = 0; i < 5; i++) {
      const res = await getAuthorize(
        idp.url,
        authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }),
      );
      expect(res.status).toBe(302);
    }
    expect(countRows(idp, 'interactions')).toBe(before + 5);
    expect((await sweep()).interactions).toBe(0);
    idp.clock.advance(idp.issuer.ctx.config.interactionTtl + 1);
    try {
      const fresh = await getAuthorize(
        idp.url,
        authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }),
      );
      expect(fresh.status).toBe(302);
      expect((await sweep()).interactions).toBe(before + 5);
      expect(countRows(idp, 'interactions')).toBe(1);
    } finally {
      idp.clock.advance(-(idp.issuer.ctx.config.interactionTtl + 1));
    }
  });

  it('deletes in batches until none is left', async () => {
    const sqlite = sqliteOf(idp.issuer.ctx.store);
    const insert = sqlite.prepare(
      "insert into interactions (id, browser_digest, csrf_token, created_at, expires_at) values (?, 'b', 'c', 0, 1)",
    );
    sqlite.transaction(() => {
      for (let i = 0; i < 1234; i++) insert.run(`abandoned-${i}`);
    })();
    expect((await sweep(100)).interactions).toBe(1234);
    expect(countRows(idp, 'interactions', "id like 'abandoned-%'")).toBe(0);
  });

  it('keeps a redeemed code a day past its expiry, so a replay still revokes its grant, then deletes it', async () => {
    const { code } = await signInAndRedeem(idp.url, {
      clientId: fx.confidential.id,
      redirectUri: fx.redirectUri,
      auth: fx.confidential,
    });
    const codes = countRows(idp, 'authorization_codes');
    const revokedGrants = countRows(idp, 'grants', 'revoked_at is not null');
    const hours = 3600;
    idp.clock.advance(idp.issuer.ctx.config.authorizationCodeTtl + hours);
    try {
      await sweep();
      expect(countRows(idp, 'authorization_codes')).toBe(codes);
      const replay = await redeem(
        idp.url,
        { code, code_verifier: 'x'.repeat(43), redirect_uri: fx.redirectUri },
        fx.confidential,
      );
      expect(replay.json.error).toBe('invalid_grant');
      expect(countRows(idp, 'grants', 'revoked_at is not null')).toBe(revokedGrants + 1);

      idp.clock.advance(CODE_KEPT_AFTER_EXPIRY_MS / 1000);
      expect((await sweep()).codes).toBeGreaterThanOrEqual(1);
      expect(countRows(idp, 'authorization_codes')).toBe(0);
    } finally {
      idp.clock.advance(-(idp.issuer.ctx.config.authorizationCodeTtl + hours + CODE_KEPT_AFTER_EXPIRY_MS / 1000));
    }
  });
});
