/** Refresh tokens (RFC 6749 §6), rotation and reuse detection (RFC 9700 §4.14.2). */
import { beforeAll, describe, expect, it } from 'vitest';
import { registerClient } from '../src/protocol/registration.js';
import type { CookieJarClient } from '@tessera/shared/testing';
import { signInAndRedeem, type AuthorizeOptions } from './support/browser.js';
import { seed, sql, startIssuer, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();
const web = { id: 'refreshing-web', secret: 'refreshing-web-secret-refreshing-web-secret' };
const spa = { id: 'refreshing-spa' };

beforeAll(async () => {
  const deps = { store: idp.issuer.ctx.store, clock: idp.clock };
  const base = {
    redirectUris: [fx.redirectUri],
    resources: [fx.api.id, fx.other.id],
    grantTypes: ['refresh_token'],
    party: 'first' as const,
  };
  await registerClient(deps, { ...base, id: web.id, name: 'Refreshing Web', type: 'confidential', secret: web.secret });
  await registerClient(deps, { ...base, id: spa.id, name: 'Refreshing SPA', type: 'public' });
});

async function refresh(body: Record<string, string>, auth?: { id: string; secret: string }) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.id}:${auth.secret}`).toString('base64')}`;
  const res = await fetch(`${idp.url}/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ grant_type: 'refresh_token', ...body }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, string>, headers: res.headers };
}

const rows = (text: string, ...params: unknown[]) => sql(idp, text, ...params);

const userinfoStatus = async (accessToken: string) =>
  (await fetch(`${idp.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } })).status;

/** Alice signs in to the web client, which redeems the code with its secret; `more` adds to the request. */
const webTokens = (more: Pick<AuthorizeOptions, 'scope' | 'extra'> = {}, jar?: CookieJarClient) =>
  signInAndRedeem(idp.url, { clientId: web.id, redirectUri: fx.redirectUri, auth: web, ...more }, jar);

