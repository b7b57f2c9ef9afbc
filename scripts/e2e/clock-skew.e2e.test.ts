/**
 * Single sign-on and single logout when the issuer's clock disagrees with the apps', as clocks on
 * different machines do: the issuer runs 5 s ahead of the apps (and of this browser), then 5 s
 * behind, its whole wall clock moved by a preload (./clock-offset.mjs). Each run also reads the
 * issuer's clock from what it sends — the `Date` header of a response, the `iat` of app A's ID
 * token — so that a preload that failed to load cannot let the run pass on agreeing clocks.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshot, waitForStatus, watchPages } from './browser.js';
import { clockOffsetEnv } from './clock-offset-env.js';
import { signInAtIssuer, useDemoWorld } from './demo-world.js';

const ALICE = /Signed in as Alice Example \(alice@example\.com\)/;

/** A reading of the issuer's clock, whole seconds, taken between `from` and `to` on this machine's clock. */
interface IssuerClockReading {
  issuerMs: number;
  from: number;
  to: number;
}

/** The issuer's clock is `offsetMs` from this machine's, as far as a whole-second reading can tell. */
function expectOffBy({ issuerMs, from, to }: IssuerClockReading, offsetMs: number): void {
  expect(issuerMs).toBeGreaterThanOrEqual(Math.floor((from + offsetMs) / 1000) * 1000);
  expect(issuerMs).toBeLessThanOrEqual(to + offsetMs);
}

/** The `Date` header of an issuer response (RFC 9110 §6.6.1), asked for from this process. */
async function issuerDateHeader(issuer: string): Promise<IssuerClockReading> {
  const { host, port } = new URL(issuer);
  const from = Date.now();
  // Node does not resolve *.localhost: the issuer's loopback address, with its host name.
  const response = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`, { headers: { host } });
  const to = Date.now();
  await response.body?.cancel();
  const date = response.headers.get('date');
  expect(date).not.toBeNull();
  return { issuerMs: Date.parse(date!), from, to };
}

const SKEWS = [
  { offsetMs: 5000, name: 'ahead', words: '5 s ahead of' },
  { offsetMs: -5000, name: 'behind', words: '5 s behind' },
];

for (const { offsetMs, name, words } of SKEWS) {
  describe(`with the issuer's clock ${words} the apps'`, () => {
    const world = useDemoWorld({ serviceEnv: { idp: clockOffsetEnv(offsetMs) } });
    const shot = (page: Page, step: string) => screenshot(page, `issuer-${name}-${step}`);

    it('signs in at app A, is signed in at app B by single sign-on, and signs out of both', async () => {
      const { stack, browser } = world.current;
      const { appA, appB, issuer } = stack.urls;
      expectOffBy(await issuerDateHeader(issuer), offsetMs);

      const device = await browser.newContext();
      const seen = watchPages(device);
      const a = await device.newPage();
      await a.goto(appA);
      await waitForStatus(a, /Signed out/);
      await a.locator('#sign-in').click();
      // App A redeems the code, so the issuer signs its ID token, while it answers this request.
      const callback = a.waitForRequest((r) => new URL(r.url()).origin === appA && r.url().includes('/callback?'));
      await signInAtIssuer(a, 'alice@example.com');
      await a.waitForURL((u) => u.origin === appA);
      await waitForStatus(a, ALICE);
      await shot(a, 'app-a-signed-in');
      expect(seen.passwordPages.length).toBe(1);

      const b = await device.newPage();
      await b.goto(appB);
      await waitForStatus(b, ALICE);
      await shot(b, 'app-b-signed-in-by-sso');
      expect(seen.passwordPages.length).toBe(1);

      // Single logout. App A's way out to the issuer carries its ID token (RP-Initiated Logout §2).
      await a.bringToFront();
      const endSession = a.waitForRequest((r) => new URL(r.url()).searchParams.has('id_token_hint'));
      await a.locator('#sign-out').click();
      await a.waitForURL((u) => u.origin === appA);
      await waitForStatus(a, /Signed out/);
      // … and the sign-out at app A reaches app B through back-channel logout.
      await waitForStatus(b, /Signed out/, 8000);
      await shot(b, 'app-b-signed-out-by-back-channel');
      await b.reload();
      await waitForStatus(b, /Signed out/);

      const idToken = new URL((await endSession).url()).searchParams.get('id_token_hint')!;
      const { iat } = JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString()) as { iat: number };
      // The browser's own readings of this machine's clock: when the request left, and when its answer began.
      const { startTime, responseStart } = (await callback).timing();
      expect(responseStart).toBeGreaterThan(0);
      expectOffBy({ issuerMs: iat * 1000, from: startTime, to: startTime + responseStart }, offsetMs);
    });
  });
}
