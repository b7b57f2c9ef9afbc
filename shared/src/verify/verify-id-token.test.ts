import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../test/support/expect-refusal.js';
import {
  CLIENT_ID,
  ISSUER,
  accessTokenClaims,
  createLocalIssuer,
  createTestIssuer,
  idTokenClaims,
  logoutTokenClaims,
  nowSec,
  sign,
} from '../../test/support/issuer.js';
import { verifyIdToken, type VerifyIdTokenOptions } from './verify-id-token.js';

const { issuer, keySet } = await createLocalIssuer();
const options: VerifyIdTokenOptions = { issuer: ISSUER, audience: CLIENT_ID, keySet, nonce: 'n-0S6_WzA2Mj' };

describe('verifyIdToken', () => {
  it('accepts a valid ID token with the expected nonce', async () => {
    const claims = idTokenClaims();
    const result = await verifyIdToken(await sign(issuer.es256, claims), options);
    expect(result.claims).toEqual(claims);
  });

  it('accepts an ID token typed JWT', async () => {
    await expect(
      verifyIdToken(await sign(issuer.ed25519, idTokenClaims(), { typ: 'JWT' }), options),
    ).resolves.toBeDefined();
  });

  it('rejects an access token presented as an ID token', async () => {
    const token = await sign(issuer.es256, accessTokenClaims({ aud: CLIENT_ID, nonce: 'n-0S6_WzA2Mj' }), {
      typ: 'at+jwt',
    });
    await expectRefusal(verifyIdToken(token, options), 'ERR_TOKEN_TYPE');
  });

  it('rejects a logout token presented as an ID token', async () => {
    const token = await sign(issuer.es256, logoutTokenClaims({ nonce: 'n-0S6_WzA2Mj' }), { typ: 'logout+jwt' });
    await expectRefusal(verifyIdToken(token, options), 'ERR_TOKEN_TYPE');
  });

  it('rejects an ID token whose nonce differs from the request', async () => {
    const error = await expectRefusal(
      verifyIdToken(await sign(issuer.es256, idTokenClaims({ nonce: 'other' })), options),
      'ERR_TOKEN_CLAIM',
    );
    expect(error.claim).toBe('nonce');
  });

  it('rejects an ID token without nonce when one was sent', async () => {
    await expectRefusal(
      verifyIdToken(await sign(issuer.es256, idTokenClaims({ nonce: undefined })), options),
      'ERR_TOKEN_CLAIM',
    );
  });

  it('rejects an ID token for another client', async () => {
    await expectRefusal(
      verifyIdToken(await sign(issuer.es256, idTokenClaims({ aud: 'app-b' })), options),
      'ERR_TOKEN_AUDIENCE',
    );
  });

  it('rejects an ID token authorized for another party (azp)', async () => {
    await expectRefusal(
      verifyIdToken(await sign(issuer.es256, idTokenClaims({ aud: [CLIENT_ID, 'app-b'], azp: 'app-b' })), options),
      'ERR_TOKEN_AUDIENCE',
    );
  });

  it('rejects an ID token with several audiences and no azp', async () => {
    await expectRefusal(
      verifyIdToken(await sign(issuer.es256, idTokenClaims({ aud: [CLIENT_ID, 'app-b'] })), options),
      'ERR_TOKEN_CLAIM',
    );
  });

  it('rejects an ID token from another issuer', async () => {
    await expectRefusal(
      verifyIdToken(await sign(issuer.es256, idTokenClaims({ iss: 'http://evil.localhost' })), options),
      'ERR_TOKEN_ISSUER',
    );
  });

  it('rejects an ID token without sub', async () => {
    await expectRefusal(
      verifyIdToken(await sign(issuer.es256, idTokenClaims({ sub: undefined })), options),
      'ERR_TOKEN_CLAIM',
    );
  });

  it('rejects an ID token without iat', async () => {
    await expectRefusal(
      verifyIdToken(await sign(issuer.es256, idTokenClaims({ iat: undefined })), options),
      'ERR_TOKEN_CLAIM',
    );
  });

  it('rejects an ID token expired past the default leeway of 60 s', async () => {
    await expectRefusal(
      verifyIdToken(await sign(issuer.es256, idTokenClaims({ iat: nowSec() - 600, exp: nowSec() - 65 })), options),
      'ERR_TOKEN_EXPIRED',
    );
  });

  it('with clockToleranceSec 0, rejects an ID token expired a few seconds ago', async () => {
    const token = await sign(issuer.es256, idTokenClaims({ iat: nowSec() - 600, exp: nowSec() - 5 }));
    await expect(verifyIdToken(token, options)).resolves.toBeDefined();
    await expectRefusal(verifyIdToken(token, { ...options, clockToleranceSec: 0 }), 'ERR_TOKEN_EXPIRED');
  });

  it('rejects an ID token whose authentication is older than max_age', async () => {
    const token = await sign(issuer.es256, idTokenClaims({ auth_time: nowSec() - 3600 }));
    const error = await expectRefusal(verifyIdToken(token, { ...options, maxAgeSec: 600 }), 'ERR_TOKEN_CLAIM');
    expect(error.claim).toBe('auth_time');
  });

  it('rejects an ID token without auth_time when max_age was requested', async () => {
    await expectRefusal(
      verifyIdToken(await sign(issuer.es256, idTokenClaims({ auth_time: undefined })), { ...options, maxAgeSec: 600 }),
      'ERR_TOKEN_CLAIM',
    );
  });

  it('rejects an ID token signed with a key not in the set', async () => {
    const other = await createTestIssuer();
    await expectRefusal(verifyIdToken(await sign(other.es256, idTokenClaims()), options), 'ERR_TOKEN_KID_UNKNOWN');
  });
});