describe('refresh tokens', () => {
  it('issues an opaque 256-bit refresh token only to clients allowed the grant, storing only its digest', async () => {
    const { tokens } = await webTokens();
    const rt = tokens.refresh_token as string;
    expect(rt).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(await rows('select * from refresh_tokens'))).not.toContain(rt);
    const plain = await signInAndRedeem(idp.url, {
      clientId: fx.confidential.id,
      redirectUri: fx.redirectUri,
      auth: fx.confidential,
    });
    expect(plain.tokens.refresh_token).toBeUndefined();
  });

  it('rotates on every use: a new refresh token and a new access token', async () => {
    const { tokens } = await webTokens();
    const first = await refresh({ refresh_token: tokens.refresh_token as string }, web);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.json.refresh_token).not.toBe(tokens.refresh_token);
    expect(first.json.access_token).not.toBe(tokens.access_token);
    expect(first.json.id_token).toBeTruthy();
    expect(await userinfoStatus(first.json.access_token!)).toBe(200);
    const second = await refresh({ refresh_token: first.json.refresh_token! }, web);
    expect(second.status).toBe(200);
  });

  it('revokes the whole family when a rotated refresh token is used again, and audits it', async () => {
    const { tokens } = await webTokens();
    const old = tokens.refresh_token as string;
    const rotated = await refresh({ refresh_token: old }, web);
    const reuse = await refresh({ refresh_token: old }, web);
    expect(reuse.status).toBe(400);
    expect(reuse.json.error).toBe('invalid_grant');
    // The legitimate holder's newer token and access token die with the family.
    const next = await refresh({ refresh_token: rotated.json.refresh_token! }, web);
    expect(next.json.error).toBe('invalid_grant');
    expect(await userinfoStatus(rotated.json.access_token!)).toBe(401);
    expect(await userinfoStatus(tokens.access_token as string)).toBe(401);
    const events = await rows("select type, client_id from audit_events where type = 'refresh_token.reused'");
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events[0]).toMatchObject({ client_id: web.id });
  });

  it('lets exactly one of two concurrent uses of the same token win, and treats the other as reuse', async () => {
    const { tokens } = await webTokens();
    const results = await Promise.all([
      refresh({ refresh_token: tokens.refresh_token as string }, web),
      refresh({ refresh_token: tokens.refresh_token as string }, web),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
  });

  it('refuses a refresh token presented by another client, without revoking it', async () => {
    const { tokens } = await webTokens();
    const stolen = await refresh({ refresh_token: tokens.refresh_token as string }, fx.thirdParty);
    expect(stolen.status).toBe(400);
    expect(stolen.json.error).toBe('unauthorized_client');
    const other = await refresh({ refresh_token: tokens.refresh_token as string, client_id: spa.id });
    expect(other.json.error).toBe('invalid_grant');
    expect((await refresh({ refresh_token: tokens.refresh_token as string }, web)).status).toBe(200);
  });

  it('serves public clients with client_id and no secret', async () => {
    const { tokens } = await signInAndRedeem(idp.url, { clientId: spa.id, redirectUri: fx.redirectUri });
    const r = await refresh({ refresh_token: tokens.refresh_token as string, client_id: spa.id });
    expect(r.status).toBe(200);
  });

  it('refuses a wider scope and accepts a narrower one', async () => {
    const { tokens } = await webTokens({ scope: 'openid email' });
    const wider = await refresh({ refresh_token: tokens.refresh_token as string, scope: 'openid email profile' }, web);
    expect(wider.json.error).toBe('invalid_scope');
    const narrower = await refresh({ refresh_token: tokens.refresh_token as string, scope: 'openid' }, web);
    expect(narrower.status).toBe(200);
    expect(narrower.json.scope).toBe('openid');
  });

  it('ends with the SSO session unless offline_access was granted', async () => {
    const online = await webTokens();
    const offline = await webTokens({ scope: 'openid offline_access' }, online.jar);
    await online.jar.fetch(
      `${idp.url}/logout?${new URLSearchParams({ id_token_hint: online.tokens.id_token as string })}`,
    );
    expect((await refresh({ refresh_token: online.tokens.refresh_token as string }, web)).json.error).toBe(
      'invalid_grant',
    );
    expect(await userinfoStatus(online.tokens.access_token as string)).toBe(401);
    expect((await refresh({ refresh_token: offline.tokens.refresh_token as string }, web)).status).toBe(200);
  });

  it('expires after the idle lifetime without use', async () => {
    const { tokens } = await webTokens({ scope: 'openid offline_access' });
    idp.clock.advance(idp.issuer.ctx.config.refreshTokenIdleTtl + 1);
    try {
      expect((await refresh({ refresh_token: tokens.refresh_token as string }, web)).json.error).toBe('invalid_grant');
    } finally {
      idp.clock.advance(-(idp.issuer.ctx.config.refreshTokenIdleTtl + 1));
    }
  });

  it('refuses a client not allowed the refresh_token grant', async () => {
    const r = await refresh({ refresh_token: 'x'.repeat(43) }, fx.confidential);
    expect(r.json.error).toBe('unauthorized_client');
  });
});

