/**
 * Rotation as relying parties see it. Two apps (A and B, each an API with its own audience)
 * keep getting fresh access tokens through the real code flow and verifying them, and the ones
 * before, with the shared verifier against the issuer's /jwks, while the ring rotates twice:
 * once on schedule, once on demand as `keys rotate` does. Not one verification may fail.
 *
 * And the reason it holds: a verifier that fetched the JWKS before a rotation, and never fetches
 * again, still verifies the tokens signed after it, because the key that signs them was already
 * published as `next` (OIDC Core §10.1.1). A cache bridges one rotation this way; it refetches
 * before the following one because the rotation waits one max-age after the key it promotes
 * was published.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { createCookieJarClient, type CookieJarClient } from '@tessera/shared/testing';
import { createRemoteKeySet, verifyAccessToken, type RemoteKeySet, type TokenVerificationError } from '@tessera/shared';
import { rotateSigningKey } from '../src/keys/key-rotation.js';
import { seed, startIssuer, type RunningIssuer } from './support/fixture.js';
import { browserFlow, redeem, signInAndRedeem } from './support/browser.js';

const ENV = {
  TESSERA_JWKS_MAX_AGE: '60',
  TESSERA_KEY_CHECK_INTERVAL: '1',
  TESSERA_KEY_ROTATION_PERIOD: '10m',
  // Longer than all the clock moves below, so no token expires during the run: a failure can
  // only come from the keys.
  TESSERA_ACCESS_TOKEN_TTL: '1h',
  TESSERA_ID_TOKEN_TTL: '1h',
};

interface App {
  name: string;
  clientId: string;
  auth?: { id: string; secret: string };
  audience: string;
  jar: CookieJarClient;
  keySet: RemoteKeySet;
  tokens: { token: string; kid: string }[];
  /** kid → tokens of that key verified. */
  verifiedByKid: Map<string, number>;
}

let idp: RunningIssuer;
let apps: App[];
let verifications = 0;
const failures: string[] = [];
const kids: string[] = [];
let beforeFirst: { keySet: RemoteKeySet; fetches: () => number };
let beforeSecond: { keySet: RemoteKeySet; fetches: () => number };
let signedAfterFirst: string | undefined;
let signedAfterSecond: string | undefined;

const now = () => idp.clock.now();
const jwksUrl = () => new URL('/jwks', idp.url);
const stateKid = async (state: string) =>
  (await idp.issuer.ctx.store.signingKeys.list()).find((k) => k.state === state)!.kid;

/** A verifier that fetched the JWKS once and will not fetch it again on its own. */
async function cachedOnce(): Promise<{ keySet: RemoteKeySet; fetches: () => number }> {
  let fetches = 0;
  const keySet = createRemoteKeySet(jwksUrl(), {
    now,
    cooldownSec: 1e9,
    maxStaleSec: 1e9,
    fetch: (input, init) => {
      fetches += 1;
      return fetch(input, init);
    },
  });
  await keySet.refresh();
  return { keySet, fetches: () => fetches };
}

/** A fresh access token for `app` from the token endpoint; the browser already has an SSO session. */
async function mint(app: App, redirectUri: string): Promise<string> {
  const flow = await browserFlow(
    idp.url,
    { clientId: app.clientId, redirectUri, extra: { prompt: 'none', resource: app.audience } },
    null,
    app.jar,
  );
  const body: Record<string, string> = {
    code: flow.callback.searchParams.get('code')!,
    code_verifier: flow.verifier,
    redirect_uri: redirectUri,
  };
  if (!app.auth) body.client_id = app.clientId;
  const res = await redeem(idp.url, body, app.auth);
  if (res.status !== 200)
    throw new Error(`${app.name}: token endpoint answered ${res.status} ${JSON.stringify(res.json)}`);
  return res.json.access_token as string;
}

// The clock moves in jumps; a code issued just before a jump would expire before its
// redemption. The apps park between iterations while the clock moves.
let hold: Promise<void> | undefined;
let parked = 0;
async function checkpoint(): Promise<void> {
  while (hold) {
    parked += 1;
    await hold;
    parked -= 1;
  }
}
async function whileParked(move: () => void): Promise<void> {
  let release!: () => void;
  hold = new Promise((r) => (release = r));
  await vi.waitFor(() => expect(parked).toBe(apps.length), { timeout: 10_000, interval: 5 });
  move();
  hold = undefined;
  release();
}

