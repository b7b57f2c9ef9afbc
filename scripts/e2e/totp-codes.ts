/**
 * An authenticator app, as far as the browser tests need one: the key read from the issuer's
 * enrolment page, and RFC 6238 codes computed here, apart from the issuer's own library.
 */
import { createHmac } from 'node:crypto';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { screenshot } from './browser.js';

/** RFC 4648 base32, as the enrolment page shows the key. */
export function fromBase32(text: string): Buffer {
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
export function totpCode(key: Buffer, at: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

/**
 * On the issuer's account page (signed in within the fresh sign-in window): sets up an authenticator
 * app with a code for the current time step, and waits for the ten recovery codes. Returns the key.
 */
export async function enrolAuthenticatorApp(page: Page, shots: string): Promise<Buffer> {
  await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
  await page.waitForURL((u) => u.pathname === '/account/totp');
  await expect.poll(() => page.locator('.qr svg').count()).toBe(1);
  const key = fromBase32((await page.locator('#totp-secret').textContent())!.trim());
  await screenshot(page, `${shots}-enrolment`);
  await page.getByLabel('Code the app shows').fill(totpCode(key, Date.now()));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect.poll(() => page.locator('#recovery-codes li').count()).toBe(10);
  return key;
}
