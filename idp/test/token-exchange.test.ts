/**
 * Token exchange (RFC 8693): a client's server trades the person's access token it holds (for its
 * own API) for one for another API it is registered to reach, through openid-client's
 * genericGrantRequest, unmodified. The new token names the client in `act`, lives no longer than
 * the old one, and ends with its grant. Every refusal carries RFC 8693's error and stores nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import {
  TOKEN_EXCHANGE_GRANT_TYPE,
  TOKEN_TYPE_IDENTIFIERS,
  createRemoteKeySet,
  verifyAccessToken,
} from '@tessera/shared';
import { RegistrationError, registerClient, registerResource } from '../src/protocol/registration.js';
import { basicAuth, postToken, signInAndRedeem, expectTokenRefusal } from './support/browser.js';
import { countRows, registerWebClient, registration, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();

const PARTNER_API = 'https://partner-api.example.test';
const exchanger = { id: 'exchanger', name: 'Exchanger', secret: 'exchanger-secret-exchanger-secret-exch' };
const { accessToken: ACCESS_TOKEN, idToken: ID_TOKEN } = TOKEN_TYPE_IDENTIFIERS;

/** A person's tokens as the exchanger got them: access token for fx.api (its own API). */
let tokens: Record<string, unknown>;

beforeAll(async () => {
  await registerResource(registration(idp), { id: PARTNER_API, name: 'Partner API' });
  await registerWebClient(idp, fx, exchanger, { exchangeTargets: [PARTNER_API] });
  tokens = (
    await signInAndRedeem(idp.url, {
      clientId: exchanger.id,
      redirectUri: fx.redirectUri,
      auth: exchanger,
      scope: 'openid profile email offline_access',
    })
  ).tokens;
});

const exchange = (params: Record<string, string>, auth: { id: string; secret: string } = exchanger) =>
  postToken(
    idp.url,
    { grant_type: TOKEN_EXCHANGE_GRANT_TYPE, ...params },
    { authorization: basicAuth(auth.id, auth.secret) },
  );

const subject = (token = tokens.access_token as string) => ({ subject_token: token, subject_token_type: ACCESS_TOKEN });

/** A refusal with RFC 8693's code that stores nothing. */
const expectRefused = (send: Parameters<typeof expectTokenRefusal>[1], status: number, error: string) =>
  expectTokenRefusal(idp, send, status, error);

describe('a token exchange with openid-client', () => {
  it("gives the person's token for the partner API, with act naming the client, no longer lived", async () => {
    const config = await client.discovery(new URL(idp.url), exchanger.id, exchanger.secret, undefined, {
      execute: [client.allowInsecureRequests],
    });
    expect(config.serverMetadata().grant_types_supported).toContain(TOKEN_EXCHANGE_GRANT_TYPE);
    const response = await client.genericGrantRequest(config, TOKEN_EXCHANGE_GRANT_TYPE, {
      ...subject(),
      resource: PARTNER_API,
    });
    expect(response.issued_token_type).toBe(ACCESS_TOKEN);
    expect(response.token_type).toBe('bearer');
    expect(response.refresh_token).toBeUndefined();
    expect(response.id_token).toBeUndefined();

    const keySet = createRemoteKeySet(`${idp.url}/jwks`, { now: () => idp.clock.now() });
    const verify = (token: string, audience: string) =>
      verifyAccessToken(token, { issuer: idp.url, audience, keySet, now: () => idp.clock.now() });
    const { claims } = await verify(response.access_token, PARTNER_API);
    const original = decodeJwt(tokens.access_token as string);
    expect(claims).toMatchObject({
      sub: original.sub,
      client_id: exchanger.id,
      sid: original.sid,
      act: { sub: exchanger.id },
      aud: PARTNER_API,
      // openid and offline_access mean nothing at another API; the person's claims go along.
      scope: 'profile email',
      name: 'Alice Liddell',
      email: 'alice@example.com',
    });
    expect(claims.exp).toBeLessThanOrEqual(original.exp!);
    // Only the partner API: not the client's own API, not userinfo.
    await expect(verify(response.access_token, fx.api.id)).rejects.toMatchObject({ code: 'ERR_TOKEN_AUDIENCE' });
    expect(decodeJwt(response.access_token).aud).toBe(PARTNER_API);
  });
});

