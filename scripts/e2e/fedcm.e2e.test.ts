/**
 * Signing in through FedCM (issue 16) in a real Chromium: the browser's own account chooser, its
 * automatic re-authentication on a return visit, disconnecting, the issuer's sign-in pop-up when
 * the person is signed out there, single logout, and app B's FedCM sign-in from the page. The
 * dialogs are browser UI, outside the page: the DevTools protocol's FedCm domain reports them
 * (`FedCm.dialogShown`) and answers them as the person would (`selectAccount`,
 * `clickDialogButton`). Each test has a fresh profile of its own (launchProfile): automatic
 * re-authentication is off in incognito contexts, and at most once per app every 10 minutes.
 * Screenshots are kept in test-artifacts/e2e/fedcm/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { createLoopbackFetch } from '@tessera/shared/node';
import { describe, expect, it } from 'vitest';
import { ARTIFACTS, cspViolations, launchProfile, waitForStatus, watchPages } from './browser.js';
import { PASSWORD, useDemoWorld } from './demo-world.js';

const ALICE = /Signed in as Alice Example \(alice@example\.com\)/;
const SCREENSHOTS = join(ARTIFACTS, 'fedcm');
/** How long a FedCM dialog may take to show: the browser fetches the issuer's files first. */
const DIALOG_MS = 15_000;

/** What `FedCm.dialogShown` reports (the DevTools protocol's FedCm domain), as far as these tests read it. */
interface Dialog {
  dialogId: string;
  dialogType: 'AccountChooser' | 'AutoReauthn' | 'ConfirmIdpLogin' | 'Error';
  accounts: { email: string; loginState: 'SignIn' | 'SignUp' }[];
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `fedcm-${name}.png`), fullPage: true });
}

