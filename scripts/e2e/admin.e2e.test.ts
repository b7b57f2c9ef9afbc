/**
 * The admin console in a real browser: the operator grants alice the admin role with the CLI;
 * alice turns on an authenticator app, signs in again with her password and a code, opens the
 * console, finds bob — signed in to app A and app B in his own browser — and disables him. Bob is
 * then signed out of both apps (back-channel logout) and refused at his next sign-in. Each console
 * page is kept as a PNG in test-artifacts/e2e/admin/, with every other e2e screenshot (the clients page too).
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../src/demo-stack.js';
import { ARTIFACTS, cspViolations, waitForStatus } from './browser.js';
import { signInAtIssuer, useDemoWorld } from './demo-world.js';
import { enrolAuthenticatorApp, totpCode } from './totp-codes.js';

const BOB = /Signed in as Bob Example \(bob@example\.com\)/;
const SCREENSHOTS = join(ARTIFACTS, 'admin');

const world = useDemoWorld();

/** One PNG per console page, by name, for the README. */
async function keep(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `admin-${name}.png`), fullPage: true });
}

/** `npm run idp -- ARGS` as the operator types it, on the demo's database. */
function idpCli(database: string, ...args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'idp', '--', ...args], {
      cwd: ROOT,
      env: { ...process.env, TESSERA_DATABASE: database },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

describe('the admin console', () => {
  it('disables a person signed in to both apps, who is signed out of both and refused at sign-in', async () => {
    const { stack, browser, database } = world.current;
    const { appA, appB, issuer } = stack.urls;

    // Bob, in his own browser: signed in at app A, then at app B by single sign-on.
    const bobContext = await browser.newContext();
    const bobCsp = cspViolations(bobContext);
    const bobA = await bobContext.newPage();
    await bobA.goto(appA);
    await bobA.locator('#sign-in').click();
    await signInAtIssuer(bobA, 'bob@example.com');
    await waitForStatus(bobA, BOB);
    const bobB = await bobContext.newPage();
    await bobB.goto(appB);
    await waitForStatus(bobB, BOB);

    // The operator makes alice an admin.
    const granted = await idpCli(database, 'users', 'grant-admin', 'alice@example.com');
    expect(granted, granted.output).toMatchObject({ code: 0 });
    expect(granted.output).toContain('alice@example.com is an admin');

    // Alice turns on an authenticator app, signs out, and opens the console: password, then code.
    const aliceContext = await browser.newContext();
    const aliceCsp = cspViolations(aliceContext);
    const admin = await aliceContext.newPage();
    await admin.goto(`${issuer}/account`);
    await signInAtIssuer(admin, 'alice@example.com');
    await admin.waitForURL((u) => u.pathname === '/account');
    const key = await enrolAuthenticatorApp(admin, 'admin-alice');
    await admin.goto(`${issuer}/account`);
    await admin.getByRole('button', { name: 'Sign out everywhere' }).click();
    await admin.waitForURL((u) => u.pathname === '/account/signed-out');

    await admin.goto(`${issuer}/admin`);
    await signInAtIssuer(admin, 'alice@example.com');
    await admin.waitForURL((u) => u.pathname === '/sign-in/factor');
    // The next step's code: the enrolment used this one's.
    await admin.getByLabel('Code from your authenticator app').fill(totpCode(key, Date.now() + 30_000));
    await admin.getByRole('button', { name: 'Continue' }).first().click();
    await admin.waitForURL((u) => u.pathname === '/admin');
    await expect.poll(async () => (await admin.locator('h1').textContent()) ?? '').toBe('Admin console');
    await keep(admin, 'console');

    // Finds bob and disables him.
    await admin.getByLabel('Find people by email or name').fill('bob');
    await admin.getByRole('button', { name: 'Search' }).click();
    await admin.waitForURL((u) => u.pathname === '/admin/users');
    await keep(admin, 'users');
    await admin.getByRole('link', { name: 'bob@example.com' }).click();
    await admin.waitForURL((u) => u.pathname.startsWith('/admin/users/'));
    await expect.poll(() => admin.locator('table tbody tr').count()).toBe(1);
    await keep(admin, 'user');
    await admin.getByRole('button', { name: 'Disable account' }).click();
    await expect.poll(async () => (await admin.getByRole('status').textContent()) ?? '').toContain('disabled');
    await expect.poll(() => admin.getByRole('button', { name: 'Enable account' }).count()).toBe(1);
    await keep(admin, 'user-disabled');

    // Bob: app B's open page notices within seconds; app A's session was ended too.
    await waitForStatus(bobB, /Signed out/, 8000);
    await bobA.reload();
    await waitForStatus(bobA, /Signed out/);
    // And his next sign-in, with the right password, is refused.
    await bobA.locator('#sign-in').click();
    await signInAtIssuer(bobA, 'bob@example.com');
    await expect
      .poll(async () => (await bobA.getByRole('alert').textContent()) ?? '')
      .toContain('This account is disabled.');
    await keep(bobA, 'sign-in-refused');

    // The console's record of it: the audit trail, filtered to bob, and the signing keys.
    await admin.goto(`${issuer}/admin/audit?person=bob%40example.com`);
    await expect.poll(() => admin.locator('table tbody tr', { hasText: 'user.disabled' }).count()).toBe(1);
    await keep(admin, 'audit');
    await admin.goto(`${issuer}/admin/clients`);
    await expect.poll(() => admin.getByRole('link', { name: 'app-a', exact: true }).count()).toBe(1);
    await keep(admin, 'clients');
    await admin.goto(`${issuer}/admin/keys`);
    await expect.poll(() => admin.locator('table tbody tr', { hasText: 'current' }).count()).toBe(1);
    await keep(admin, 'keys');
    expect([...bobCsp, ...aliceCsp]).toEqual([]);
  });
});
