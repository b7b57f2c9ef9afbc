/**
 * The apps and the issuer on machines whose clocks disagree. Within the leeway (60 s by default),
 * one site's clock 30 s off either way changes nothing a person or an API caller sees: sign-in to
 * app A, single sign-on to app B, app B's API, single logout, and revocation through the token
 * status list. Past the leeway, app B's API still answers 401 invalid_token and logs the cause, and
 * app B's browser code tells the person which clock is off.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateAuthorizationResponse } from '@tessera/shared';
import { createCookieJarClient, formValue, type CookieJarClient } from '@tessera/shared/testing';
import { PASSWORD } from '../../../idp/test/support/fixture.js';
import { browserFlow, signInAndRedeem, submitSignIn } from '../../../idp/test/support/browser.js';
import type { AppConfig } from '../src/browser/app-config.js';
import { discoverIssuer } from '../src/browser/issuer.js';
import { redeemAuthorizationResponse, type SignInOutcome } from '../src/browser/sign-in.js';
import { createRecordingLogger } from '../../app-a/test/support/recording-logger.js';
import { startBothApps, type BothApps } from './support/both-apps.js';
import { createDPoPProver } from '@tessera/shared';
import {
  callAppBApi,
  callMe,
  eventually,
  rememberBinding,
  signInToAppB,
  startWorld,
  type World,
} from './support/world.js';

const STATUS_LIST_TTL_SEC = 2;

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

/** `seconds` give or take 2, as a regex alternative: the clocks are read to the whole second. */
const about = (seconds: number) => `(${[-2, -1, 0, 1, 2].map((d) => seconds + d).join('|')})`;

/** describeClockSkew's words for an issuer `aheadSec` ahead of this server (behind when negative). */
const serverClockSkew = (aheadSec: number) =>
  new RegExp(
    `this server's clock is ${about(Math.abs(aheadSec))} s ${aheadSec > 0 ? 'behind' : 'ahead of'} the issuer's`,
  );

/** Alice signs in to app A through its /login, as a browser does; the page app A ends on. */
async function signInToAppA(w: BothApps, jar: CookieJarClient): Promise<Response> {
  const start = await jar.follow(`${w.appA}/login`, {
    stopWhen: (u) => u.origin === w.idp && u.pathname === '/sign-in',
  });
  if (start.location === undefined) throw new Error(`app A did not send the browser to sign in: ${start.last.status}`);
  const signedIn = await submitSignIn(jar, w.idp, start.location, 'alice@example.com', PASSWORD);
  return (await jar.follow(new URL(signedIn.headers.get('location')!, w.idp))).last;
}

/**
 * App B's browser code signing in at `app` with the issuer session in `jar` (the flow fails if the
 * issuer asks for a sign-in, unless `signIn`): its settings from /config.json, the issuer's
 * metadata and keys, and the ID token checked against the device's clock `now`.
 */
async function signInWithAppBBrowserCode(
  idp: string,
  app: string,
  jar: CookieJarClient,
  now: () => number,
  signIn: { email: string } | null = null,
): Promise<SignInOutcome> {
  const nonce = randomUUID();
  const { callback, verifier } = await browserFlow(
    idp,
    { clientId: 'app-b', redirectUri: `${app}/`, nonce, extra: { resource: app } },
    signIn,
    jar,
  );
  const config = (await (await fetch(`${app}/config.json`)).json()) as AppConfig;
  const code = validateAuthorizationResponse(callback, { expectedState: 'state-123', expectedIssuer: idp });
  // The page's key signs its proofs with the device's clock too.
  const dpop = await createDPoPProver({ now });
  const outcome = await redeemAuthorizationResponse(
    config,
    await discoverIssuer(idp),
    code,
    { nonce, codeVerifier: verifier },
    { now, dpop },
  );
  if (outcome.kind === 'signed-in') rememberBinding(outcome.tokens.accessToken, dpop);
  return outcome;
}

/** GET app B's /api/me as its caller would (with proofs for a token bound to app B's page key). */
const callAppB = (w: BothApps, accessToken: string) => callAppBApi(w.appB, accessToken);

const signedInTokens = (outcome: SignInOutcome) => {
  if (outcome.kind !== 'signed-in') throw new Error(`app B's browser code did not sign in: ${JSON.stringify(outcome)}`);
  return outcome.tokens;
};

