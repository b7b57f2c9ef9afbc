/**
 * The demo's three sites on free loopback ports, a fresh database, and Chromium: one per test
 * file, or per `describe` block. The cluster variant is `npm run start:cluster`'s: three issuer
 * nodes on a throwaway PostgreSQL server behind nginx.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startThrowawayPostgres, type ThrowawayPostgres } from '@tessera/shared/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startDemoStack, type DemoStack, type DemoStackOptions } from '../src/demo-stack.js';
import { freePorts } from '../src/free-ports.js';
import { launchChromium } from './browser.js';

export const PASSWORD = 'e2e-demo-password';

export interface DemoWorld {
  stack: DemoStack;
  browser: Browser;
  /** The issuer's database (a SQLite file or a postgres:// URL), for what a test registers as an operator would. */
  database: string;
}

export interface DemoWorldOptions {
  /** Extra environment for one service alone (see {@link DemoStackOptions.serviceEnv}). */
  serviceEnv?: DemoStackOptions['serviceEnv'];
  /** Three issuer nodes on PostgreSQL behind nginx, rather than one process on SQLite. */
  cluster?: boolean;
}

/**
 * Registers beforeAll/afterAll hooks that start and stop the world; read it inside tests. Called
 * inside a `describe`, the world lives for that block alone.
 */
export function useDemoWorld(options: DemoWorldOptions = {}): { readonly current: DemoWorld } {
  let dir: string | undefined;
  let postgres: ThrowawayPostgres | undefined;
  const world = { current: undefined as unknown as DemoWorld };
  beforeAll(async () => {
    const browser = await launchChromium();
    dir = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
    const [p1, p2, p3] = await freePorts(3);
    if (options.cluster) postgres = await startThrowawayPostgres();
    const database = postgres ? postgres.url : join(dir, 'tessera.db');
    const stack = await startDemoStack({
      urls: {
        issuer: `http://idp.localhost:${p1}`,
        appA: `http://app-a.localhost:${p2}`,
        appB: `http://app-b.localhost:${p3}`,
      },
      database,
      issuerNodes: options.cluster ? 3 : 1,
      password: PASSWORD,
      ...(options.serviceEnv === undefined ? {} : { serviceEnv: options.serviceEnv }),
      output: () => {},
    });
    world.current = { stack, browser, database };
  });
  afterAll(async () => {
    await world.current?.browser.close();
    await world.current?.stack.stop();
    await postgres?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return world;
}

/** Fills and sends the issuer's sign-in form, as a person would. */
export async function signInAtIssuer(page: Page, email: string): Promise<void> {
  await page.waitForURL((u) => u.pathname === '/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}
