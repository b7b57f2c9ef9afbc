/**
 * FedCM at the issuer (docs/architecture.md, "FedCM"), over real HTTP as the browser calls it: the
 * well-known file, config, accounts, client metadata, assertion (a code redeemed at the token
 * endpoint with no redirect URI) and disconnect; and every refusal with its exact error, changing
 * no stored data (a digest of every durable table before and after).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createCookieJarClient, pkcePair, type CookieJarClient } from '@tessera/shared/testing';
import { RegistrationError, registerClient } from '../src/protocol/registration.js';
import { authorizeQuery, browserFlow, getAuthorize, locationOf, postToken, redeem } from './support/browser.js';
import { tableDigests } from './support/db-digest.js';
import { registerPerson, registration, sql, storedJson, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();

/** The app's page origin, and another that no client registered. */
const APP = 'http://app.localhost:4001';
const PARTNER = 'https://partner.example.test';
const STRANGER = 'https://evil.example.test';
/** A public first-party client, a third-party one with policy and terms, one requiring a second factor. */
const SPA = 'fedcm-spa';
const THIRD = 'fedcm-partner';
const MFA = 'fedcm-mfa';

beforeAll(async () => {
  const deps = registration(idp);
  const common = { redirectUris: [fx.redirectUri], resources: [fx.api.id], grantTypes: ['refresh_token'] };
  await registerClient(deps, {
    ...common,
    id: SPA,
    name: 'FedCM SPA',
    type: 'public',
    party: 'first',
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    fedcmOrigins: [APP],
  });
  await registerClient(deps, {
    ...common,
    id: THIRD,
    name: 'FedCM Partner',
    type: 'public',
    party: 'third',
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    fedcmOrigins: [PARTNER],
    policyUri: 'https://partner.example.test/privacy',
    tosUri: 'https://partner.example.test/terms',
  });
  await registerClient(deps, {
    ...common,
    id: MFA,
    name: 'FedCM MFA',
    type: 'public',
    party: 'first',
    fedcmOrigins: [APP],
    requireMfa: true,
  });
});

let people = 0;
/** A new person signed in at the issuer in a browser of their own (through the seed's first-party app). */
async function signedInPerson(): Promise<{ jar: CookieJarClient; sub: string; email: string }> {
  const email = `fedcm-${++people}@example.com`;
  const user = await registerPerson(idp, email, `Fedcm Person${people}`);
  const { jar } = await browserFlow(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri }, { email });
  return { jar, sub: user.sub, email };
}

const WEBIDENTITY = { 'sec-fetch-dest': 'webidentity' };

/** GET of an issuer path through `jar` (or no cookies), as the browser's FedCM fetches send it. */
function fedcmGet(path: string, jar?: CookieJarClient, headers: Record<string, string> = WEBIDENTITY) {
  const url = new URL(path, idp.url);
  return jar ? jar.fetch(url, { headers }) : fetch(url, { headers, redirect: 'manual' });
}