let stopping = false;
async function runApp(app: App, redirectUri: string): Promise<void> {
  while (!stopping) {
    await checkpoint();
    const token = await mint(app, redirectUri);
    app.tokens.push({ token, kid: decodeProtectedHeader(token).kid! });
    // The first token (signed before any rotation) and the latest ones, every time round.
    for (const t of [app.tokens[0]!, ...app.tokens.slice(-10)]) {
      try {
        const { header: verified } = await verifyAccessToken(t.token, {
          issuer: idp.url,
          audience: app.audience,
          keySet: app.keySet,
          now,
        });
        verifications += 1;
        app.verifiedByKid.set(verified.kid!, (app.verifiedByKid.get(verified.kid!) ?? 0) + 1);
      } catch (e) {
        failures.push(
          `${app.name}, token of ${t.kid}: ${(e as TokenVerificationError).code ?? ''} ${(e as Error).message}`,
        );
      }
    }
  }
}

/**
 * Waits until both apps have verified a token of `kid`, for at most a few seconds, without
 * throwing: if verifications fail instead, the tests below report them.
 */
async function untilVerifiedWith(kid: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!apps.every((a) => a.verifiedByKid.has(kid)) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

beforeAll(async () => {
  idp = await startIssuer({ env: ENV });
  const fx = await seed(idp);
  const app = (name: string, clientId: string, audience: string, auth?: App['auth']): App => ({
    name,
    clientId,
    ...(auth ? { auth } : {}),
    audience,
    jar: createCookieJarClient(),
    keySet: createRemoteKeySet(jwksUrl(), { now }),
    tokens: [],
    verifiedByKid: new Map(),
  });
  apps = [app('app A', fx.confidential.id, fx.api.id, fx.confidential), app('app B', fx.publicClient.id, fx.other.id)];
  for (const a of apps)
    await signInAndRedeem(
      idp.url,
      { clientId: a.clientId, redirectUri: fx.redirectUri, ...(a.auth ? { auth: a.auth } : {}) },
      a.jar,
    );

  kids.push(idp.issuer.ctx.keys.kid, await stateKid('next'));
  beforeFirst = await cachedOnce();
  const loops = apps.map((a) => runApp(a, fx.redirectUri));
  const running = Promise.all(loops);
  running.catch(() => undefined); // awaited below; a failure to mint must not go unhandled meanwhile
  try {
    await vi.waitFor(() => expect(apps.every((a) => a.tokens.length >= 3)).toBe(true), {
      timeout: 10_000,
      interval: 20,
    });

    // 1. On schedule: the rotation period passes; the issuer's own timer rotates.
    await whileParked(() => idp.clock.advance(10 * 60));
    await vi.waitFor(() => expect(idp.issuer.ctx.keys.kid).toBe(kids[1]), { timeout: 5000, interval: 20 });
    await untilVerifiedWith(kids[1]!);
    signedAfterFirst = apps[0]!.tokens.findLast((t) => t.kid === kids[1])?.token;
    kids.push(await stateKid('next'));
    beforeSecond = await cachedOnce();

    // 2. On demand, as `keys rotate` does, once the new next key has been published one max-age.
    await whileParked(() => idp.clock.advance(1 + 60));
    await rotateSigningKey(idp.issuer.ctx, { trigger: 'command' });
    await vi.waitFor(() => expect(idp.issuer.ctx.keys.kid).toBe(kids[2]), { timeout: 5000, interval: 20 });
    await untilVerifiedWith(kids[2]!);
    signedAfterSecond = apps[0]!.tokens.findLast((t) => t.kid === kids[2])?.token;
  } finally {
    stopping = true;
    hold = undefined;
    await running;
  }
}, 60_000);
afterAll(() => idp?.cleanup());

describe('two rotations while two apps verify tokens in a loop', () => {
  it('fail not one verification', () => {
    expect(failures).toEqual([]);
    expect(verifications).toBeGreaterThan(20);
  });

  it('verified, in each app, tokens of the keys before, between and after the rotations', () => {
    for (const a of apps) expect([...a.verifiedByKid.keys()].sort(), a.name).toEqual([...kids].sort());
  });

  it('rotated once on schedule and once on demand', async () => {
    const events = await idp.issuer.ctx.store.audit.list({ type: 'key.rotated', limit: 10 });
    expect(events.map((e) => e.detail).reverse()).toEqual([
      expect.objectContaining({ from: kids[0], to: kids[1], trigger: 'schedule', forced: false }),
      expect.objectContaining({ from: kids[1], to: kids[2], trigger: 'command', forced: false }),
    ]);
  });
});

describe('a verifier that fetched the JWKS before a rotation and never again', () => {
  it.each([
    { rotation: 'first', signed: () => signedAfterFirst!, verifier: () => beforeFirst },
    { rotation: 'second', signed: () => signedAfterSecond!, verifier: () => beforeSecond },
  ])('verifies a token signed after the $rotation rotation without fetching', async ({ signed, verifier }) => {
    const { keySet, fetches } = verifier();
    await verifyAccessToken(signed(), { issuer: idp.url, audience: apps[0]!.audience, keySet, now });
    expect(fetches()).toBe(1);
  });
});
