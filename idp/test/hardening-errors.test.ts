/**
 * An unexpected failure behind any endpoint — here, tables of the database gone — is a 500
 * server_error that tells nothing of the failure. Each endpoint's own error handler answers only
 * the errors it knows (RFC 6749 §5.2 at the token endpoint, RFC 6750 §3 at UserInfo, a redirect
 * or page at the authorization endpoint…) and leaves every other error to the root handler: no
 * Basic or Bearer challenge, no redirect to the client, never a stack trace.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, signInAndRedeem } from './support/browser.js';
import { sql, useIssuer } from './support/fixture.js';
import { errorCode } from './support/pages.js';

const { idp, fx } = useIssuer();
let accessToken: string;

beforeAll(async () => {
  const { tokens } = await signInAndRedeem(idp.url, {
    clientId: fx.confidential.id,
    redirectUri: fx.redirectUri,
    auth: fx.confidential,
  });
  accessToken = tokens.access_token as string;
  // Every query of these tables now fails inside the store, as a broken database would.
  for (const table of ['clients', 'users', 'sso_sessions', 'interactions', 'access_tokens'])
    await sql(idp, `alter table ${table} rename to ${table}_gone`);
});

const basic = () => basicAuth(fx.confidential.id, fx.confidential.secret);
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const sameOriginPage = () => ({ accept: 'text/html', origin: new URL(idp.url).origin });

const REQUESTS: Record<string, () => Promise<Response>> = {
  token: () =>
    fetch(`${idp.url}/token`, {
      method: 'POST',
      headers: { ...form, authorization: basic() },
      body: 'grant_type=authorization_code&code=x&redirect_uri=x&code_verifier=x',
    }),
  revocation: () =>
    fetch(`${idp.url}/revoke`, { method: 'POST', headers: { ...form, authorization: basic() }, body: 'token=x' }),
  introspection: () =>
    fetch(`${idp.url}/introspect`, { method: 'POST', headers: { ...form, authorization: basic() }, body: 'token=x' }),
  userinfo: () => fetch(`${idp.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } }),
  authorization: () =>
    fetch(`${idp.url}/authorize?client_id=${fx.confidential.id}&redirect_uri=${encodeURIComponent(fx.redirectUri)}`, {
      headers: { accept: 'text/html' },
      redirect: 'manual',
    }),
  'sign-in': () =>
    fetch(`${idp.url}/sign-in`, {
      method: 'POST',
      headers: { ...form, ...sameOriginPage() },
      body: 'interaction=x&csrf_token=x&email=alice%40example.com&password=x',
      redirect: 'manual',
    }),
  'end-session': () =>
    fetch(`${idp.url}/logout?client_id=${fx.confidential.id}`, {
      headers: { accept: 'text/html' },
      redirect: 'manual',
    }),
  account: () =>
    fetch(`${idp.url}/account/devices/x/end`, {
      method: 'POST',
      headers: { ...form, ...sameOriginPage(), cookie: `tessera_session=${'x'.repeat(43)}` },
      body: 'csrf_token=x',
      redirect: 'manual',
    }),
};

describe('a failure inside the issuer', () => {
  it.each(Object.keys(REQUESTS))('at the %s endpoint is a 500 server_error, in no shape of its own', async (name) => {
    const res = await REQUESTS[name]!();
    expect(res.status).toBe(500);
    expect(await errorCode(res)).toBe('server_error');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(res.headers.get('location')).toBeNull();
  });
});
