/**
 * Passkeys in a real browser: Chromium's virtual authenticator (the DevTools Protocol's WebAuthn
 * domain) stands in for a platform authenticator with user verification. A person adds a passkey
 * at the issuer's account page, signs out, signs in at app A with the passkey and no password, and
 * is signed in at app B by single sign-on. The issuer's pages run the ceremonies with its own
 * script under its nonce CSP, which reports no violation.
 */
import { describe, expect, it } from 'vitest';
import { cspViolations, screenshot, virtualAuthenticator, waitForStatus, type VirtualCredential } from './browser.js';
import { signInAtIssuer, useDemoWorld } from './demo-world.js';

const ALICE = /Signed in as Alice Example \(alice@example\.com\)/;

const world = useDemoWorld();

describe('passkeys', () => {
  it('adds a passkey, signs out, signs in with it (no password) and reaches app A and app B', async () => {
    const { stack, browser } = world.current;
    const { appA, appB, issuer } = stack.urls;
    const device = await browser.newContext();
    const violations = cspViolations(device);
    const page = await device.newPage();
    const { cdp, authenticatorId } = await virtualAuthenticator(device, page);
    const credentials = async () =>
      ((await cdp.send('WebAuthn.getCredentials', { authenticatorId })) as { credentials: VirtualCredential[] })
        .credentials;

    // Add a passkey from the account page, after signing in with the password.
    await page.goto(`${issuer}/account`);
    await signInAtIssuer(page, 'alice@example.com');
    await page.waitForURL((u) => u.pathname === '/account');
    await page.getByRole('link', { name: 'Add a passkey' }).click();
    await page.waitForURL((u) => u.pathname === '/account/passkeys/new');
    await page.getByLabel('Name').fill('Work laptop');
    await screenshot(page, 'passkeys-add');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.waitForURL((u) => u.pathname === '/account');
    const listed = page.locator('ul.passkeys > li');
    await expect.poll(() => listed.count()).toBe(1);
    expect(await listed.locator('h3').textContent()).toBe('Work laptop');
    expect(await listed.textContent()).toContain('Never');
    await screenshot(page, 'passkeys-listed');
    const [created] = await credentials();
    expect(created).toMatchObject({ isResidentCredential: true, rpId: new URL(issuer).hostname });

    // Sign out everywhere: the issuer no longer knows this browser.
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.waitForURL((u) => u.pathname === '/account/signed-out');

    // App A → the issuer's sign-in page → the passkey, no email and no password typed. The page asks
    // for it through the email field's autofill (conditional mediation), which the virtual
    // authenticator answers at once, as a person picking the suggested passkey would.
    await page.goto(appA);
    await waitForStatus(page, /Signed out/);
    await page.locator('#sign-in').click();
    await page.waitForURL((u) => u.origin === appA);
    await waitForStatus(page, ALICE);
    await screenshot(page, 'passkeys-app-a-signed-in-by-autofill');
    const [used] = await credentials();
    expect(used?.credentialId).toBe(created?.credentialId);

    // Signed out again, with the autofill request left waiting (no presence simulated), the page
    // shows the button that asks for the passkey in the browser's own dialog.
    await page.locator('#sign-out').click();
    await waitForStatus(page, /Signed out/);
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
    await page.locator('#sign-in').click();
    await page.waitForURL((u) => u.origin === issuer && u.pathname === '/sign-in');
    const passkeyButton = page.getByRole('button', { name: 'Sign in with a passkey', exact: true });
    await passkeyButton.waitFor({ state: 'visible' });
    expect(await page.getByLabel('Email').getAttribute('autocomplete')).toBe('username webauthn');
    await screenshot(page, 'passkeys-sign-in-page');
    // Presence back on, the button starts its own ceremony (aborting the waiting autofill request)
    // and the passkey signs in. (Which of the two requests the virtual authenticator answered, the
    // browser does not tell; the button's own path is the same form post.)
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
    await passkeyButton.click();
    await page.waitForURL((u) => u.origin === appA);
    await waitForStatus(page, ALICE);
    expect(await page.getByLabel('Password').count()).toBe(0);

    // App B, another site: signed in from the issuer's session.
    const b = await device.newPage();
    await b.goto(appB);
    await waitForStatus(b, ALICE);
    await screenshot(b, 'passkeys-app-b-signed-in-by-sso');

    // The account page shows when the passkey was last used.
    await page.goto(`${issuer}/account`);
    await expect.poll(async () => (await page.locator('ul.passkeys > li').textContent()) ?? '').not.toContain('Never');
    expect(violations).toEqual([]);
  });
});
