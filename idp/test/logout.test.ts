import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryJtiStore, createRemoteKeySet, verifyLogoutToken } from '@tessera/shared';
import { formValue, eventually } from '@tessera/shared/testing';
import { registerClient } from '../src/protocol/registration.js';
import { browserFlow, redeem } from './support/browser.js';
import { countRows, seed, sql, startIssuer, useIssuer } from './support/fixture.js';
import { LogoutReceiver } from './support/logout-receiver.js';

const { idp, fx } = useIssuer({ issuer: { backchannel: { baseDelayMs: 50, maxAttempts: 3 } } });
const rp = new LogoutReceiver();
const postLogout = 'http://127.0.0.1:9/signed-out';

beforeAll(async () => {
  await rp.start();
  await registerClient(
    { store: idp.issuer.ctx.store, clock: idp.clock },
    {
      id: 'rp-with-logout',
      name: 'RP With Logout',
      type: 'confidential',
      party: 'first',
      redirectUris: [fx.redirectUri],
      postLogoutRedirectUris: [postLogout],
      backchannelLogoutUri: rp.url,
      resources: [fx.api.id],
      secret: 'rp-secret-rp-secret-rp-secret-rp-secret',
    },
  );
});
afterAll(() => rp.stop());

const rpClient = { id: 'rp-with-logout', secret: 'rp-secret-rp-secret-rp-secret-rp-secret' };

async function signedIn() {
  const { callback, verifier, jar } = await browserFlow(
    idp.url,
    { clientId: rpClient.id, redirectUri: fx.redirectUri },
    { email: 'alice@example.com' },
  );
  const tokens = await redeem(
    idp.url,
    { code: callback.searchParams.get('code')!, code_verifier: verifier, redirect_uri: fx.redirectUri },
    rpClient,
  );
  return { jar, idToken: tokens.json.id_token as string, accessToken: tokens.json.access_token as string };
}

const logoutUrl = (params: Record<string, string>) => `${idp.url}/logout?${new URLSearchParams(params)}`;

