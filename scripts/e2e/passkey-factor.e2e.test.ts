/**
 * A passkey as the second factor, in a real browser: Chromium's virtual authenticator (the
 * DevTools Protocol's WebAuthn domain) holds the passkey a person adds at the issuer's account page.
 * Signed out, they sign in to app A — registered to require a second factor — with their password,
 * and the issuer's factor page asks for the passkey: its "Use a passkey" button runs the ceremony,
 * and app A is told the person gave a password and a passkey. No CSP violation on the way.
 */
import { describe, expect, it } from 'vitest';
import { seedDatabase } from '../src/seeding.js';
import { cspViolations, screenshot, virtualAuthenticator, waitForStatus, watchPages } from './browser.js';
import { signInAtIssuer, useDemoWorld } from './demo-world.js';

const ALICE = /Signed in as Alice Example \(alice@example\.com\)/;

const world = useDemoWorld();

describe('a passkey after the password', () => {
  it('adds a passkey, signs out, and proves it as the second factor for an app that requires one', async () => {
    const { stack, browser, database } = world.current;
    const { appA, issuer } = stack.urls;
    const device = await browser.newContext();
    const violations = cspViolations(device);
    const seen = watchPages(device);
    const page = await device.newPage();
    const { cdp, authenticatorId } = await virtualAuthenticator(device, page);

    // Add a passkey from the account page, after signing in with the password.
    await page.goto(`${issuer}/account`);
    await signInAtIssuer(page, 'alice@example.com');
    await page.waitForURL((u) => u.pathname === '/account');
    await page.getByRole('link', { name: 'Add a passkey' }).click();
    await page.waitForURL((u) => u.pathname === '/account/passkeys/new');
    await page.getByLabel('Name').fill('Security key');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.waitForURL((u) => u.pathname === '/account');
    await expect.poll(() => page.locator('ul.passkeys > li').count()).toBe(1);

    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.waitForURL((u) => u.pathname === '/account/signed-out');

    // The operator makes app A require a second factor (what `clients create --require-mfa` records).
    await seedDatabase(database, async ({ store }) => {
      const client = await store.clients.findById('app-a');
      if (!client) throw new Error('the demo has no app A');
      await store.clients.update({ ...client, requireMfa: true });
    });

    // App A → the password. No presence for now: the sign-in page's autofill request would otherwise
    // be answered with the passkey at once, and this person signs in with the password.
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
    await page.goto(appA);
    await waitForStatus(page, /Signed out/);
    await page.locator('#sign-in').click();
    await signInAtIssuer(page, 'alice@example.com');
    await page.waitForURL((u) => u.origin === issuer && u.pathname === '/sign-in/factor');
    const usePasskey = page.getByRole('button', { name: 'Use a passkey' });
    await usePasskey.waitFor({ state: 'visible' });
    expect(await page.locator('input[type=password]').count()).toBe(0);
    await screenshot(page, 'passkey-factor-page');

    // The passkey, by the button: the browser's dialog, answered by the virtual authenticator.
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
    await usePasskey.click();
    await page.waitForURL((u) => u.origin === appA);
    await waitForStatus(page, ALICE);
    await page.goto(`${appA}/security`);
    await expect.poll(() => page.locator('#amr').textContent()).toMatch(/^pwd, (?:hwk|swk), user, mfa$/);
    expect(new URL(page.url()).pathname).toBe('/security');
    await screenshot(page, 'passkey-factor-app-a-security');
    expect(seen.visited.filter((u) => new URL(u).pathname === '/sign-in/factor')).toHaveLength(1);
    expect(violations).toEqual([]);
  });
});
