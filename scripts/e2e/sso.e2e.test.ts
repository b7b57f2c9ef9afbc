/**
 * Single sign-on and single logout across three sites, in a real browser. Two devices are two
 * browser contexts (separate cookie jars). Device 1 signs in once at app A and is signed in at
 * app B without a password; device 2 must sign in itself; device 1's sign-out at app A reaches
 * app B through back-channel logout, and device 2 stays signed in. On the way, app A's page shows
 * what app B's API returned for each person, called by app A's server with a token it exchanged
 * for the person's (RFC 8693). App B's tokens are bound to its page's key (DPoP): copied out of
 * the page, they are refused.
 *
 * The same journey runs twice: against `npm start`'s issuer (one process, SQLite) and against
 * `npm run start:cluster`'s (three nodes on PostgreSQL behind nginx, round robin, no stickiness),
 * where consecutive requests of one journey land on different nodes.
 */
import type { Page, Request } from 'playwright-core';
import { createLoopbackFetch } from '@tessera/shared/node';
import type { DemoWorld } from './demo-world.js';
import { describe, expect, it } from 'vitest';
import { cspViolations, screenshot, waitForStatus, watchPages } from './browser.js';
import { signInAtIssuer, useDemoWorld } from './demo-world.js';

const ALICE = /Signed in as Alice Example \(alice@example\.com\)/;
const BOB = /Signed in as Bob Example \(bob@example\.com\)/;

describe('single sign-on and single logout across three sites', () => {
  const world = useDemoWorld();
  it('signs in once, is signed in at both apps, and signs out of both at once', async () => {
    await signInOnceSignOutEverywhere(world.current, '');
  });
});

describe('the same, with three issuer nodes on PostgreSQL behind a round-robin load balancer', () => {
  const world = useDemoWorld({ cluster: true });
  it('signs in once, is signed in at both apps, and signs out of both at once', async () => {
    await signInOnceSignOutEverywhere(world.current, 'cluster-');
  });
});