describe('the exchanged token', () => {
  it('never outlives the token it was exchanged for', async () => {
    idp.clock.advance(200);
    const { status, json } = await exchange({ ...subject(), resource: PARTNER_API, scope: 'email' });
    expect(status).toBe(200);
    const exchanged = decodeJwt(json.access_token as string);
    expect(exchanged.exp).toBe(decodeJwt(tokens.access_token as string).exp);
    expect(json.expires_in).toBeLessThanOrEqual(exchanged.exp! - exchanged.iat!);
    expect(exchanged.scope).toBe('email');
  });

  it('ends with the grant of the token it was exchanged for', async () => {
    const fresh = await signInAndRedeem(idp.url, {
      clientId: exchanger.id,
      redirectUri: fx.redirectUri,
      auth: exchanger,
    });
    const { json } = await exchange({ ...subject(fresh.tokens.access_token as string), resource: PARTNER_API });
    const introspect = async (token: string) => {
      const res = await fetch(new URL('/introspect', idp.url), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicAuth(exchanger.id, exchanger.secret),
        },
        body: new URLSearchParams({ token }),
      });
      return (await res.json()) as { active: boolean };
    };
    expect((await introspect(json.access_token as string)).active).toBe(true);
    // Revoking the refresh token revokes its whole grant (RFC 7009 §2.1), the exchanged token too.
    await fetch(new URL('/revoke', idp.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicAuth(exchanger.id, exchanger.secret),
      },
      body: new URLSearchParams({ token: fresh.tokens.refresh_token as string }),
    });
    expect((await introspect(json.access_token as string)).active).toBe(false);
    // …and the subject token can no longer be exchanged.
    await expectRefused(
      () => exchange({ ...subject(fresh.tokens.access_token as string), resource: PARTNER_API }),
      400,
      'invalid_request',
    );
  });

  it('is not recorded under a grant revoked meanwhile (the store refuses it)', async () => {
    const fresh = await signInAndRedeem(idp.url, {
      clientId: exchanger.id,
      redirectUri: fx.redirectUri,
      auth: exchanger,
    });
    const jti = decodeJwt(fresh.tokens.access_token as string).jti!;
    const grants = idp.issuer.ctx.store.grants;
    const grantId = (await grants.activeGrantOfAccessToken(jti))!;
    await idp.issuer.ctx.store.refreshTokens.revokeGrant(grantId, idp.clock.now());
    const row = { jti: 'exchanged-after-revocation', expiresAt: idp.clock.now() + 60_000 };
    expect(await grants.recordExchangedAccessToken(grantId, row)).toBe(false);
    expect(await countRows(idp, 'access_tokens', "jti = 'exchanged-after-revocation'")).toBe(0);
  });
});

