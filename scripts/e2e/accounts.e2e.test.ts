/**
 * Accounts by email, in a real browser against the demo stack: a person signs up at app A's
 * sign-in page, confirms the address from the mail, and signs in to app A; a person who forgot
 * their password asks for a link on another device, sets a new password, and their sessions in
 * both apps end (back-channel logout). The demo stack has no SMTP server: mail goes to the outbox
 * beside its database, as in `npm start`, and the test reads it there (parsed as the development
 * mail viewer parses it), the way a newcomer clicks a link at /dev/mail.
 */
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { listOutbox, readOutboxMessage } from '@tessera/idp';
import { cspViolations, screenshot, waitForStatus } from './browser.js';
import { signInAtIssuer, useDemoWorld } from './demo-world.js';

const NEW_PASSWORD = 'harbour lantern quietly drifting';

describe('accounts by email', () => {
  const world = useDemoWorld();
  const outbox = () => join(dirname(world.current.database), 'outbox');
  const read = new Set<string>();

  /** The link to `path` in the next message to `address`, waiting for the issuer to write it. */
  async function linkMailedTo(address: string, path: string): Promise<string> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      for (const name of await listOutbox(outbox())) {
        if (read.has(name)) continue;
        const message = await readOutboxMessage(outbox(), name);
        if (!message?.to.toLowerCase().includes(address)) continue;
        read.add(name);
        const link = [...message.text.matchAll(/https?:\/\/[^\s<>"]+/g)]
          .map((m) => new URL(m[0]))
          .find((u) => u.pathname === path);
        expect(link?.origin).toBe(world.current.stack.urls.issuer);
        return link!.href;
      }
      if (Date.now() > deadline) throw new Error(`no mail to ${address} in ${outbox()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function signInAt(page: Page, app: string, email: string, password: string, status: RegExp) {
    await page.goto(app);
    await page.locator('#sign-in').click();
    await page.waitForURL((u) => u.pathname === '/sign-in');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((u) => u.origin === app);
    await waitForStatus(page, status);
  }

  it('signs up, confirms the address from the mail, and signs in to app A', async () => {
    const { stack, browser } = world.current;
    const context = await browser.newContext();
    const csp = cspViolations(context);
    const page = await context.newPage();
    await page.goto(stack.urls.appA);
    await page.locator('#sign-in').click();
    await page.waitForURL((u) => u.pathname === '/sign-in');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Name').fill('Wendy Example');
    await page.getByLabel('Email').fill('wendy@example.com');
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await screenshot(page, 'accounts-sign-up');
    await page.getByRole('button', { name: 'Create the account' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();

    await page.goto(await linkMailedTo('wendy@example.com', '/email/verify'));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { name: 'Your email address is confirmed' }).waitFor();
    await screenshot(page, 'accounts-email-confirmed');

    await signInAt(page, stack.urls.appA, 'wendy@example.com', NEW_PASSWORD, /Signed in as Wendy Example/);
    await screenshot(page, 'accounts-signed-up-at-app-a');
    expect(csp).toEqual([]);
    await context.close();
  });

  it('resets a forgotten password from the mail, ending the old sessions in both apps', async () => {
    const { stack, browser } = world.current;
    // The first device: signed in at app A, and at app B by single sign-on.
    const laptop = await browser.newContext();
    const a = await laptop.newPage();
    await a.goto(stack.urls.appA);
    await a.locator('#sign-in').click();
    await signInAtIssuer(a, 'bob@example.com');
    await a.waitForURL((u) => u.origin === stack.urls.appA);
    await waitForStatus(a, /Signed in as Bob Example/);
    const b = await laptop.newPage();
    await b.goto(stack.urls.appB);
    await waitForStatus(b, /Signed in as Bob Example/);

    // Another device: "Forgot your password?" on the sign-in page.
    const phone = await browser.newContext();
    const csp = cspViolations(phone);
    const page = await phone.newPage();
    await page.goto(stack.urls.appA);
    await page.locator('#sign-in').click();
    await page.waitForURL((u) => u.pathname === '/sign-in');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill('bob@example.com');
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();

    await page.goto(await linkMailedTo('bob@example.com', '/password/reset'));
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('The new password again').fill(NEW_PASSWORD);
    await screenshot(page, 'accounts-new-password');
    await page.getByRole('button', { name: 'Set the password' }).click();
    await page.getByRole('heading', { name: 'Your password is changed' }).waitFor();

    // The laptop's sessions ended in both apps (back-channel logout): app B's open page sees it
    // without a reload, and neither app signs the person back in.
    await waitForStatus(b, /Signed out/, 8000);
    await a.reload();
    await waitForStatus(a, /Signed out/);
    await b.reload();
    await waitForStatus(b, /Signed out/);
    await screenshot(b, 'accounts-app-b-signed-out-by-reset');

    // The new password signs in.
    await signInAt(page, stack.urls.appA, 'bob@example.com', NEW_PASSWORD, /Signed in as Bob Example/);
    expect(csp).toEqual([]);
    await laptop.close();
    await phone.close();
  });
});
