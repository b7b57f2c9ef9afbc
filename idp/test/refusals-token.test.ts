/**
 * Refusals at the token endpoint (RFC 6749 §5.2): JSON errors, never cached, with the exact
 * error code; a refused request changes no stored data.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CookieJarClient } from '@tessera/shared/testing';
import { countRows, useIssuer } from './support/fixture.js';
import { browserFlow, signInAndRedeem, basicAuth, postToken } from './support/browser.js';

const { idp, fx } = useIssuer();
/** A browser with alice's SSO session: later codes need no sign-in. */
let jar: CookieJarClient;

beforeAll(async () => {
  ({ jar } = await signInAndRedeem(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri }));
});

/** A fresh code for `clientId` and its PKCE verifier. */
async function freshCode(clientId: string): Promise<{ code: string; verifier: string }> {
  const { callback, verifier } = await browserFlow(idp.url, { clientId, redirectUri: fx.redirectUri }, null, jar);
  return { code: callback.searchParams.get('code')!, verifier };
}

/** POSTs a form to /token. */
const token = (body: URLSearchParams | Record<string, string>, headers: Record<string, string> = {}) =>
  postToken(idp.url, body, headers);

/**
 * The authorization_code redemption the public client sends for `code`, with `change` applied on top
 * (a parameter changed to undefined is left out).
 */