/** The journey; screenshots are named with `shots` first. */
async function signInOnceSignOutEverywhere({ stack, browser }: DemoWorld, shots: string): Promise<void> {
  const { appA, appB, issuer } = stack.urls;

  // Device 1: app A → issuer sign-in → back at app A.
  const device1 = await browser.newContext();
  const device1Csp = cspViolations(device1);
  const seen1 = watchPages(device1);
  const a1 = await device1.newPage();
  await a1.goto(appA);
  await waitForStatus(a1, /Signed out/);
  await screenshot(a1, `${shots}device1-app-a-signed-out`);
  await a1.locator('#sign-in').click();
  await a1.waitForURL((u) => u.origin === issuer);
  await screenshot(a1, `${shots}device1-issuer-sign-in`);
  await signInAtIssuer(a1, 'alice@example.com');
  await a1.waitForURL((u) => u.origin === appA);
  await waitForStatus(a1, ALICE);
  await screenshot(a1, `${shots}device1-app-a-signed-in`);
  expect(seen1.passwordPages.length).toBe(1);
  // App A's server called app B's API for alice with a token it exchanged for hers (RFC 8693):
  // app B saw alice, through a token issued to app A, with app A acting.
  expect(await appBAnswer(a1)).toEqual({ person: 'Alice Example (alice@example.com)', client: 'app-a', act: 'app-a' });

  // Device 1: app B, on another site, signs in from the issuer's session: no password page.
  const passwordPagesBefore = seen1.passwordPages.length;
  const b1 = await device1.newPage();
  const b1CallsApi = b1.waitForRequest((r) => r.url() === `${appB}/api/me`);
  await b1.goto(appB);
  await waitForStatus(b1, ALICE);
  await expectBoundToThePage(appB, await b1CallsApi);
  await screenshot(b1, `${shots}device1-app-b-signed-in-by-sso`);
  expect(seen1.passwordPages.length).toBe(passwordPagesBefore);
  // Three distinct sites: the SSO session cookie belongs to the issuer's site alone.
  const sessionCookies = (await device1.cookies()).filter((c) => c.name.endsWith('tessera_session'));
  expect(sessionCookies.map((c) => c.domain)).toEqual(['idp.localhost']);

  // Device 2: a fresh browser must enter the password for app B.
  const device2 = await browser.newContext();
  const device2Csp = cspViolations(device2);
  const seen2 = watchPages(device2);
  const b2 = await device2.newPage();
  await b2.goto(appB);
  await waitForStatus(b2, /Signed out/);
  await screenshot(b2, `${shots}device2-app-b-signed-out`);
  await b2.locator('#sign-in').click();
  await signInAtIssuer(b2, 'bob@example.com');
  await b2.waitForURL((u) => u.origin === appB);
  await waitForStatus(b2, BOB);
  await screenshot(b2, `${shots}device2-app-b-signed-in`);
  expect(seen2.passwordPages.length).toBe(1);
  const a2 = await device2.newPage();
  await a2.goto(appA);
  await a2.locator('#sign-in').click();
  await a2.waitForURL((u) => u.origin === appA && u.pathname === '/');
  await waitForStatus(a2, BOB);
  expect(seen2.passwordPages.length).toBe(1);
  expect(await appBAnswer(a2)).toEqual({ person: 'Bob Example (bob@example.com)', client: 'app-a', act: 'app-a' });

  // Both devices are signed in at once.
  await waitForStatus(a1, ALICE);
  await waitForStatus(b1, ALICE);

  // Device 1 signs out at app A: back at app A, signed out …
  await a1.bringToFront();
  await a1.locator('#sign-out').click();
  await a1.waitForURL((u) => u.origin === appA);
  await waitForStatus(a1, /Signed out/);
  await screenshot(a1, `${shots}device1-app-a-signed-out-again`);
  // … and within a few seconds app B's open page on device 1 is signed out too.
  const started = Date.now();
  await waitForStatus(b1, /Signed out/, 8000);
  const propagationMs = Date.now() - started;
  await screenshot(b1, `${shots}device1-app-b-signed-out-by-back-channel`);
  // A reload does not sign device 1 back in: the issuer session is over.
  await b1.reload();
  await waitForStatus(b1, /Signed out/);

  // Device 2 is untouched.
  await b2.reload();
  await waitForStatus(b2, BOB);
  await a2.reload();
  await waitForStatus(a2, BOB);
  await screenshot(b2, `${shots}device2-still-signed-in`);

  process.stdout.write(`${shots}single logout reached app B on device 1 in ${propagationMs} ms\n`);
  expect([...device1Csp, ...device2Csp]).toEqual([]);
}

/**
 * App B's page calls its API with a DPoP-bound token and a proof (RFC 9449 §7.1). The same token
 * copied out of the page is refused: as a bearer token, and with the page's proof played again.
 */
async function expectBoundToThePage(appB: string, call: Request): Promise<void> {
  const headers = await call.allHeaders();
  const token = /^DPoP (.+)$/.exec(headers.authorization ?? '')?.[1];
  expect(token).toBeDefined();
  expect(headers.dpop).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  const fetch = createLoopbackFetch();
  const asBearer = await fetch(`${appB}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  expect({ status: asBearer.status, body: await asBearer.json() }).toMatchObject({
    status: 401,
    body: { error: 'invalid_token' },
  });
  const replayed = await fetch(`${appB}/api/me`, { headers: { authorization: `DPoP ${token}`, dpop: headers.dpop! } });
  expect({ status: replayed.status, body: await replayed.json() }).toMatchObject({
    status: 401,
    body: { error: 'invalid_dpop_proof' },
  });
}

/** What app A's home page shows from app B's API (`#from-app-b`); rendered by app A's server. */
async function appBAnswer(page: Page): Promise<{ person: string | null; client: string | null; act: string | null }> {
  const text = (id: string) => page.locator(`#from-app-b #${id}`).textContent({ timeout: 5000 });
  return { person: await text('app-b-person'), client: await text('app-b-client'), act: await text('app-b-act') };
}