describe.each([
  { site: 'the issuer’s clock 30 s ahead', issuerSec: 30, appsSec: 0 },
  { site: 'the issuer’s clock 30 s behind', issuerSec: -30, appsSec: 0 },
  { site: 'the apps’ clocks 30 s ahead', issuerSec: 0, appsSec: 30 },
  { site: 'the apps’ clocks 30 s behind', issuerSec: 0, appsSec: -30 },
])('$site, within the leeway', ({ issuerSec, appsSec }) => {
  let w: BothApps;
  beforeAll(async () => {
    w = await startBothApps({ issuerEnv: { TESSERA_STATUS_LIST_TTL: String(STATUS_LIST_TTL_SEC) } });
    w.issuer.clock.advance(issuerSec);
    w.appClock.advance(appsSec);
  });
  afterAll(() => w?.stop());
  const issuerAheadSec = issuerSec - appsSec;

  it('signs in to app A, then to app B by single sign-on; app B’s API answers; the log names the skew', async () => {
    const jar = createCookieJarClient();
    const page = await signInToAppA(w, jar);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Signed in as Alice Liddell');

    const tokens = signedInTokens(await signInWithAppBBrowserCode(w.idp, w.appB, jar, () => w.appClock.now()));
    const res = await callAppB(w, tokens.accessToken);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sub: w.alice.sub, client_id: 'app-b' });

    // Every token was accepted; the operator is warned all the same, with the direction.
    const skew = w.logA.linesOf('clock.skew');
    expect(skew.map((line) => line.level)).toContain('warn');
    expect(skew.filter((line) => line.level === 'error')).toEqual([]);
    expect(skew.at(-1)!.fields.likelyCause).toMatch(serverClockSkew(issuerAheadSec));
  });

  it('signing out ends app A’s session and app B’s tokens: both apps accept the logout tokens', async () => {
    const jar = createCookieJarClient();
    expect((await signInToAppA(w, jar)).status).toBe(200);
    expect((await jar.fetch(`${w.appA}/api/me`)).status).toBe(200);
    const tokens = signedInTokens(await signInWithAppBBrowserCode(w.idp, w.appB, jar, () => w.appClock.now()));
    const sid = claimsOf(tokens.idToken).sid;

    // The person signs out from app B: at the issuer, with app B's ID token as the hint.
    const res = await jar.fetch(`${w.idp}/logout?${new URLSearchParams({ id_token_hint: tokens.idToken })}`);
    expect(res.status).toBe(200);

    await eventually(async () => (await jar.fetch(`${w.appA}/api/me`)).status === 401);
    await eventually(() => w.logB.linesOf('backchannel_logout').some((line) => line.fields.sid === sid));
    expect(w.logA.linesOf('backchannel_logout').find((line) => line.fields.sid === sid)?.fields).toMatchObject({
      sessions_ended: 1,
    });
    expect((await callAppB(w, tokens.accessToken)).status).toBe(401);
    expect([...w.logA.linesOf('backchannel_logout.refused'), ...w.logB.linesOf('backchannel_logout.refused')]).toEqual(
      [],
    );
  });

  it('app B’s API refuses a device ended at the issuer’s account page, through the token status list', async () => {
    // Tokens for app B's API that app A asked for: app B takes no part in these sessions, so no
    // back-channel logout reaches it, and only the status list can tell its API.
    const device = () =>
      signInAndRedeem(w.idp, {
        clientId: 'app-a',
        redirectUri: `${w.appA}/callback`,
        extra: { resource: w.appB },
        auth: { id: 'app-a', secret: w.appASecret },
      });
    const device1 = await device();
    const device2 = await device();
    const token1 = device1.tokens.access_token as string;
    expect((await callAppB(w, token1)).status).toBe(200);

    const sid1 = claimsOf(device1.tokens.id_token as string).sid as string;
    const account = await (await device2.jar.fetch(`${w.idp}/account`)).text();
    const ended = await device2.jar.fetch(`${w.idp}/account/devices/${sid1}/end`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: w.idp },
      body: new URLSearchParams({ csrf_token: formValue(account, 'csrf_token')! }),
    });
    expect(ended.status).toBe(303);

    await eventually(async () => (await callAppB(w, token1)).status === 401, (STATUS_LIST_TTL_SEC + 3) * 1000);
    expect(w.logB.linesOf('backchannel_logout').filter((line) => line.fields.sid === sid1)).toEqual([]);
    expect((await callAppB(w, device2.tokens.access_token as string)).status).toBe(200);
  });
});

describe('the issuer’s clock 90 s ahead of app B’s, past the 60 s leeway', () => {
  const log = createRecordingLogger();
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ log });
    world.issuer.clock.advance(90);
  });
  afterAll(() => world?.stop());

  it('app B’s API answers 401 invalid_token (RFC 6750 §3.1) and logs clock.skew', async () => {
    const { accessToken } = await signInToAppB(world);
    const res = await callMe(world, accessToken);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_token"/);
    expect(await res.json()).toMatchObject({ error: 'invalid_token' });

    const skew = log.linesOf('clock.skew').filter((line) => line.level === 'error');
    expect(skew.length).toBeGreaterThanOrEqual(1);
    expect(skew.at(-1)!.fields).toMatchObject({
      toleranceSec: 60,
      likelyCause: expect.stringMatching(serverClockSkew(90)),
    });
  });

  it('app B’s browser code tells the person the device’s clock is behind the sign-in service’s', async () => {
    const outcome = await signInWithAppBBrowserCode(world.idp, world.app, createCookieJarClient(), Date.now, {
      email: 'alice@example.com',
    });
    expect(outcome).toMatchObject({ kind: 'failed', code: 'clock_skew' });
    expect(outcome.kind === 'failed' && outcome.message).toMatch(
      new RegExp(`^Sign-in failed: .*this device's clock is ${about(90)} s behind the sign-in service's`),
    );
  });
});
