/**
 * The account page in a real browser: from device 2, a person ends device 1's session at the
 * issuer; device 1 is then signed out of both apps, and device 2 is not. Another person changes
 * their password there, signing their other device out, then deletes their account.
 */
import { describe, expect, it } from 'vitest';
import { cspViolations, screenshot, waitForStatus } from './browser.js';
import { PASSWORD, signInAtIssuer, useDemoWorld } from './demo-world.js';

const ALICE = /Signed in as Alice Example \(alice@example\.com\)/;

const world = useDemoWorld();

describe('the account page', () => {
  it('lets device 2 end device 1, which is then signed out of both apps', async () => {
    const { stack, browser } = world.current;
    const { appA, appB, issuer } = stack.urls;

    // Device 1: signed in at app A, then at app B by single sign-on.
    const device1 = await browser.newContext({
      userAgent:
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
    });
    const device1Csp = cspViolations(device1);
    const a1 = await device1.newPage();
    await a1.goto(appA);
    await a1.locator('#sign-in').click();
    await signInAtIssuer(a1, 'alice@example.com');
    await waitForStatus(a1, ALICE);
    const b1 = await device1.newPage();
    await b1.goto(appB);
    await waitForStatus(b1, ALICE);

    // Device 2: the same person opens the account page at the issuer and signs in there.
    const device2 = await browser.newContext({
      userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 Firefox/130.0',
    });
    const device2Csp = cspViolations(device2);
    const account = await device2.newPage();
    await account.goto(`${issuer}/account`);
    await signInAtIssuer(account, 'alice@example.com');
    await account.waitForURL((u) => u.pathname === '/account');
    const devices = account.locator('ul.devices > li');
    await expect.poll(() => devices.count()).toBe(2);
    // The badge marks this device (the buttons say "Sign out this device" on every row).
    const thisDevice = devices.filter({ has: account.locator('.badge') });
    await expect.poll(async () => (await thisDevice.textContent()) ?? '').toContain('Firefox 130 on Windows');
    const other = devices.filter({ hasNot: account.locator('.badge') });
    await expect.poll(async () => (await other.textContent()) ?? '').toContain('Chrome 156 on Linux');
    await screenshot(account, 'account-two-devices');

    // Device 2 signs device 1 out.
    await other.getByRole('button', { name: 'Sign out this device' }).click();
    await account.waitForURL((u) => u.pathname === '/account');
    await expect.poll(() => devices.count()).toBe(1);
    await screenshot(account, 'account-one-device-left');

    // Device 1: app B's open page notices within seconds; app A's session was ended too.
    await waitForStatus(b1, /Signed out/, 8000);
    await screenshot(b1, 'device1-app-b-signed-out-from-account-page');
    await a1.reload();
    await waitForStatus(a1, /Signed out/);
    await screenshot(a1, 'device1-app-a-signed-out-from-account-page');
    // And the issuer does not sign device 1 back in silently.
    await b1.reload();
    await waitForStatus(b1, /Signed out/);

    // Device 2 is still signed in at the issuer.
    await account.reload();
    await expect.poll(async () => (await account.locator('h1').textContent()) ?? '').toBe('Your account');
    expect([...device1Csp, ...device2Csp]).toEqual([]);
  });

  it('changes the password, signing the other device out of the apps, then deletes the account', async () => {
    const { stack, browser } = world.current;
    const { appA, issuer } = stack.urls;
    const BOB = /Signed in as Bob Example \(bob@example\.com\)/;
    const NEW_PASSWORD = 'quiet harbour lanterns at dusk';

    // Device 1: Bob signed in at app A.
    const device1 = await browser.newContext();
    const a1 = await device1.newPage();
    await a1.goto(appA);
    await a1.locator('#sign-in').click();
    await signInAtIssuer(a1, 'bob@example.com');
    await waitForStatus(a1, BOB);

    // Device 2: the account page, then the password page; a weak password is refused with its reason.
    const device2 = await browser.newContext();
    const csp = cspViolations(device2);
    const page = await device2.newPage();
    await page.goto(`${issuer}/account`);
    await signInAtIssuer(page, 'bob@example.com');
    await page.waitForURL((u) => u.pathname === '/account');
    await page.getByRole('link', { name: 'Change your password' }).click();
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill('password1234567');
    await page.getByLabel('New password again').fill('password1234567');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(async () => (await page.getByRole('alert').textContent()) ?? '').toMatch(/too common/);
    await screenshot(page, 'account-password-refused');

    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('New password again').fill(NEW_PASSWORD);
    await page.getByLabel('Sign out my other devices').check();
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(async () => (await page.getByRole('status').first().textContent()) ?? '').toMatch(/changed/);
    await screenshot(page, 'account-password-changed');
    // Device 1 is signed out of app A (back-channel logout).
    await a1.reload();
    await waitForStatus(a1, /Signed out/);

    // Delete the account: the email typed, the new password given.
    await page.goto(`${issuer}/account/delete`);
    await page.getByLabel('Your password').fill(NEW_PASSWORD);
    await page.getByLabel(/To confirm, type your email address/).fill('bob@example.com');
    await screenshot(page, 'account-delete');
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.waitForURL((u) => u.pathname === '/account/deleted');
    await expect.poll(async () => (await page.locator('h1').textContent()) ?? '').toBe('Your account is deleted');
    await screenshot(page, 'account-deleted');
    // Neither password signs Bob in any more.
    await page.goto(`${issuer}/account`);
    await page.waitForURL((u) => u.pathname === '/sign-in');
    await page.getByLabel('Email').fill('bob@example.com');
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(async () => (await page.getByRole('alert').textContent()) ?? '').toMatch(/Incorrect/);
    expect(csp).toEqual([]);
  });
});