describe('refusals, each storing nothing', () => {
  it('invalid_target for an audience not registered for the client, or unknown', async () => {
    // The client's own API is allowed to it, but not as an exchange target.
    await expectRefused(() => exchange({ ...subject(), resource: fx.api.id }), 400, 'invalid_target');
    await expectRefused(() => exchange({ ...subject(), audience: fx.other.id }), 400, 'invalid_target');
    await expectRefused(
      () => exchange({ ...subject(), resource: 'https://nowhere.example.test' }),
      400,
      'invalid_target',
    );
    await expectRefused(
      () => exchange({ ...subject(), resource: PARTNER_API, audience: fx.api.id }),
      400,
      'invalid_target',
    );
  });

  it('unauthorized_client for a client not registered for token exchange', async () => {
    await expectRefused(
      () => exchange({ ...subject(), resource: PARTNER_API }, fx.confidential),
      400,
      'unauthorized_client',
    );
  });

  it('invalid_request for an ID token as subject, named as one or passed off as an access token', async () => {
    await expectRefused(
      () => exchange({ subject_token: tokens.id_token as string, subject_token_type: ID_TOKEN, resource: PARTNER_API }),
      400,
      'invalid_request',
    );
    await expectRefused(
      () => exchange({ ...subject(tokens.id_token as string), resource: PARTNER_API }),
      400,
      'invalid_request',
    );
  });

  it("invalid_request for another client's token, a revoked one, an expired one, or garbage", async () => {
    const theirs = await signInAndRedeem(idp.url, {
      clientId: fx.confidential.id,
      redirectUri: fx.redirectUri,
      auth: fx.confidential,
    });
    await expectRefused(
      () => exchange({ ...subject(theirs.tokens.access_token as string), resource: PARTNER_API }),
      400,
      'invalid_request',
    );
    await expectRefused(() => exchange({ ...subject('not.a.token'), resource: PARTNER_API }), 400, 'invalid_request');

    const mine = await signInAndRedeem(idp.url, {
      clientId: exchanger.id,
      redirectUri: fx.redirectUri,
      auth: exchanger,
    });
    const revoked = mine.tokens.access_token as string;
    await fetch(new URL('/revoke', idp.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicAuth(exchanger.id, exchanger.secret),
      },
      body: new URLSearchParams({ token: revoked }),
    });
    await expectRefused(() => exchange({ ...subject(revoked), resource: PARTNER_API }), 400, 'invalid_request');

    const later = await signInAndRedeem(idp.url, {
      clientId: exchanger.id,
      redirectUri: fx.redirectUri,
      auth: exchanger,
    });
    idp.clock.advance(idp.issuer.ctx.config.accessTokenTtl + 1);
    await expectRefused(
      () => exchange({ ...subject(later.tokens.access_token as string), resource: PARTNER_API }),
      400,
      'invalid_request',
    );
  });

  it('invalid_request without a subject token, with an actor token, or asking for another token type', async () => {
    const mine = await signInAndRedeem(idp.url, {
      clientId: exchanger.id,
      redirectUri: fx.redirectUri,
      auth: exchanger,
    });
    const live = subject(mine.tokens.access_token as string);
    await expectRefused(() => exchange({ resource: PARTNER_API }), 400, 'invalid_request');
    await expectRefused(
      () => exchange({ ...live, resource: PARTNER_API, actor_token: 'x', actor_token_type: ACCESS_TOKEN }),
      400,
      'invalid_request',
    );
    await expectRefused(
      () => exchange({ ...live, resource: PARTNER_API, requested_token_type: TOKEN_TYPE_IDENTIFIERS.refreshToken }),
      400,
      'invalid_request',
    );
    // A wider scope than the subject token's.
    await expectRefused(
      () => exchange({ ...live, resource: PARTNER_API, scope: 'profile address' }),
      400,
      'invalid_scope',
    );
    // With all that refused, the same token still exchanges.
    expect((await exchange({ ...live, resource: PARTNER_API })).status).toBe(200);
  });

  it('is registered only for confidential clients and registered resources', async () => {
    const deps = registration(idp);
    await expect(
      registerClient(deps, {
        name: 'P',
        type: 'public',
        party: 'first',
        redirectUris: [fx.redirectUri],
        exchangeTargets: [PARTNER_API],
      }),
    ).rejects.toThrow(RegistrationError);
    await expect(
      registerWebClient(
        idp,
        fx,
        { id: 'x1', name: 'X', secret: 'x'.repeat(40) },
        { exchangeTargets: ['https://no.test'] },
      ),
    ).rejects.toThrow('is not registered');
  });
});