describe('RP-initiated logout', () => {
  it('advertises end_session_endpoint and back-channel logout in discovery', async () => {
    const meta = await (await fetch(`${idp.url}/.well-known/openid-configuration`)).json();
    expect(meta).toMatchObject({
      end_session_endpoint: `${idp.url}/logout`,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
    });
  });

  it('signs out at once with a valid id_token_hint and returns to the registered URI with state', async () => {
    const { jar, idToken } = await signedIn();
    const res = await jar.fetch(
      logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: postLogout, state: 's-1' }),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${postLogout}?state=s-1`);
    // The SSO session is over: prompt=none now answers login_required.
    await expect(
      browserFlow(
        idp.url,
        { clientId: rpClient.id, redirectUri: fx.redirectUri, extra: { prompt: 'none' } },
        null,
        jar,
      ),
    ).resolves.toSatisfy(({ callback }: { callback: URL }) => callback.searchParams.get('error') === 'login_required');
  });

  it('asks for confirmation without an id_token_hint, and signs out on the confirmed POST', async () => {
    const { jar } = await signedIn();
    const page = await jar.fetch(
      logoutUrl({ client_id: rpClient.id, post_logout_redirect_uri: postLogout, state: 's-2' }),
    );
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Sign out');
    const confirm = await jar.fetch(`${idp.url}/logout/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.url },
      body: new URLSearchParams({
        csrf_token: formValue(html, 'csrf_token')!,
        client_id: formValue(html, 'client_id')!,
        post_logout_redirect_uri: formValue(html, 'post_logout_redirect_uri')!,
        state: formValue(html, 'state')!,
      }),
    });
    expect(confirm.status).toBe(303);
    expect(confirm.headers.get('location')).toBe(`${postLogout}?state=s-2`);
  });

  it('refuses a confirmation without the CSRF token and keeps the session', async () => {
    const { jar } = await signedIn();
    const res = await jar.fetch(`${idp.url}/logout/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: idp.url },
      body: new URLSearchParams({ csrf_token: 'forged' }),
    });
    expect(res.status).toBe(403);
    const again = await browserFlow(
      idp.url,
      { clientId: rpClient.id, redirectUri: fx.redirectUri, extra: { prompt: 'none' } },
      null,
      jar,
    );
    expect(again.callback.searchParams.get('code')).toBeTruthy();
  });

  it('never redirects to an unregistered post_logout_redirect_uri (no open redirect)', async () => {
    const { jar, idToken } = await signedIn();
    const res = await jar.fetch(
      logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/' }),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('invalid_request');
  });

  it('refuses an id_token_hint from another issuer', async () => {
    const other = await startIssuer();
    const otherFx = await seed(other);
    const { callback, verifier } = await browserFlow(
      other.url,
      { clientId: otherFx.confidential.id, redirectUri: otherFx.redirectUri },
      { email: 'alice@example.com' },
    );
    const foreign = await redeem(
      other.url,
      { code: callback.searchParams.get('code')!, code_verifier: verifier, redirect_uri: otherFx.redirectUri },
      otherFx.confidential,
    );
    await other.cleanup();
    const { jar } = await signedIn();
    const res = await jar.fetch(
      logoutUrl({ id_token_hint: foreign.json.id_token as string, post_logout_redirect_uri: postLogout }),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });
});

/** Deliveries left by earlier tests must not take the statuses a test scripts for its own. */
const noDeliveryPending = () =>
  eventually(
    async () => (await countRows(idp, 'backchannel_deliveries', 'delivered_at is null and failed_at is null')) === 0,
  );

/** The latest delivery to the test's app, as the issuer recorded it. */
const latestDelivery = async () =>
  (
    await sql(
      idp,
      "select attempts, delivered_at, failed_at from backchannel_deliveries where client_id = 'rp-with-logout' " +
        'order by created_at desc limit 1',
    )
  )[0] as { attempts: number; delivered_at: number | null; failed_at: number | null };

describe('back-channel logout', () => {
  beforeEach(() => noDeliveryPending());

  it('sends a logout token for the ended session to the client that received tokens in it', async () => {
    rp.tokens = [];
    const { jar, idToken } = await signedIn();
    const sid = JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString()).sid as string;
    await jar.fetch(logoutUrl({ id_token_hint: idToken }));
    await eventually(() => rp.tokens.length === 1);
    const keySet = createRemoteKeySet(`${idp.url}/jwks`);
    const { claims, header } = await verifyLogoutToken(rp.tokens[0]!, {
      issuer: idp.url,
      audience: rpClient.id,
      keySet,
      jtiStore: createMemoryJtiStore(),
    });
    expect(header.typ).toBe('logout+jwt');
    expect(claims.sid).toBe(sid);
    expect(claims.sub).toBe(fx.alice.sub);
    expect(claims).not.toHaveProperty('nonce');
  });

  it('retries a failing app with backoff, without delaying the logout', async () => {
    rp.tokens = [];
    rp.statuses = [500, 503];
    const { jar, idToken } = await signedIn();
    const res = await jar.fetch(logoutUrl({ id_token_hint: idToken }));
    expect(res.status).toBe(200);
    // The logout answered before the delivery could succeed: that takes 1 s + 2 s of backoff.
    expect((await latestDelivery()).delivered_at).toBeNull();
    await eventually(() => rp.tokens.length === 1);
    // The app has the token before the issuer records the answer: wait for the recorded outcome.
    await eventually(async () => {
      const { delivered_at, failed_at } = await latestDelivery();
      return delivered_at !== null || failed_at !== null;
    });
    const row = await latestDelivery();
    expect(row.attempts).toBe(3);
    expect(row.delivered_at).not.toBeNull();
  });

  it('gives up after the bounded number of attempts', async () => {
    rp.tokens = [];
    rp.statuses = [500, 500, 500, 500];
    const { jar, idToken } = await signedIn();
    await jar.fetch(logoutUrl({ id_token_hint: idToken }));
    await eventually(async () => (await latestDelivery()).failed_at !== null);
    expect(rp.tokens).toEqual([]);
    rp.statuses = [];
  });
});
