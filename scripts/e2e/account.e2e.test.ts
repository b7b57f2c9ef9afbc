/**
 * The account page in a real browser: from device 2, a person ends device 1's session at the
 * issuer; device 1 is then signed out of both apps, and device 2 is not.
 */
import { describe, expect, it } from 'vitest';
import { cspViolations, screenshot, waitForStatus } from './browser.js';
import { signInAtIssuer, useDemoWorld } from './demo-world.js';

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
});