/** Runs `journey` in a fresh browser profile (its own temporary folder), closed and removed after. */
async function withFreshProfile(journey: (context: BrowserContext) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-fedcm-profile-'));
  const context = await launchProfile(dir);
  try {
    await journey(context);
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The FedCM dialogs a tab shows, as the DevTools protocol reports them, and a way to answer them. */
interface FedCmDialogs {
  cdp: CDPSession;
  /** Every dialog shown so far. */
  shown: Dialog[];
  /** The next dialog not yet taken; fails after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Dialog>;
  /** Takes every dialog shown so far: `next` waits for a new one. */
  skipShown(): void;
}

/**
 * Watches the FedCM dialogs of `page`'s tab. `FedCm.enable` is what makes headless Chromium settle
 * FedCM calls at all; `disableRejectionDelay` makes a refusal answer at once rather than after the
 * random delay that hides from the site why it failed.
 */
async function watchFedCm(context: BrowserContext, page: Page): Promise<FedCmDialogs> {
  const cdp = await context.newCDPSession(page);
  const shown: Dialog[] = [];
  let taken = 0;
  cdp.on('FedCm.dialogShown', (dialog) => shown.push(dialog as Dialog));
  await cdp.send('FedCm.enable', { disableRejectionDelay: true });
  return {
    cdp,
    shown,
    async next(timeoutMs = DIALOG_MS) {
      const end = Date.now() + timeoutMs;
      while (shown.length <= taken) {
        if (Date.now() > end) throw new Error(`no FedCM dialog within ${timeoutMs} ms on ${page.url()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return shown[taken++]!;
    },
    skipShown() {
      taken = shown.length;
    },
  };
}

/** Every URL `page`'s tab navigates to, redirects included (a 302 never loads, so watchPages misses it). */
function navigations(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (request) => {
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) urls.push(request.url());
  });
  return urls;
}

/** Signs in at the issuer's own account page, as a person who goes there first. */
async function signInAtIssuerDirectly(page: Page, issuer: string): Promise<void> {
  await page.goto(`${issuer}/account`);
  await fillIssuerSignIn(page);
  await page.waitForURL((u) => u.origin === issuer && u.pathname === '/account');
}

/** Fills and sends the issuer's sign-in form, wherever it is shown (its page, or the FedCM pop-up). */
async function fillIssuerSignIn(page: Page): Promise<void> {
  await page.getByLabel('Email').fill('alice@example.com', { timeout: DIALOG_MS });
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The issuer's FedCM config URL, from its discovery document (as the apps take it). */
async function configUrl(issuer: string): Promise<string> {
  const fetch = createLoopbackFetch();
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<
    string,
    unknown
  >;
  expect(discovery.fedcm_config_uri).toEqual(expect.stringMatching(/^http:\/\/idp\.localhost:\d+\//));
  return discovery.fedcm_config_uri as string;
}

/** Picks the one account in an account chooser and waits for the app to show alice signed in. */
async function chooseAlice(fedcm: FedCmDialogs, dialog: Dialog, page: Page): Promise<void> {
  expect(dialog.dialogType).toBe('AccountChooser');
  expect(dialog.accounts.map((a) => a.email)).toEqual(['alice@example.com']);
  await fedcm.cdp.send('FedCm.selectAccount', { dialogId: dialog.dialogId, accountIndex: 0 });
  await waitForStatus(page, ALICE, 20_000);
}

/** Alice, signed in at the issuer, signs in to app A through the chooser its home page shows. */
async function signInToAppAWithTheChooser(
  context: BrowserContext,
  page: Page,
  urls: { issuer: string; appA: string },
): Promise<{ fedcm: FedCmDialogs; dialog: Dialog }> {
  await signInAtIssuerDirectly(page, urls.issuer);
  const fedcm = await watchFedCm(context, page);
  await page.goto(urls.appA);
  // The signed-out home page asks passively (mediation 'optional'): the browser's chooser.
  const dialog = await fedcm.next();
  await screenshot(page, 'app-a-account-chooser-open');
  await chooseAlice(fedcm, dialog, page);
  return { fedcm, dialog };
}

/**
 * A return visit to app A: its own cookies (its session) forgotten, as after closing the browser,
 * then its home page again. Returns the dialog the browser shows for it.
 */
async function returnToAppA(context: BrowserContext, page: Page, fedcm: FedCmDialogs, appA: string): Promise<Dialog> {
  await context.clearCookies({ domain: 'app-a.localhost' });
  await page.goto(appA);
  return fedcm.next();
}

/** `IdentityCredential.disconnect()` called from `page`: whether the browser resolved or rejected it. */
function disconnect(
  page: Page,
  options: { configURL: string; clientId: string; accountHint: string },
): Promise<'resolved' | 'rejected'> {
  return page.evaluate(
    (o) =>
      (
        window as unknown as { IdentityCredential: { disconnect(o: typeof options): Promise<void> } }
      ).IdentityCredential.disconnect(o).then(
        () => 'resolved' as const,
        () => 'rejected' as const,
      ),
    options,
  );
}

describe('signing in through FedCM', () => {
  const world = useDemoWorld();

  it('signs in to app A with the dialog, reaches app B by single sign-on, and signs out of both at once', async () => {
    const { appA, appB, issuer } = world.current.stack.urls;
    await withFreshProfile(async (context) => {
      const csp = cspViolations(context);
      const seen = watchPages(context);
      const a = await context.newPage();
      const { dialog } = await signInToAppAWithTheChooser(context, a, { issuer, appA });
      // The first sign-in to app A of the file's fresh issuer: a sign-up (the issuer lists no
      // approved client; the dialog would show the client's policies). Each test's profile is
      // fresh, but the issuer is the file's: later tests find app A approved.
      expect(dialog.accounts.map((account) => account.loginState)).toEqual(['SignUp']);
      await screenshot(a, 'app-a-signed-in');

      // App B on another site: no FedCM dialog (app B never used FedCM here, and its page asks only
      // silently), then the redirect flow's single sign-on — no password page either.
      const b = await context.newPage();
      const fedcmB = await watchFedCm(context, b);
      const passwordPages = seen.passwordPages.length;
      await b.goto(appB);
      await waitForStatus(b, ALICE, 20_000);
      await screenshot(b, 'app-b-signed-in-by-sso');
      expect(fedcmB.shown).toEqual([]);
      expect(seen.passwordPages.length).toBe(passwordPages);

      // Signing out at app A ends the issuer's session (Set-Login: logged-out), and app B's through
      // back-channel logout.
      await a.bringToFront();
      await a.locator('#sign-out').click();
      await a.waitForURL((u) => u.origin === appA);
      await waitForStatus(a, /Signed out/);
      await waitForStatus(b, /Signed out/, 10_000);
      await screenshot(b, 'app-b-signed-out-by-single-logout');

      // Coming back asks no one anything: the browser knows the person is signed out at the issuer.
      const fedcmA = await watchFedCm(context, a);
      await a.goto(appA);
      await waitForStatus(a, /Signed out/);
      await b.reload();
      await waitForStatus(b, /Signed out/);
      await a.waitForTimeout(1500);
      expect(await a.locator('#status').textContent()).toBe('Signed out');
      expect(fedcmA.shown).toEqual([]);
      expect(csp).toEqual([]);
    });
  });

  it('re-authenticates automatically on a return visit to app A (passive, mediation optional)', async () => {
    const { appA, issuer } = world.current.stack.urls;
    await withFreshProfile(async (context) => {
      const a = await context.newPage();
      const { fedcm } = await signInToAppAWithTheChooser(context, a, { issuer, appA });
      const dialog = await returnToAppA(context, a, fedcm, appA);
      expect(dialog.dialogType).toBe('AutoReauthn');
      expect(dialog.accounts.map((a) => [a.email, a.loginState])).toEqual([['alice@example.com', 'SignIn']]);
      // Nobody clicks: the browser completes it by itself.
      await waitForStatus(a, ALICE, 20_000);
      await screenshot(a, 'app-a-auto-reauthenticated');
    });
  });

  it('disconnects app A, after which the dialog offers to sign up again', async () => {
    const { appA, issuer } = world.current.stack.urls;
    await withFreshProfile(async (context) => {
      const a = await context.newPage();
      const { fedcm } = await signInToAppAWithTheChooser(context, a, { issuer, appA });
      // Connected: a return visit is a sign-in, completed by the browser itself.
      const returning = await returnToAppA(context, a, fedcm, appA);
      expect([returning.dialogType, returning.accounts.map((account) => account.loginState)]).toEqual([
        'AutoReauthn',
        ['SignIn'],
      ]);
      await waitForStatus(a, ALICE, 20_000);

      const connection = { configURL: await configUrl(issuer), clientId: 'app-a', accountHint: 'alice@example.com' };
      expect(await disconnect(a, connection)).toBe('resolved');
      // Disconnected once: a second disconnect has nothing left to forget and rejects.
      expect(await disconnect(a, connection)).toBe('rejected');

      // No automatic re-authentication: the chooser again, the account a sign-up again.
      const dialog = await returnToAppA(context, a, fedcm, appA);
      expect(dialog.dialogType).toBe('AccountChooser');
      expect(dialog.accounts.map((a) => a.loginState)).toEqual(['SignUp']);
      await screenshot(a, 'app-a-after-disconnect');
      await chooseAlice(fedcm, dialog, a);
    });
  });

  it('signed out at the issuer: the button opens the issuer’s sign-in pop-up, and comes back signed in', async () => {
    const { appA, issuer } = world.current.stack.urls;
    await withFreshProfile(async (context) => {
      const csp = cspViolations(context);
      const a = await context.newPage();
      const fedcm = await watchFedCm(context, a);
      await a.goto(appA);
      await waitForStatus(a, /Signed out/);
      await expect.poll(() => a.locator('#fedcm-sign-in').isVisible(), { timeout: 5000 }).toBe(true);
      await screenshot(a, 'app-a-signed-out');

      // Whatever the page's passive attempt showed is over: the click asks anew.
      fedcm.skipShown();
      const popup = context.waitForEvent('page', { timeout: DIALOG_MS });
      await a.locator('#fedcm-sign-in').click();
      const signIn = await popup;
      await signIn.waitForURL((u) => u.origin === issuer, { timeout: DIALOG_MS });
      await screenshot(signIn, 'issuer-sign-in-pop-up');
      await fillIssuerSignIn(signIn);
      // The issuer's "signed in" page closes the pop-up (IdentityProvider.close()).
      await signIn.waitForEvent('close', { timeout: DIALOG_MS });

      await settleDialogs(fedcm, a);
      await screenshot(a, 'app-a-signed-in-after-pop-up');
      expect(csp).toEqual([]);
    });
  });

  it('falls back to the redirect flow when the person closes the dialog', async () => {
    const { appA, issuer } = world.current.stack.urls;
    await withFreshProfile(async (context) => {
      const seen = watchPages(context);
      const a = await context.newPage();
      const visited = navigations(a);
      await signInAtIssuerDirectly(a, issuer);
      const fedcm = await watchFedCm(context, a);
      await a.goto(appA);
      // The person closes the home page's chooser: app A stays signed out, nothing else happens.
      const passive = await fedcm.next();
      await fedcm.cdp.send('FedCm.dismissDialog', { dialogId: passive.dialogId });
      await waitForStatus(a, /Signed out/);
      // The button: closed again (or suppressed by the browser after a dismissal), its request
      // rejects, and the page goes on with /login — single sign-on at the issuer, no password.
      const passwordPages = seen.passwordPages.length;
      fedcm.skipShown();
      await a.locator('#fedcm-sign-in').click();
      const active = await fedcm.next(3000).catch(() => undefined);
      if (active !== undefined) await fedcm.cdp.send('FedCm.dismissDialog', { dialogId: active.dialogId });
      await waitForStatus(a, ALICE, 20_000);
      expect(visited.filter((url) => url === `${appA}/login`)).toHaveLength(1);
      expect(visited.some((url) => url.startsWith(`${issuer}/authorize`))).toBe(true);
      expect(seen.passwordPages.length).toBe(passwordPages);
      await screenshot(a, 'app-a-signed-in-by-the-fallback');
    });
  });

  it('signs in to app B through FedCM from its page, then re-authenticates it automatically', async () => {
    const { appB, issuer } = world.current.stack.urls;
    await withFreshProfile(async (context) => {
      const csp = cspViolations(context);
      const b = await context.newPage();
      const visited = navigations(b);
      const fedcm = await watchFedCm(context, b);
      await b.goto(appB);
      // Signed out everywhere: the silent attempts find nobody, and the buttons show.
      await waitForStatus(b, /Signed out/, 20_000);
      // FedCM's silent attempt found no one, then the redirect's prompt=none did not either.
      expect(
        visited.filter((url) => url.startsWith(`${issuer}/authorize?`) && url.includes('prompt=none')),
      ).toHaveLength(1);
      await expect.poll(() => b.locator('#fedcm-sign-in').isVisible(), { timeout: 5000 }).toBe(true);

      fedcm.skipShown();
      const visitedBefore = visited.length;
      const popup = context.waitForEvent('page', { timeout: DIALOG_MS });
      await b.locator('#fedcm-sign-in').click();
      const signIn = await popup;
      await fillIssuerSignIn(signIn);
      await signIn.waitForEvent('close', { timeout: DIALOG_MS });
      await settleDialogs(fedcm, b);
      await screenshot(b, 'app-b-signed-in-through-fedcm');
      // The page itself redeemed the code and calls its API with the tokens: no redirect to app B.
      expect(visited.slice(visitedBefore)).toEqual([]);

      // A reload loses the tokens (kept in memory only); the browser signs app B in again by itself.
      const before = fedcm.shown.length;
      const visitedBeforeReload = visited.length;
      await b.reload();
      await waitForStatus(b, ALICE, 20_000);
      expect(fedcm.shown.slice(before).map((d) => d.dialogType)).toEqual(['AutoReauthn']);
      // The reload itself, and no redirect to the issuer.
      expect(visited.slice(visitedBeforeReload)).toEqual([`${appB}/`]);
      await screenshot(b, 'app-b-auto-reauthenticated');
      expect(csp).toEqual([]);
    });
  });
});

/**
 * Answers the dialogs that follow the pop-up as the person would — the chooser with alice's
 * account, or the "continue" of a confirm-sign-in dialog — until the page shows alice signed in.
 */
async function settleDialogs(fedcm: FedCmDialogs, page: Page): Promise<void> {
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    const text =
      (await page
        .locator('#status')
        .textContent({ timeout: 1000 })
        .catch(() => null)) ?? '';
    if (ALICE.test(text)) return;
    const dialog = await fedcm.next(1000).catch(() => undefined);
    if (dialog === undefined) continue;
    if (dialog.dialogType === 'AccountChooser') {
      expect(dialog.accounts.map((a) => a.email)).toEqual(['alice@example.com']);
      await fedcm.cdp.send('FedCm.selectAccount', { dialogId: dialog.dialogId, accountIndex: 0 });
    } else if (dialog.dialogType === 'ConfirmIdpLogin') {
      await fedcm.cdp.send('FedCm.clickDialogButton', {
        dialogId: dialog.dialogId,
        dialogButton: 'ConfirmIdpLoginContinue',
      });
    } else if (dialog.dialogType === 'Error') {
      throw new Error(`FedCM showed an error dialog: ${JSON.stringify(dialog)}`);
    }
  }
  throw new Error(`${page.url()} did not show alice signed in`);
}
