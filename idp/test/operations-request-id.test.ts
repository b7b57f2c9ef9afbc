/**
 * A request id in the `X-Request-Id` response header and in every log line written while the
 * request is served: a trusted proxy's id kept when well-formed, anyone else's replaced.
 */
import { createCookieJarClient, formValue, pkcePair } from '@tessera/shared/testing';
import { describe, expect, it } from 'vitest';
import { authorizeUrl } from './support/browser.js';
import { capturingLogger } from './support/capturing-logger.js';
import { useIssuer, type RunningIssuer } from './support/fixture.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const requestId = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.headers.get('x-request-id');
};

/** A wrong password posted at the sign-in page, with `headers`: the answer's request id. */
async function failedSignIn(idp: RunningIssuer, clientId: string, headers: Record<string, string>) {
  const jar = createCookieJarClient();
  const step = await jar.follow(
    authorizeUrl(idp.url, { clientId, redirectUri: 'http://127.0.0.1:9/callback', challenge: pkcePair().challenge }),
    { stopWhen: (u) => u.pathname === '/sign-in' },
  );
  const page = await (await jar.fetch(step.location!)).text();
  const res = await jar.fetch(new URL('/sign-in', idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.url, ...headers },
    body: new URLSearchParams({
      interaction: formValue(page, 'interaction') ?? '',
      csrf_token: formValue(page, 'csrf_token') ?? '',
      email: 'alice@example.com',
      password: 'not the password at all',
    }),
  });
  expect(res.status).toBe(401);
  await res.arrayBuffer();
  return res.headers.get('x-request-id')!;
}

describe('request ids, no proxy trusted', () => {
  const logged = capturingLogger();
  const { idp, fx } = useIssuer({ issuer: { log: logged.log } });

  it('gives every answer an id of its own, whatever the client sends', async () => {
    const ids = [
      await requestId(`${idp.url}/jwks`),
      await requestId(`${idp.url}/.well-known/openid-configuration`),
      await requestId(`${idp.url}/healthz`),
      await requestId(`${idp.url}/no-such-page`),
      await requestId(`${idp.url}/healthz`, { 'x-request-id': 'chosen-by-the-client' }),
    ];
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("puts the id in the lines logged while the request is served, and another request's in its own", async () => {
    const [first, second] = await Promise.all([
      failedSignIn(idp, fx.confidential.id, {}),
      failedSignIn(idp, fx.confidential.id, {}),
    ]);
    expect(first).not.toBe(second);
    for (const id of [first, second]) {
      const lines = logged.lines.filter((line) => line.request_id === id);
      expect(lines.map((line) => line.event)).toEqual(['sign_in.failed']);
    }
  });

  it("puts the id in the token endpoint's line about a refused client assertion", async () => {
    const res = await fetch(`${idp.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: fx.confidential.id,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: 'not-a-jwt',
      }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    expect(logged.lines.filter((line) => line.request_id === id).map((line) => line.event)).toEqual([
      'client_auth.assertion_refused',
    ]);
  });
  it('puts the id in the line about the mail a request asked for, though it is written after the answer', async () => {
    const res = await fetch(`${idp.url}/password/forgot`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.url },
      body: new URLSearchParams({ email: 'alice@example.com' }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    await idp.issuer.ctx.mailer.idle();
    expect(logged.lines.filter((line) => line.request_id === id).map((line) => line.event)).toContain('mail.sent');
  });
});

describe('request ids behind a trusted proxy', () => {
  const logged = capturingLogger();
  // The tests reach the issuer from 127.0.0.1: the proxy trusted here.
  const { idp, fx } = useIssuer({ env: { TESSERA_TRUST_PROXY: '127.0.0.1' }, issuer: { log: logged.log } });

  it("keeps the proxy's id, in the header and in the log", async () => {
    const given = 'edge-7f3a9c:01HF8Z6Q/42';
    expect(await failedSignIn(idp, fx.confidential.id, { 'x-request-id': given })).toBe(given);
    expect(logged.lines.filter((line) => line.request_id === given).map((line) => line.event)).toEqual([
      'sign_in.failed',
    ]);
  });

  it.each([
    ['a space', 'two words'],
    ['a quote', 'a"b'],
    ['a brace', '{"forged":true}'],
    ['129 characters', 'a'.repeat(129)],
  ])('replaces an id with %s by one of its own', async (_why, given) => {
    expect(await requestId(`${idp.url}/healthz`, { 'x-request-id': given })).toMatch(UUID);
  });

  it('keeps 128 characters', async () => {
    const given = 'b'.repeat(128);
    expect(await requestId(`${idp.url}/healthz`, { 'x-request-id': given })).toBe(given);
  });
});
