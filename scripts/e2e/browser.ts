/** Debian's Chromium driven by playwright-core; never a downloaded browser build. */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { ROOT } from '../src/demo-stack.js';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e');

// The sandbox needs privileges CI's root user does not have; the background services would try to
// reach the internet, which this machine does not allow.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the browser end-to-end tests cannot run. ` +
        "Install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH.",
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
}

/** Launches headless Chromium, or fails saying plainly that it is missing. */
export async function launchChromium(): Promise<Browser> {
  requireChromium();
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Headless Chromium on a profile of its own in `dir` (a fresh temporary folder): a person's
 * browser rather than an incognito context, which some features need — FedCM re-authenticates
 * automatically only there.
 */
export async function launchProfile(dir: string): Promise<BrowserContext> {
  requireChromium();
  return chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

let shot = 0;
/** Keeps a screenshot of the step as a test artifact. */
export async function screenshot(page: Page, name: string): Promise<void> {
  shot += 1;
  await page.screenshot({ path: join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/** Waits until `#status` reads `expected` (a regular expression). */
export async function waitForStatus(page: Page, expected: RegExp, timeoutMs = 10_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < end) {
    text =
      (await page
        .locator('#status')
        .textContent({ timeout: 1000 })
        .catch(() => null)) ?? '';
    if (expected.test(text)) return text;
    await page.waitForTimeout(100);
  }
  throw new Error(`#status on ${page.url()} is ${JSON.stringify(text)}, expected ${expected}`);
}

/**
 * Collects every Content-Security-Policy violation any page of `context` reports: a policy that
 * blocks our own pages is a bug.
 */
export function cspViolations(context: import('playwright-core').BrowserContext): string[] {
  const violations: string[] = [];
  const watch = (page: Page) =>
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text()))
        violations.push(`${page.url()}: ${msg.text()}`);
    });
  context.pages().forEach(watch);
  context.on('page', watch);
  return violations;
}

/** Records every page a device's tabs navigate to, and whether any showed a password field. */
export function watchPages(context: BrowserContext): { visited: string[]; passwordPages: string[] } {
  const visited: string[] = [];
  const passwordPages: string[] = [];
  context.on('page', (page) => track(page));
  const track = (page: Page) => {
    page.on('load', async () => {
      visited.push(page.url());
      if (
        (await page
          .locator('input[type=password]')
          .count()
          .catch(() => 0)) > 0
      )
        passwordPages.push(page.url());
    });
  };
  return { visited, passwordPages };
}

/** A credential the virtual authenticator holds, as the WebAuthn domain reports it. */
export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId: string;
  signCount: number;
}

/** A platform authenticator holding discoverable credentials, verifying the user, for `page`'s tab. */
export async function virtualAuthenticator(
  context: BrowserContext,
  page: Page,
): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}