describe('revocation (RFC 7009)', () => {
  const revoke = (token: string, auth?: { id: string; secret: string }, extra: Record<string, string> = {}) =>
    fetch(`${idp.url}/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(auth ? { authorization: `Basic ${Buffer.from(`${auth.id}:${auth.secret}`).toString('base64')}` } : {}),
      },
      body: new URLSearchParams({ token, ...extra }),
    });

  it('revokes a refresh token and its whole family', async () => {
    const { tokens } = await webTokens();
    expect((await revoke(tokens.refresh_token as string, web)).status).toBe(200);
    expect((await refresh({ refresh_token: tokens.refresh_token as string }, web)).json.error).toBe('invalid_grant');
    expect(await userinfoStatus(tokens.access_token as string)).toBe(401);
  });

  it('records an access token as revoked', async () => {
    const { tokens } = await webTokens();
    expect((await revoke(tokens.access_token as string, web, { token_type_hint: 'access_token' })).status).toBe(200);
    expect(await userinfoStatus(tokens.access_token as string)).toBe(401);
    // The refresh token is a separate credential and still works.
    expect((await refresh({ refresh_token: tokens.refresh_token as string }, web)).status).toBe(200);
  });

  it('answers 200 for unknown tokens and does nothing to another client’s token', async () => {
    const { tokens } = await webTokens();
    expect((await revoke('not-a-token', web)).status).toBe(200);
    expect((await revoke(tokens.refresh_token as string, fx.confidential)).status).toBe(200);
    expect((await refresh({ refresh_token: tokens.refresh_token as string }, web)).status).toBe(200);
  });

  it('requires client authentication', async () => {
    const res = await revoke('whatever', { id: web.id, secret: 'wrong' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
  });
});

describe('introspection (RFC 7662)', () => {
  const introspect = async (
    token: string,
    auth?: { id: string; secret: string },
    body: Record<string, string> = {},
  ) => {
    const res = await fetch(`${idp.url}/introspect`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(auth ? { authorization: `Basic ${Buffer.from(`${auth.id}:${auth.secret}`).toString('base64')}` } : {}),
      },
      body: new URLSearchParams({ token, ...body }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('describes an active access token to its client', async () => {
    const { tokens } = await webTokens({ extra: { resource: fx.api.id } });
    const r = await introspect(tokens.access_token as string, web);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      active: true,
      client_id: web.id,
      sub: fx.alice.sub,
      aud: [fx.api.id, `${idp.url}/userinfo`],
      iss: idp.url,
      token_type: 'Bearer',
      scope: 'openid profile email',
    });
  });

  it('describes an active refresh token to its client', async () => {
    const { tokens } = await webTokens();
    const r = await introspect(tokens.refresh_token as string, web);
    expect(r.json).toMatchObject({ active: true, client_id: web.id, sub: fx.alice.sub, token_type: 'refresh_token' });
  });

  it('answers exactly { active: false } for revoked, expired, unknown and foreign tokens', async () => {
    const { tokens } = await webTokens();
    const rotated = await refresh({ refresh_token: tokens.refresh_token as string }, web);
    expect((await introspect(tokens.refresh_token as string, web)).json).toEqual({ active: false }); // rotated
    const revokedAccess = rotated.json.access_token!;
    await fetch(`${idp.url}/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${web.id}:${web.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: revokedAccess }),
    });
    expect((await introspect(revokedAccess, web)).json).toEqual({ active: false }); // revoked
    expect((await introspect('garbage', web)).json).toEqual({ active: false }); // unknown
    // another client's refresh token
    expect((await introspect(rotated.json.refresh_token!, fx.thirdParty)).json).toEqual({ active: false });
    const other = await startIssuer();
    const otherFx = await seed(other);
    const foreign = await signInAndRedeem(other.url, {
      clientId: otherFx.confidential.id,
      redirectUri: otherFx.redirectUri,
      auth: otherFx.confidential,
    });
    await other.cleanup();
    // another issuer
    expect((await introspect(foreign.tokens.access_token as string, web)).json).toEqual({ active: false });
    const fresh = await webTokens();
    idp.clock.advance(idp.issuer.ctx.config.accessTokenTtl + 1);
    try {
      expect((await introspect(fresh.tokens.access_token as string, web)).json).toEqual({ active: false }); // expired
    } finally {
      idp.clock.advance(-(idp.issuer.ctx.config.accessTokenTtl + 1));
    }
  });

  it('refuses public clients and unauthenticated callers with invalid_client', async () => {
    expect((await introspect('x', undefined, { client_id: spa.id })).json.error).toBe('invalid_client');
    expect((await introspect('x')).status).toBe(401);
  });
});
