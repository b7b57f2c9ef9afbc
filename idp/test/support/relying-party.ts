/**
 * What the relying apps' tests share: a seeded issuer the apps reach over loopback and a socket
 * for the app beside it, a logout token as the issuer signs them, a second factor added to a
 * browser's issuer session, and the checks of the apps' back-channel logout endpoints and
 * configuration readers.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BACKCHANNEL_LOGOUT_EVENT, TOKEN_TYPES } from '@tessera/shared';
import type { CookieJarClient } from '@tessera/shared/testing';
import { digest } from '../../src/crypto/digest.js';
import { registerClient, type ClientInput } from '../../src/protocol/registration.js';
import { addFactorToSession } from '../../src/protocol/sso-session.js';
import { registration, seed, startIssuer, type Fixtures, type RunningIssuer } from './fixture.js';

export interface AppWorld {
  issuer: RunningIssuer;
  /** The issuer's URL. */
  idp: string;
  /** The app's URL (its origin), also its resource identifier. */
  app: string;
  fx: Fixtures;
  /** Hands the app's requests to `fetch` (a Hono app's). */
  serve(fetch: (request: Request) => Response | Promise<Response>): void;
  stop(): Promise<void>;
}

/** A seeded issuer and a listening socket for an app, both on ephemeral loopback ports. */
export async function startAppWorld(options: { issuerEnv?: Record<string, string> } = {}): Promise<AppWorld> {
  const issuer = await startIssuer({
    ...(options.issuerEnv ? { env: options.issuerEnv } : {}),
    issuer: {
      // The test apps listen on 127.0.0.1, which the global fetch reaches as it is.
      fetch: (url, init) => fetch(url, init),
      backchannel: { baseDelayMs: 100, maxAttempts: 3, timeoutMs: 2000 },
    },
  });
  const fx = await seed(issuer);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    issuer,
    idp: issuer.url,
    app: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fx,
    serve(fetch) {
      server.on('request', getRequestListener(fetch));
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await issuer.cleanup();
    },
  };
}

/**
 * Registers app A's confidential client at `appA`, as scripts/src/seed-demo.ts registers the demo's
 * (with the test's URL); `extra` states what a test world needs on top. Returns its secret.
 */
export async function registerAppA(
  issuer: RunningIssuer,
  appA: string,
  extra: Partial<ClientInput> = {},
): Promise<string> {
  const { secret } = await registerClient(registration(issuer), {
    id: 'app-a',
    name: 'App A',
    type: 'confidential',
    party: 'first',
    redirectUris: [`${appA}/callback`],
    postLogoutRedirectUris: [`${appA}/`],
    scopes: ['openid', 'profile', 'email'],
    ...extra,
  });
  return secret!;
}

/**
 * A world for the tests of the enclosing file or `describe`: started before them, stopped after
 * them. The object is filled in when the world has started, so read it inside tests and hooks.
 */
export function useWorld<W extends { stop(): Promise<void> }>(start: () => Promise<W>): W {
  const world = {} as W;
  let started: W | undefined;
  beforeAll(async () => {
    started = await start();
    Object.assign(world, started);
  });
  afterAll(() => started?.stop());
  return world;
}

/**
 * A logout token for `audience` signed with the issuer's own key, as the issuer makes them
 * (OIDC Back-Channel Logout §2.4).
 */
export function issuerLogoutToken(
  world: Pick<AppWorld, 'issuer' | 'idp'>,
  audience: string,
  claims: Record<string, unknown>,
): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return world.issuer.issuer.ctx.keys.sign(
    {
      iss: world.idp,
      aud: audience,
      iat,
      exp: iat + 120,
      jti: randomUUID(),
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      ...claims,
    },
    TOKEN_TYPES.logoutToken,
  );
}

/** POSTs `body` to the app's back-channel logout endpoint. */
export const postBackchannelLogout = (
  app: string,
  body: URLSearchParams | string,
  contentType = 'application/x-www-form-urlencoded',
) => fetch(`${app}/backchannel-logout`, { method: 'POST', headers: { 'content-type': contentType }, body });

/** The refusal of OIDC Back-Channel Logout §2.8: 400 invalid_request, not cached. */
export async function expectBackchannelRefused(res: Response): Promise<void> {
  expect(res.status).toBe(400);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(await res.json()).toEqual({ error: 'invalid_request' });
}

/**
 * The cases of an app's back-channel logout endpoint that do not depend on what the app keeps:
 * a replayed token (OIDC Back-Channel Logout §2.6 step 6, the jti) and malformed requests (§2.5).
 */
export function itRefusesReplayedAndMalformedLogoutRequests(
  world: Pick<AppWorld, 'issuer' | 'idp' | 'app'>,
  audience: string,
) {
  const post = (body: URLSearchParams | string, contentType?: string) =>
    postBackchannelLogout(world.app, body, contentType);

  it('refuses a replayed logout token (same jti)', async () => {
    const token = await issuerLogoutToken(world, audience, { sid: 'some-ended-session' });
    expect((await post(new URLSearchParams({ logout_token: token }))).status).toBe(200);
    await expectBackchannelRefused(await post(new URLSearchParams({ logout_token: token })));
  });

  it('refuses a request without logout_token, with two of them, or not as a form', async () => {
    await expectBackchannelRefused(await post(new URLSearchParams({})));
    const token = await issuerLogoutToken(world, audience, { sid: 's' });
    await expectBackchannelRefused(await post(`logout_token=${token}&logout_token=${token}`));
    await expectBackchannelRefused(await post(JSON.stringify({ logout_token: token }), 'application/json'));
  });

  it('refuses a form with any parameter repeated (RFC 6749 §3.1), before its logout token is used', async () => {
    const token = await issuerLogoutToken(world, audience, { sid: 'repeated-field-session' });
    await expectBackchannelRefused(await post(`logout_token=${token}&extra=1&extra=2`));
    // The refusal used nothing up: the same token, sent properly, is still accepted once.
    expect((await post(new URLSearchParams({ logout_token: token }))).status).toBe(200);
  });
}

/** The error a configuration reader throws for `env`, checked to be of the class `errorClass`. */
export function configRefusal<E extends Error>(
  load: (env: Record<string, string>) => unknown,
  errorClass: abstract new (...args: never[]) => E,
  env: Record<string, string>,
): E {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(errorClass);
    return error as E;
  }
  throw new Error(`expected a ${errorClass.name}`);
}

/**
 * The person in this browser proves a second factor at the issuer: their SSO session gains it as
 * the issuer's factor step records it (`addFactorToSession`: same sid, new cookie secret, `mfa`),
 * and the browser gets the new cookie. For apps' step-up tests, which are about what the app does
 * with the stronger session, not how the factor is entered.
 */
export async function addSecondFactorAtIssuer(
  running: RunningIssuer,
  idp: string,
  jar: CookieJarClient,
): Promise<void> {
  const { ctx } = running.issuer;
  const secret = jar.cookie(idp, 'tessera_session');
  const session = secret === undefined ? undefined : await ctx.store.sessions.findBySecretDigest(digest(secret));
  if (session === undefined) throw new Error('this browser has no session at the issuer');
  const added = await addFactorToSession(ctx, session, ['otp']);
  jar.setCookie(idp, 'tessera_session', added.secret);
}