/** A credentialed form POST to an issuer path, from `origin`'s page, by default as a FedCM fetch. */
function fedcmPost(
  path: string,
  jar: CookieJarClient,
  form: Record<string, string>,
  headers: Record<string, string> = { ...WEBIDENTITY, origin: APP },
) {
  return jar.fetch(new URL(path, idp.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
}

/** The `params` JSON an app passes to navigator.credentials.get, with `over` on top. */
function paramsJson(challenge: string, over: Record<string, unknown> = {}): string {
  return JSON.stringify({ nonce: 'fedcm-nonce-1', code_challenge: challenge, code_challenge_method: 'S256', ...over });
}

/** An assertion request's form for `sub` at `clientId`. */
function assertionForm(clientId: string, sub: string, challenge: string, over: Record<string, string> = {}) {
  return {
    client_id: clientId,
    account_id: sub,
    params: paramsJson(challenge),
    disclosure_text_shown: 'false',
    is_auto_selected: 'false',
    ...over,
  };
}

/** Asks for a code for `sub` at the SPA from APP; returns the code and its verifier. */
async function fedcmCode(
  jar: CookieJarClient,
  sub: string,
  clientId = SPA,
): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkcePair();
  const res = await fedcmPost('/fedcm/assertion', jar, assertionForm(clientId, sub, challenge));
  const body = (await res.json()) as { token?: string };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return { code: body.token!, verifier };
}

const claimsOf = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

async function approvedClients(jar: CookieJarClient): Promise<string[]> {
  const res = await fedcmGet('/fedcm/accounts', jar);
  expect(res.status).toBe(200);
  const { accounts } = (await res.json()) as { accounts: { approved_clients: string[] }[] };
  return accounts[0]!.approved_clients;
}

/** Sends a request that must be refused with `status` and `error`, changing no durable table. */
async function expectRefusal(send: () => Promise<Response>, status: number, error: string): Promise<Response> {
  const before = await tableDigests(idp.issuer.ctx.store.database);
  const res = await send();
  const body = (await res.json()) as { error: unknown };
  const code =
    typeof body.error === 'object' && body.error !== null ? (body.error as { code: string }).code : body.error;
  expect({ status: res.status, error: code }).toEqual({ status, error });
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(await tableDigests(idp.issuer.ctx.store.database)).toEqual(before);
  return res;
}

describe('FedCM documents', () => {
  it('publishes the well-known file, the config and fedcm_config_uri in discovery, without cookies', async () => {
    const wellKnown = await fedcmGet('/.well-known/web-identity');
    expect(wellKnown.status).toBe(200);
    expect(await wellKnown.json()).toEqual({
      provider_urls: [`${idp.url}/fedcm/config.json`],
      accounts_endpoint: `${idp.url}/fedcm/accounts`,
      login_url: `${idp.url}/fedcm/sign-in`,
    });
    const config = await fedcmGet('/fedcm/config.json');
    expect(config.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await config.json()).toEqual({
      accounts_endpoint: `${idp.url}/fedcm/accounts`,
      client_metadata_endpoint: `${idp.url}/fedcm/client-metadata`,
      id_assertion_endpoint: `${idp.url}/fedcm/assertion`,
      disconnect_endpoint: `${idp.url}/fedcm/disconnect`,
      login_url: `${idp.url}/fedcm/sign-in`,
      branding: {
        background_color: '#0f766e',
        color: '#ffffff',
        icons: [{ url: `${idp.url}/fedcm/icon.png`, size: 96 }],
        name: 'Tessera',
      },
    });
    const icon = await fetch(`${idp.url}/fedcm/icon.png`);
    expect({ status: icon.status, type: icon.headers.get('content-type') }).toEqual({
      status: 200,
      type: 'image/png',
    });
    const discovery = (await (await fetch(`${idp.url}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(discovery.fedcm_config_uri).toBe(`${idp.url}/fedcm/config.json`);
  });

  it('answers client metadata for a FedCM client only: its policy and terms, or nothing to show', async () => {
    const partner = await fedcmGet(`/fedcm/client-metadata?client_id=${THIRD}`, undefined, { origin: PARTNER });
    expect(partner.status).toBe(200);
    expect(partner.headers.get('cache-control')).toBe('no-store');
    expect(await partner.json()).toEqual({
      privacy_policy_url: 'https://partner.example.test/privacy',
      terms_of_service_url: 'https://partner.example.test/terms',
    });
    expect(await (await fedcmGet(`/fedcm/client-metadata?client_id=${SPA}`)).json()).toEqual({});
    // A client registered without FedCM origins, an unknown one, none: the same answer.
    for (const query of [`?client_id=${fx.confidential.id}`, '?client_id=nobody', ''])
      await expectRefusal(() => fedcmGet(`/fedcm/client-metadata${query}`), 404, 'invalid_client');
  });
});

describe('a FedCM sign-in', () => {
  it('lists the account, issues a code to the registered origin, which the token endpoint redeems', async () => {
    const { jar, sub, email } = await signedInPerson();
    const accounts = await fedcmGet('/fedcm/accounts', jar);
    expect(accounts.status).toBe(200);
    expect(accounts.headers.get('cache-control')).toBe('no-store');
    const listed = (await accounts.json()) as { accounts: { picture: string }[] };
    expect(listed).toEqual({
      accounts: [
        {
          id: sub,
          name: expect.stringMatching(/^Fedcm Person\d+$/),
          given_name: 'Fedcm',
          email,
          picture: expect.stringMatching(new RegExp(`^${idp.url}/fedcm/pictures/FP-\\d{1,3}\\.png$`)),
          login_hints: [email],
          approved_clients: [],
        },
      ],
    });
    // The picture is drawn by the issuer, fetched by the browser without cookies.
    const picture = await fetch(listed.accounts[0]!.picture);
    expect({ status: picture.status, type: picture.headers.get('content-type') }).toEqual({
      status: 200,
      type: 'image/png',
    });

    const { verifier, challenge } = pkcePair();
    const res = await fedcmPost('/fedcm/assertion', jar, assertionForm(SPA, sub, challenge));
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('vary')).toMatch(/Origin/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { token: code } = (await res.json()) as { token: string };
    const [stored] = await sql(idp, 'select redirect_uri, origin from authorization_codes where client_id = ?', SPA);
    expect(stored).toEqual({ redirect_uri: '', origin: APP });

    // RFC 6749 §4.1.3: no redirect_uri, since the request had none.
    const tokens = await redeem(idp.url, { code, code_verifier: verifier, client_id: SPA });
    expect(tokens.status, JSON.stringify(tokens.json)).toBe(200);
    const idToken = claimsOf(tokens.json.id_token as string);
    const [session] = await sql(idp, 'select id from sso_sessions where user_id = ? and ended_at is null', sub);
    expect(idToken).toMatchObject({ sub, aud: SPA, nonce: 'fedcm-nonce-1', sid: session!.id });
    const refreshed = await postToken(idp.url, {
      grant_type: 'refresh_token',
      refresh_token: tokens.json.refresh_token as string,
      client_id: SPA,
    });
    expect(refreshed.status, JSON.stringify(refreshed.json)).toBe(200);
    expect(claimsOf(refreshed.json.access_token as string)).toMatchObject({ sub, client_id: SPA, sid: session!.id });

    // The connection is remembered: the next dialog shows the person as already signed up.
    expect(await approvedClients(jar)).toEqual([SPA]);
    const [issued] = await sql(
      idp,
      "select client_id, detail from audit_events where type = 'fedcm.assertion_issued' and subject = ?",
      sub,
    );
    expect(issued?.client_id).toBe(SPA);
    expect(storedJson(issued?.detail)).toEqual({ origin: APP, scope: 'openid profile email' });
  });

  it('is registered for clients that sign people in by redirect too, and for exact origins only', async () => {
    const machine = { name: 'No redirect', type: 'confidential' as const, party: 'first' as const, redirectUris: [] };
    await expect(
      registerClient(registration(idp), { ...machine, grantTypes: ['client_credentials'], fedcmOrigins: [APP] }),
    ).rejects.toThrow(new RegistrationError('a FedCM client signs people in: it needs a redirect URI too'));
    await expect(
      registerClient(registration(idp), { ...machine, redirectUris: [fx.redirectUri], fedcmOrigins: [`${APP}/path`] }),
    ).rejects.toThrow(RegistrationError);
  });

  it('lets a third-party client in on the dialog’s disclosure, for openid profile email only', async () => {
    const { jar, sub } = await signedInPerson();
    const { challenge } = pkcePair();
    const from = { ...WEBIDENTITY, origin: PARTNER };
    const refused = await expectRefusal(
      () => fedcmPost('/fedcm/assertion', jar, assertionForm(THIRD, sub, challenge), from),
      403,
      'consent_required',
    );
    // A refusal to a registered origin may be read by its page.
    expect(refused.headers.get('access-control-allow-origin')).toBe(PARTNER);
    const offline = assertionForm(THIRD, sub, challenge, {
      disclosure_text_shown: 'true',
      params: paramsJson(challenge, { scope: 'openid offline_access' }),
    });
    await expectRefusal(() => fedcmPost('/fedcm/assertion', jar, offline, from), 403, 'consent_required');
    const shown = assertionForm(THIRD, sub, challenge, { disclosure_text_shown: 'true' });
    expect((await fedcmPost('/fedcm/assertion', jar, shown, from)).status).toBe(200);
    expect(await sql(idp, 'select scopes from consents where user_id = ? and client_id = ?', sub, THIRD)).toHaveLength(
      1,
    );
    // Remembered now: no disclosure needed for those scopes again.
    expect((await fedcmPost('/fedcm/assertion', jar, assertionForm(THIRD, sub, challenge), from)).status).toBe(200);
  });

  it('forgets the connection at disconnect: approved_clients drops the client', async () => {
    const { jar, sub, email } = await signedInPerson();
    await fedcmCode(jar, sub);
    expect(await approvedClients(jar)).toEqual([SPA]);
    const wrong = await expectRefusal(
      () => fedcmPost('/fedcm/disconnect', jar, { client_id: SPA, account_hint: 'someone-else@example.com' }),
      403,
      'access_denied',
    );
    expect(wrong.headers.get('access-control-allow-origin')).toBe(APP);
    await expectRefusal(
      () => fedcmPost('/fedcm/disconnect', jar, { client_id: SPA, account_hint: sub }, { origin: APP }),
      400,
      'invalid_request',
    );
    await expectRefusal(
      () =>
        fedcmPost(
          '/fedcm/disconnect',
          jar,
          { client_id: SPA, account_hint: sub },
          { ...WEBIDENTITY, origin: STRANGER },
        ),
      403,
      'unauthorized_client',
    );
    const res = await fedcmPost('/fedcm/disconnect', jar, { client_id: SPA, account_hint: email.toUpperCase() });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(await res.json()).toEqual({ account_id: sub });
    expect(await approvedClients(jar)).toEqual([]);
    const [event] = await sql(idp, "select subject, client_id from audit_events where type = 'fedcm.disconnected'");
    expect(event).toEqual({ subject: sub, client_id: SPA });
  });
});

describe('FedCM refuses, changing nothing', () => {
  let jar: CookieJarClient;
  let sub: string;
  beforeAll(async () => {
    ({ jar, sub } = await signedInPerson());
  });

  it('an assertion from an origin the client did not register (unauthorized_client, no CORS)', async () => {
    const { challenge } = pkcePair();
    for (const origin of [STRANGER, PARTNER, `${APP}/`, 'null']) {
      const res = await expectRefusal(
        () => fedcmPost('/fedcm/assertion', jar, assertionForm(SPA, sub, challenge), { ...WEBIDENTITY, origin }),
        403,
        'unauthorized_client',
      );
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    }
    const [refused] = await sql(
      idp,
      "select client_id, detail from audit_events where type = 'fedcm.assertion_refused' order by id desc limit 1",
    );
    expect({ client: refused?.client_id, detail: storedJson(refused?.detail) }).toEqual({
      client: null,
      detail: { reason: 'unauthorized_client' },
    });
    // No Origin at all; a client without FedCM origins; an unknown client.
    await expectRefusal(
      () => fedcmPost('/fedcm/assertion', jar, assertionForm(SPA, sub, challenge), WEBIDENTITY),
      403,
      'unauthorized_client',
    );
    for (const clientId of [fx.publicClient.id, 'nobody'])
      await expectRefusal(
        () => fedcmPost('/fedcm/assertion', jar, assertionForm(clientId, sub, challenge)),
        403,
        'unauthorized_client',
      );
  });

  it('an assertion or an accounts request that is not a FedCM fetch (Sec-Fetch-Dest)', async () => {
    const { challenge } = pkcePair();
    for (const dest of [{}, { 'sec-fetch-dest': 'empty' }, { 'sec-fetch-dest': 'document' }]) {
      const res = await expectRefusal(
        () => fedcmPost('/fedcm/assertion', jar, assertionForm(SPA, sub, challenge), { ...dest, origin: APP }),
        400,
        'invalid_request',
      );
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      await expectRefusal(() => fedcmGet('/fedcm/accounts', jar, dest), 400, 'invalid_request');
    }
  });

  it('accounts and assertions with no session, or with only the Lax session cookie (login_required)', async () => {
    const { challenge } = pkcePair();
    const nobody = createCookieJarClient();
    const res = await expectRefusal(() => fedcmGet('/fedcm/accounts', nobody), 401, 'login_required');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    // The session cookie alone (what a browser sends cross-site never; here sent on purpose).
    const laxOnly = createCookieJarClient();
    laxOnly.setCookie(idp.url, 'tessera_session', jar.cookie(idp.url, 'tessera_session')!);
    await expectRefusal(() => fedcmGet('/fedcm/accounts', laxOnly), 401, 'login_required');
    // The session cookie's value under the FedCM cookie's name is not a FedCM cookie either.
    const swapped = createCookieJarClient();
    swapped.setCookie(idp.url, 'tessera_fedcm', jar.cookie(idp.url, 'tessera_session')!);
    await expectRefusal(() => fedcmGet('/fedcm/accounts', swapped), 401, 'login_required');
    for (const browser of [nobody, laxOnly, swapped]) {
      const refused = await expectRefusal(
        () => fedcmPost('/fedcm/assertion', browser, assertionForm(SPA, sub, challenge)),
        401,
        'login_required',
      );
      expect(refused.headers.get('access-control-allow-origin')).toBe(APP);
    }
  });

  it('an assertion for an account that is not the session’s (access_denied)', async () => {
    const other = await signedInPerson();
    const { challenge } = pkcePair();
    for (const accountId of [other.sub, '', 'x'.repeat(300)])
      await expectRefusal(
        () => fedcmPost('/fedcm/assertion', jar, assertionForm(SPA, sub, challenge, { account_id: accountId })),
        403,
        'access_denied',
      );
  });

  it('an assertion whose params are malformed, or ask for what the client may not have', async () => {
    const { challenge } = pkcePair();
    const cases: [string, string][] = [
      ['not json', 'invalid_request'],
      ['[]', 'invalid_request'],
      [JSON.stringify({ code_challenge: challenge, code_challenge_method: 'S256' }), 'invalid_request'],
      [paramsJson(challenge, { nonce: 'n'.repeat(256) }), 'invalid_request'],
      [paramsJson(challenge, { nonce: 7 }), 'invalid_request'],
      [paramsJson('short'), 'invalid_request'],
      [paramsJson(challenge, { code_challenge_method: 'plain' }), 'invalid_request'],
      [paramsJson(challenge, { scope: 'profile email' }), 'invalid_scope'],
      [paramsJson(challenge, { scope: 'openid admin' }), 'invalid_scope'],
      [paramsJson(challenge, { resource: 'https://other-api.example.test' }), 'invalid_target'],
      [paramsJson(challenge, { resource: 'not a uri' }), 'invalid_target'],
    ];
    for (const [params, error] of cases)
      await expectRefusal(
        () => fedcmPost('/fedcm/assertion', jar, assertionForm(SPA, sub, challenge, { params })),
        400,
        error,
      );
    await expectRefusal(
      () =>
        jar.fetch(new URL('/fedcm/assertion', idp.url), {
          method: 'POST',
          headers: { ...WEBIDENTITY, origin: APP, 'content-type': 'application/json' },
          body: JSON.stringify(assertionForm(SPA, sub, challenge)),
        }),
      400,
      'invalid_request',
    );
  });

  it('an assertion for a client that requires a second factor the session lacks (interaction_required)', async () => {
    const { challenge } = pkcePair();
    await expectRefusal(
      () => fedcmPost('/fedcm/assertion', jar, assertionForm(MFA, sub, challenge)),
      403,
      'interaction_required',
    );
  });

  it('a FedCM code redeemed by another client, without its verifier or with a wrong one', async () => {
    const { code, verifier } = await fedcmCode(jar, sub);
    const send = (body: Record<string, string>) => () =>
      postToken(idp.url, { grant_type: 'authorization_code', code, ...body }).then(
        (r) => new Response(JSON.stringify(r.json), { status: r.status, headers: r.headers }),
      );
    await expectRefusal(send({ code_verifier: verifier, client_id: fx.publicClient.id }), 400, 'invalid_grant');
    await expectRefusal(send({ client_id: SPA }), 400, 'invalid_request');
    await expectRefusal(send({ code_verifier: pkcePair().verifier, client_id: SPA }), 400, 'invalid_grant');
    // A redirect_uri was no part of the request: one sent is not this code's.
    await expectRefusal(
      send({ code_verifier: verifier, client_id: SPA, redirect_uri: fx.redirectUri }),
      400,
      'invalid_grant',
    );
    // None of that used the code up.
    expect((await redeem(idp.url, { code, code_verifier: verifier, client_id: SPA })).status).toBe(200);
  });

  it('a FedCM code redeemed twice: invalid_grant, and the first tokens are revoked', async () => {
    const { code, verifier } = await fedcmCode(jar, sub);
    const first = await redeem(idp.url, { code, code_verifier: verifier, client_id: SPA });
    expect(first.status).toBe(200);
    const second = await redeem(idp.url, { code, code_verifier: verifier, client_id: SPA });
    expect({ status: second.status, error: second.json.error }).toEqual({ status: 400, error: 'invalid_grant' });
    const refresh = await postToken(idp.url, {
      grant_type: 'refresh_token',
      refresh_token: first.json.refresh_token as string,
      client_id: SPA,
    });
    expect({ status: refresh.status, error: refresh.json.error }).toEqual({ status: 400, error: 'invalid_grant' });
    const introspected = await fetch(new URL('/userinfo', idp.url), {
      headers: { authorization: `Bearer ${first.json.access_token as string}` },
    });
    expect(introspected.status).toBe(401);
  });

  it('an ordinary code still needs its redirect_uri', async () => {
    const { callback, verifier } = await browserFlow(
      idp.url,
      { clientId: SPA, redirectUri: fx.redirectUri },
      null,
      jar,
    );
    const code = callback.searchParams.get('code')!;
    const missing = await redeem(idp.url, { code, code_verifier: verifier, client_id: SPA });
    expect({ status: missing.status, error: missing.json.error }).toEqual({ status: 400, error: 'invalid_request' });
    expect(
      (await redeem(idp.url, { code, code_verifier: verifier, client_id: SPA, redirect_uri: fx.redirectUri })).status,
    ).toBe(200);
  });

  it('the FedCM cookie at any other route: no session (prompt=none, the account page)', async () => {
    const fedcmOnly = createCookieJarClient();
    fedcmOnly.setCookie(idp.url, 'tessera_fedcm', jar.cookie(idp.url, 'tessera_fedcm')!);
    expect(await approvedClients(fedcmOnly)).toEqual(expect.any(Array));
    const none = await getAuthorize(
      idp.url,
      authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }, { prompt: 'none' }),
      fedcmOnly,
    );
    expect(locationOf(none, idp.url)?.searchParams.get('error')).toBe('login_required');
    const account = await fedcmOnly.fetch(new URL('/account', idp.url));
    expect(account.status).toBe(303);
    expect(locationOf(account, idp.url)?.pathname).toBe('/sign-in');
    // Its value under the session cookie's name names no session either.
    const renamed = createCookieJarClient();
    renamed.setCookie(idp.url, 'tessera_session', jar.cookie(idp.url, 'tessera_fedcm')!);
    const again = await getAuthorize(
      idp.url,
      authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }, { prompt: 'none' }),
      renamed,
    );
    expect(locationOf(again, idp.url)?.searchParams.get('error')).toBe('login_required');
  });
});
