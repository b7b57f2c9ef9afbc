/**
 * A second factor in a real browser: a person turns on an authenticator app on the account page
 * (the key read from the enrolment page, as a person types it into their app), signs out, then
 * signs in to app A with their password and a code, and reaches app A.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cspViolations, screenshot, waitForStatus } from './browser.js';
import { signInAtIssuer, useDemoWorld } from './demo-world.js';

const BOB = /Signed in as Bob Example \(bob@example\.com\)/;

/** RFC 4648 base32, as the enrolment page shows the key. */
function fromBase32(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 with the app defaults (HMAC-SHA-1, 30 s, 6 digits), written here apart from the issuer's library. */
function totpCode(key: Buffer, at: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

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
    await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
    await page.waitForURL((u) => u.pathname === '/account/totp');
    await expect.poll(() => page.locator('.qr svg').count()).toBe(1);
    const key = fromBase32((await page.locator('#totp-secret').textContent())!.trim());
    await screenshot(page, 'totp-enrolment');
    await page.getByLabel('Code the app shows').fill(totpCode(key, Date.now()));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expect.poll(() => page.locator('#recovery-codes li').count()).toBe(10);
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
