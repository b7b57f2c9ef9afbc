/**
 * A second factor in a real browser: a person turns on an authenticator app on the account page
 * (the key read from the enrolment page, as a person types it into their app), signs out, then
 * signs in to app A with their password and a code, and reaches app A.
 */
import { describe, expect, it } from 'vitest';
import { cspViolations, screenshot, waitForStatus } from './browser.js';
import { signInAtIssuer, useDemoWorld } from './demo-world.js';
import { enrolAuthenticatorApp, totpCode } from './totp-codes.js';

const BOB = /Signed in as Bob Example \(bob@example\.com\)/;

const world = useDemoWorld();

describe('an authenticator app as second factor', () => {
  it('is turned on at the account page, then asked for after the password at the next sign-in', async () => {
    const { stack, browser } = world.current;
    const { appA, issuer } = stack.urls;
    const context = await browser.newContext();
    const csp = cspViolations(context);
    const page = await context.newPage();

    await page.goto(`${issuer}/account`);
    await signInAtIssuer(page, 'bob@example.com');
    await page.waitForURL((u) => u.pathname === '/account');
    const key = await enrolAuthenticatorApp(page, 'totp');
    await screenshot(page, 'totp-recovery-codes');

    // Signed out at the issuer.
    await page.goto(`${issuer}/account`);
    await expect.poll(async () => (await page.locator('#second-factor').textContent()) ?? '').toContain('on');
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.waitForURL((u) => u.pathname === '/account/signed-out');

    // App A: the password, then the code — the next step's, as the enrolment used this one's.
    await page.goto(appA);
    await page.locator('#sign-in').click();
    await signInAtIssuer(page, 'bob@example.com');
    await page.waitForURL((u) => u.pathname === '/sign-in/factor');
    await screenshot(page, 'totp-factor-page');
    await page.getByLabel('Code from your authenticator app').fill(totpCode(key, Date.now() + 30_000));
    await page.getByRole('button', { name: 'Continue' }).first().click();
    await waitForStatus(page, BOB);
    await screenshot(page, 'totp-app-a-signed-in');
    expect(csp).toEqual([]);
  });
});
