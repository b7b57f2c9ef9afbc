/**
 * Sign-in across devices (RFC 8628), in a real browser: the command-line app (relying-apps/app-cli,
 * run as a process, as a person runs it) prints a code and a URL; a person opens the URL in
 * Chromium on "another device", signs in at the issuer, sees which app asks, and approves; the
 * command-line app, polling meanwhile, then calls app B's API as that person.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../src/demo-stack.js';
import { screenshot } from './browser.js';
import { signInAtIssuer, useDemoWorld } from './demo-world.js';

describe('the command-line app signed in from a browser on another device', () => {
  const world = useDemoWorld();

  it("shows a code, is approved in Chromium, and calls app B's API as the person", async () => {
    const { stack, browser } = world.current;
    const { issuer, appB } = stack.urls;
    const cli = spawn(
      process.execPath,
      ['--conditions=@tessera/source', '--import', 'tsx', join(ROOT, 'relying-apps/app-cli/src/main.ts')],
      {
        cwd: join(ROOT, 'relying-apps/app-cli'),
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TESSERA_ISSUER: issuer, APP_B_URL: appB },
      },
    );
    let stdout = '';
    let stderr = '';
    cli.stdout.on('data', (c) => (stdout += c));
    cli.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number>((resolve) => cli.on('close', (code) => resolve(code ?? 1)));
    try {
      const shown = await new Promise<string>((resolve, reject) => {
        const check = () => (/enter the code\s+[A-Z]{4}-[A-Z]{4}/.test(stdout) ? resolve(stdout) : undefined);
        cli.stdout.on('data', check);
        void exited.then((code) => reject(new Error(`app-cli exited (${code}) before showing a code: ${stderr}`)));
      });
      const url = /open (\S+)\n/.exec(shown)![1]!;
      const code = /enter the code\s+([A-Z]{4}-[A-Z]{4})/.exec(shown)![1]!;
      expect(url).toBe(`${issuer}/device`);

      // Another device: a fresh browser, not signed in, that types the URL and the code.
      const phone = await browser.newContext();
      const page = await phone.newPage();
      await page.goto(url);
      await signInAtIssuer(page, 'alice@example.com');
      await page.waitForURL((u) => u.pathname === '/device');
      await page.getByLabel('Enter the code shown on your device').fill(code.toLowerCase().replace('-', ''));
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByText('Tessera CLI wants to sign in on a device').waitFor();
      expect(await page.locator('.code').textContent()).toBe(code);
      await screenshot(page, 'device-approve');
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.getByText('Device connected').waitFor();
      await screenshot(page, 'device-connected');
      await phone.close();

      expect(await exited, stderr).toBe(0);
      expect(stdout).toContain('Signed in as Alice Example.');
      expect(stdout).toContain(
        `App B's API (${appB}) says: you are Alice Example <alice@example.com>, calling through app-cli.`,
      );
    } finally {
      cli.kill();
    }
  });
});