function redemption(
  code: string,
  verifier: string,
  change: Record<string, string | undefined> = {},
): Record<string, string> {
  const body = {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: fx.redirectUri,
    client_id: fx.publicClient.id,
    ...change,
  };
  return Object.fromEntries(Object.entries(body).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** Asserts an RFC 6749 §5.2 error response. */
function expectError(res: Awaited<ReturnType<typeof token>>, status: number, error: string): void {
  expect({ status: res.status, error: res.json.error }).toEqual({ status, error });
  expect(typeof res.json.error_description).toBe('string');
  expect(res.json).not.toHaveProperty('access_token');
  expect(res.headers.get('cache-control')).toBe('no-store');
}

describe('the authorization_code grant refuses', () => {
  it('a wrong code_verifier as invalid_grant, creating no grant', async () => {
    const { code } = await freshCode(fx.publicClient.id);
    const grants = await countRows(idp, 'grants');
    expectError(await token(redemption(code, 'W'.repeat(43))), 400, 'invalid_grant');
    expect(await countRows(idp, 'grants')).toBe(grants);
  });

  it('a replayed code and revokes the tokens of its first use (RFC 6749 §4.1.2)', async () => {
    const { code, verifier } = await freshCode(fx.publicClient.id);
    const body = redemption(code, verifier);
    const first = await token(body);
    expect(first.status).toBe(200);
    const accessToken = first.json.access_token as string;
    expect(
      (await fetch(new URL('/userinfo', idp.url), { headers: { authorization: `Bearer ${accessToken}` } })).status,
    ).toBe(200);

    const revokedBefore = await countRows(idp, 'grants', 'revoked_at is not null');
    expectError(await token(body), 400, 'invalid_grant');

    const info = await fetch(new URL('/userinfo', idp.url), { headers: { authorization: `Bearer ${accessToken}` } });
    expect(info.status).toBe(401);
    expect(((await info.json()) as { error: string }).error).toBe('invalid_token');
    expect(info.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await countRows(idp, 'grants', 'revoked_at is not null')).toBe(revokedBefore + 1);
  });

  it('all but one of two concurrent redemptions of a code', async () => {
    const { code, verifier } = await freshCode(fx.publicClient.id);
    const body = redemption(code, verifier);
    const results = await Promise.all([token(body), token(body)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
    expect(results.find((r) => r.status === 400)!.json.error).toBe('invalid_grant');
  });

  it('a code redeemed after its 60 s lifetime as invalid_grant', async () => {
    const { code, verifier } = await freshCode(fx.publicClient.id);
    idp.clock.advance(61);
    expectError(await token(redemption(code, verifier)), 400, 'invalid_grant');
  });

  // Each case: a fresh code for `issuedTo`, redeemed by the public client with `change` applied to its request.
  it.each([
    {
      refusal: 'a code issued to another client as invalid_grant (RFC 6749 §4.1.3)',
      issuedTo: 'confidential' as const,
      change: {},
      error: 'invalid_grant',
    },
    {
      refusal: 'a redirect_uri other than the one authorized as invalid_grant',
      change: { redirect_uri: 'https://app.example.test/callback' },
      error: 'invalid_grant',
    },
    {
      refusal: 'a public client sending no code_verifier as invalid_request',
      change: { code_verifier: undefined },
      error: 'invalid_request',
    },
    {
      refusal: 'a missing redirect_uri as invalid_request',
      change: { redirect_uri: undefined },
      error: 'invalid_request',
    },
  ])('$refusal', async ({ issuedTo = 'publicClient' as const, change, error }) => {
    const { code, verifier } = await freshCode(fx[issuedTo].id);
    expectError(await token(redemption(code, verifier, change)), 400, error);
  });

  it('a resource other than the one authorized as invalid_target (RFC 8707 §2.2)', async () => {
    const { code, verifier } = await freshCode(fx.publicClient.id);
    expectError(await token(redemption(code, verifier, { resource: fx.other.id })), 400, 'invalid_target');
  });

  it('a public client’s code redeemed by a confidential client as invalid_grant', async () => {
    const { code, verifier } = await freshCode(fx.publicClient.id);
    const res = await token(
      { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: fx.redirectUri },
      { authorization: basicAuth(fx.confidential.id, fx.confidential.secret) },
    );
    expectError(res, 400, 'invalid_grant');
  });

  it('an unknown code as invalid_grant', async () => {
    expectError(await token(redemption('A'.repeat(43), 'B'.repeat(43))), 400, 'invalid_grant');
  });
});

describe('client authentication at the token endpoint refuses', () => {
  it('a wrong client secret with 401 invalid_client and a Basic challenge, leaving the code unused', async () => {
    const { code, verifier } = await freshCode(fx.confidential.id);
    const grants = await countRows(idp, 'grants');
    const tokens = await countRows(idp, 'access_tokens');
    const body = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: fx.redirectUri };
    const res = await token(body, { authorization: basicAuth(fx.confidential.id, 'not-the-secret') });
    expectError(res, 401, 'invalid_client');
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="tessera"/);
    expect(await countRows(idp, 'grants')).toBe(grants);
    expect(await countRows(idp, 'access_tokens')).toBe(tokens);
    expect(await countRows(idp, 'authorization_codes', 'consumed_at is not null')).toBe(await countRows(idp, 'grants'));
    // The refusal consumed nothing: the rightful client can still redeem the code.
    expect((await token(body, { authorization: basicAuth(fx.confidential.id, fx.confidential.secret) })).status).toBe(
      200,
    );
  });

  it('a wrong client secret sent with client_secret_post as 401 invalid_client', async () => {
    const res = await token(
      redemption('x'.repeat(43), 'y'.repeat(43), { client_id: fx.confidential.id, client_secret: 'wrong' }),
    );
    expectError(res, 401, 'invalid_client');
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('an unknown client as 401 invalid_client', async () => {
    const res = await token(
      { grant_type: 'authorization_code', code: 'x'.repeat(43) },
      { authorization: basicAuth('no-such-client', 'secret') },
    );
    expectError(res, 401, 'invalid_client');
  });

  it('a confidential client that does not authenticate as 401 invalid_client', async () => {
    const { code, verifier } = await freshCode(fx.confidential.id);
    expectError(await token(redemption(code, verifier, { client_id: fx.confidential.id })), 401, 'invalid_client');
  });

  it('a request with no client identification at all as 401 invalid_client', async () => {
    expectError(await token({ grant_type: 'authorization_code', code: 'x'.repeat(43) }), 401, 'invalid_client');
  });

  it('a public client that sends a secret as 401 invalid_client', async () => {
    const res = await token({
      grant_type: 'authorization_code',
      code: 'x'.repeat(43),
      client_id: fx.publicClient.id,
      client_secret: 'anything',
    });
    expectError(res, 401, 'invalid_client');
  });

  it('a malformed Authorization header as 401 invalid_client', async () => {
    expectError(
      await token({ grant_type: 'authorization_code' }, { authorization: 'Basic !!!' }),
      401,
      'invalid_client',
    );
  });

  it('two authentication methods in one request as invalid_request (RFC 6749 §2.3)', async () => {
    const res = await token(
      { grant_type: 'authorization_code', code: 'x'.repeat(43), client_secret: fx.confidential.secret },
      { authorization: basicAuth(fx.confidential.id, fx.confidential.secret) },
    );
    expectError(res, 400, 'invalid_request');
  });
});

describe('the token endpoint refuses malformed requests', () => {
  const auth = () => ({ authorization: basicAuth(fx.confidential.id, fx.confidential.secret) });

  it('grant_type=password as unsupported_grant_type', async () => {
    expectError(
      await token({ grant_type: 'password', username: 'alice@example.com', password: 'x' }, auth()),
      400,
      'unsupported_grant_type',
    );
  });

  it('grant_type=jwt-bearer (RFC 7523 §2.1, not offered) as unsupported_grant_type', async () => {
    const assertion = { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: 'a.b.c' };
    expectError(await token(assertion, auth()), 400, 'unsupported_grant_type');
  });

  it('grant_type=client_credentials from a client not registered for it as unauthorized_client', async () => {
    expectError(await token({ grant_type: 'client_credentials' }, auth()), 400, 'unauthorized_client');
  });

  it('a missing grant_type as invalid_request', async () => {
    expectError(await token({ code: 'x'.repeat(43) }, auth()), 400, 'invalid_request');
  });

  it('a repeated parameter as invalid_request (RFC 6749 §3.1)', async () => {
    const { code, verifier } = await freshCode(fx.confidential.id);
    // Basic authentication names the client, so the body leaves client_id out.
    const body = new URLSearchParams(redemption(code, verifier, { client_id: undefined }));
    body.append('code', code);
    const grants = await countRows(idp, 'grants');
    expectError(await token(body, auth()), 400, 'invalid_request');
    expect(await countRows(idp, 'grants')).toBe(grants);
  });

  it('a body that is not application/x-www-form-urlencoded as invalid_request', async () => {
    const res = await fetch(new URL('/token', idp.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth() },
      body: JSON.stringify({ grant_type: 'authorization_code' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  });
});
