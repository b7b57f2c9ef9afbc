/**
 * Step-up in a real browser. A person signed in to app A with a password alone uses app A's home
 * page as before. Meanwhile, on another device, they turn on an authenticator app. Back on the
 * first device, app A's security settings page needs a second factor: the issuer asks for the
 * code only — no password — and the person lands on the page, where app A's session and app B's
 * step-up API (called by app A with an exchanged token) both say two factors. Visited again, the
 * page asks nothing more.
 */
import { describe, expect, it } from 'vitest';
import { cspViolations, screenshot, waitForStatus, watchPages } from './browser.js';
import { signInAtIssuer, useDemoWorld } from './demo-world.js';
import { enrolAuthenticatorApp, totpCode } from './totp-codes.js';

const ALICE = /Signed in as Alice Example \(alice@example\.com\)/;

const world = useDemoWorld();

describe("app A's security settings page", () => {
  it('asks a password-only session for the second factor once, then lets the person in', async () => {
    const { stack, browser } = world.current;
    const { appA, issuer } = stack.urls;

    // Device 1: app A with a password alone; its home page needs nothing more.
    const device1 = await browser.newContext();
    const csp1 = cspViolations(device1);
    const seen = watchPages(device1);
    const a1 = await device1.newPage();
    await a1.goto(appA);
    await a1.locator('#sign-in').click();
    await signInAtIssuer(a1, 'alice@example.com');
    await a1.waitForURL((u) => u.origin === appA);
    await waitForStatus(a1, ALICE);
    const passwordPagesBefore = seen.passwordPages.length;

    // Device 2: the same person turns on an authenticator app at the issuer's account page.
    const device2 = await browser.newContext();
    const page2 = await device2.newPage();
    await page2.goto(`${issuer}/account`);
    await signInAtIssuer(page2, 'alice@example.com');
    await page2.waitForURL((u) => u.pathname === '/account');
    const key = await enrolAuthenticatorApp(page2, 'step-up-totp');

    // Device 1: the security page sends the session to the issuer, which asks for the code only.
    await a1.locator('#security').click();
    await a1.waitForURL((u) => u.origin === issuer && u.pathname === '/sign-in/factor');
    expect(await a1.locator('input[type=password]').count()).toBe(0);
    await screenshot(a1, 'step-up-factor-page');
    // The next step's code: the enrolment used this one's, and each is taken once.
    await a1.getByLabel('Code from your authenticator app').fill(totpCode(key, Date.now() + 30_000));
    await a1.getByRole('button', { name: 'Continue' }).first().click();
    await a1.waitForURL((u) => u.origin === appA && u.pathname === '/security');
    await expect.poll(() => a1.locator('#acr').textContent()).toBe('Two factors');
    expect(await a1.locator('#amr').textContent()).toMatch(/\bpwd\b.*\botp\b|\botp\b.*\bpwd\b/);
    // App B's step-up API took the token app A exchanged for this session's.
    expect(await a1.locator('#app-b-acr').textContent()).toBe('Two factors');
    await screenshot(a1, 'step-up-security-page');

    // Once is enough: the page again, and the home page, ask nothing.
    const factorPages = () => seen.visited.filter((u) => new URL(u).pathname === '/sign-in/factor').length;
    expect(factorPages()).toBe(1);
    await a1.goto(`${appA}/security`);
    await expect.poll(() => a1.locator('#acr').textContent()).toBe('Two factors');
    expect(new URL(a1.url()).pathname).toBe('/security');
    expect(factorPages()).toBe(1);
    await a1.goto(appA);
    await waitForStatus(a1, ALICE);
    expect(seen.passwordPages.length).toBe(passwordPagesBefore);
    expect(csp1).toEqual([]);
  });
});
