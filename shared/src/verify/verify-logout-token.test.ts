import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../test/support/expect-refusal.js';
import {
  CLIENT_ID,
  ISSUER,
  createLocalIssuer,
  idTokenClaims,
  logoutTokenClaims,
  nowSec,
  sign,
} from '../../test/support/issuer.js';
import { createMemoryJtiStore } from './jti-store.js';
import { verifyLogoutToken, type VerifyLogoutTokenOptions } from './verify-logout-token.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const logoutTyp = { typ: 'logout+jwt' } as const;

const { issuer, keySet } = await createLocalIssuer();

const optionsWith = (extra: Partial<VerifyLogoutTokenOptions> = {}): VerifyLogoutTokenOptions => ({
  issuer: ISSUER,
  audience: CLIENT_ID,
  keySet,
  jtiStore: createMemoryJtiStore(),
  ...extra,
});

describe('verifyLogoutToken', () => {
  it('accepts a valid logout token', async () => {
    const claims = logoutTokenClaims();
    const result = await verifyLogoutToken(await sign(issuer.es256, claims, logoutTyp), optionsWith());
    expect(result.claims).toEqual(claims);
  });

  it('accepts a logout token with only sid', async () => {
    const token = await sign(issuer.es256, logoutTokenClaims({ sub: undefined }), logoutTyp);
    await expect(verifyLogoutToken(token, optionsWith())).resolves.toBeDefined();
  });

  it('accepts typ application/logout+jwt', async () => {
    const token = await sign(issuer.es256, logoutTokenClaims(), { typ: 'application/logout+jwt' });
    await expect(verifyLogoutToken(token, optionsWith())).resolves.toBeDefined();
  });

  it('rejects a logout token typed JWT', async () => {
    await expectRefusal(
      verifyLogoutToken(await sign(issuer.es256, logoutTokenClaims(), { typ: 'JWT' }), optionsWith()),
      'ERR_TOKEN_TYPE',
    );
  });

  it('rejects a logout token with no typ', async () => {
    await expectRefusal(
      verifyLogoutToken(await sign(issuer.es256, logoutTokenClaims()), optionsWith()),
      'ERR_TOKEN_TYPE',
    );
  });

  it('rejects a logout token carrying a nonce', async () => {
    const error = await expectRefusal(
      verifyLogoutToken(await sign(issuer.es256, logoutTokenClaims({ nonce: 'n' }), logoutTyp), optionsWith()),
      'ERR_TOKEN_CLAIM',
    );
    expect(error.claim).toBe('nonce');
  });

  it('rejects a logout token without events', async () => {
    const error = await expectRefusal(
      verifyLogoutToken(await sign(issuer.es256, logoutTokenClaims({ events: undefined }), logoutTyp), optionsWith()),
      'ERR_TOKEN_CLAIM',
    );
    expect(error.claim).toBe('events');
  });

  it('rejects a logout token whose events lack the back-channel logout member', async () => {
    const token = await sign(
      issuer.es256,
      logoutTokenClaims({ events: { 'https://example.com/other': {} } }),
      logoutTyp,
    );
    await expectRefusal(verifyLogoutToken(token, optionsWith()), 'ERR_TOKEN_CLAIM');
  });

  it('rejects a logout token whose logout event is not a JSON object', async () => {
    const token = await sign(issuer.es256, logoutTokenClaims({ events: { [EVENT]: true } }), logoutTyp);
    await expectRefusal(verifyLogoutToken(token, optionsWith()), 'ERR_TOKEN_CLAIM');
  });

  it('rejects a logout token with neither sub nor sid', async () => {
    const token = await sign(issuer.es256, logoutTokenClaims({ sub: undefined, sid: undefined }), logoutTyp);
    await expectRefusal(verifyLogoutToken(token, optionsWith()), 'ERR_TOKEN_CLAIM');
  });

  it('rejects a logout token without jti', async () => {
    await expectRefusal(
      verifyLogoutToken(await sign(issuer.es256, logoutTokenClaims({ jti: undefined }), logoutTyp), optionsWith()),
      'ERR_TOKEN_CLAIM',
    );
  });

  it('rejects a logout token for another client', async () => {
    await expectRefusal(
      verifyLogoutToken(await sign(issuer.es256, logoutTokenClaims({ aud: 'app-b' }), logoutTyp), optionsWith()),
      'ERR_TOKEN_AUDIENCE',
    );
  });

  it('rejects an expired logout token', async () => {
    const token = await sign(issuer.es256, logoutTokenClaims({ iat: nowSec() - 300, exp: nowSec() - 60 }), logoutTyp);
    await expectRefusal(verifyLogoutToken(token, optionsWith()), 'ERR_TOKEN_EXPIRED');
  });

  it('rejects an ID token presented as a logout token', async () => {
    await expectRefusal(
      verifyLogoutToken(await sign(issuer.es256, idTokenClaims({ events: { [EVENT]: {} } })), optionsWith()),
      'ERR_TOKEN_TYPE',
    );
  });

  it('rejects a replayed jti', async () => {
    const options = optionsWith();
    const token = await sign(issuer.es256, logoutTokenClaims(), logoutTyp);
    await verifyLogoutToken(token, options);
    await expectRefusal(verifyLogoutToken(token, options), 'ERR_TOKEN_REPLAYED');
  });

  it('does not burn the jti of a token refused for another reason', async () => {
    const options = optionsWith();
    const jti = crypto.randomUUID();
    await expectRefusal(
      verifyLogoutToken(await sign(issuer.es256, logoutTokenClaims({ jti, nonce: 'n' }), logoutTyp), options),
      'ERR_TOKEN_CLAIM',
    );
    await expect(
      verifyLogoutToken(await sign(issuer.es256, logoutTokenClaims({ jti }), logoutTyp), options),
    ).resolves.toBeDefined();
  });

  it('throws a TypeError without a jtiStore', async () => {
    const options = { ...optionsWith(), jtiStore: undefined } as unknown as VerifyLogoutTokenOptions;
    await expect(verifyLogoutToken('x.y.z', options)).rejects.toThrow(TypeError);
  });
});
