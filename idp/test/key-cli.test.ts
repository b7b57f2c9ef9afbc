/**
 * `npm run idp -- keys list|rotate`, run as the operator runs it: a separate process on the
 * issuer's database. The running issuer notices what the CLI changed within one check interval.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import type { SigningKeyListing } from '../src/keys/key-commands.js';
import type { Rotation } from '../src/keys/key-rotation.js';
import { seed, startIssuer, type RunningIssuer } from './support/fixture.js';
import { signInAndRedeem } from './support/browser.js';

const IDP_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The issuer and the CLI share their environment, as they must in production. */
interface Env {
  [name: string]: string;
}

function cli(args: string[], env: Env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@tessera/source', '--import', 'tsx', 'src/cli/main.ts', ...args],
      // Only what the CLI needs, so no TESSERA_* of the machine running the tests leaks in.
      { cwd: IDP_DIR, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 45_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const statesOf = async (running: RunningIssuer) =>
  Object.fromEntries((await running.issuer.ctx.store.signingKeys.list()).map((k) => [k.kid, k.state]));

describe('keys list and keys rotate, against a running issuer', { timeout: 60_000 }, () => {
  const ENV = { TESSERA_JWKS_MAX_AGE: '300', TESSERA_KEY_CHECK_INTERVAL: '1' };
  let idp: RunningIssuer;
  let fx: Awaited<ReturnType<typeof seed>>;
  let env: Env;

  beforeAll(async () => {
    idp = await startIssuer({ env: ENV });
    fx = await seed(idp);
    env = { ...ENV, TESSERA_DATABASE: idp.database };
  });
  afterAll(() => idp.cleanup());

  it('keys list --json shows each key with its state and times', async () => {
    const { code, stdout } = await cli(['keys', 'list', '--json'], env);
    expect(code).toBe(0);
    const keys = JSON.parse(stdout) as SigningKeyListing[];
    const stored = await idp.issuer.ctx.store.signingKeys.list();
    expect(keys.map((k) => [k.kid, k.state])).toEqual([
      [stored.find((k) => k.state === 'next')!.kid, 'next'],
      [stored.find((k) => k.state === 'current')!.kid, 'current'],
    ]);
    const next = stored.find((k) => k.state === 'next')!;
    expect(keys[0]).toEqual({
      kid: next.kid,
      alg: 'ES256',
      state: 'next',
      created: new Date(next.createdAt).toISOString(),
      activated: null,
      retired: null,
      due: new Date(next.createdAt + (1 + 300) * 1000).toISOString(),
    });
  });

  it('keys list prints a table with one row per key', async () => {
    const { code, stdout } = await cli(['keys', 'list'], env);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^kid\s+alg\s+state\s+created\s+activated\s+retired\s+due$/);
    expect(lines).toHaveLength(3);
  });

  it('keys rotate refuses while the next key is too new, says from when it can sign, and changes nothing', async () => {
    const states = await statesOf(idp);
    const { code, stderr } = await cli(['keys', 'rotate'], env);
    expect(code).toBe(1);
    expect(stderr).toMatch(/has not been published for one JWKS max-age .*: it can sign from \d{4}-\d\d-\d\dT/);
    expect(await statesOf(idp)).toEqual(states);
  });

  it('keys rotate with another key-encryption key is refused before anything is stored', async () => {
    const states = await statesOf(idp);
    const { code, stderr } = await cli(['keys', 'rotate', '--force'], {
      ...env,
      TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: TESSERA_KEY_ENCRYPTION_KEY: cannot decrypt signing key/);
    expect(await statesOf(idp)).toEqual(states);
  });

  it('keys rotate --force promotes the next key at once and warns that caches may lack it', async () => {
    const next = (await idp.issuer.ctx.store.signingKeys.list()).find((k) => k.state === 'next')!;
    const { code, stdout } = await cli(['keys', 'rotate', '--force'], env);
    expect(code).toBe(0);
    expect(stdout).toContain(`rotated: ${next.kid} signs from now on`);
    expect(stdout).toMatch(/^forced: verifiers whose cached JWKS predates/m);
    expect((await statesOf(idp))[next.kid]).toBe('current');
  });

  it('is picked up by the running issuer within its check interval: new tokens carry the new kid', async () => {
    const current = (await idp.issuer.ctx.store.signingKeys.list()).find((k) => k.state === 'current')!;
    await vi.waitFor(() => expect(idp.issuer.ctx.keys.kid).toBe(current.kid), { timeout: 5000, interval: 100 });
    const { tokens } = await signInAndRedeem(idp.url, {
      clientId: fx.confidential.id,
      redirectUri: fx.redirectUri,
      auth: fx.confidential,
    });
    expect(decodeProtectedHeader(tokens.access_token as string).kid).toBe(current.kid);
  });

  it('reaches the running issuer within its check interval: the JWKS publishes the next key the CLI made', async () => {
    const next = (await idp.issuer.ctx.store.signingKeys.list()).find((k) => k.state === 'next')!;
    const publishedKids = async () =>
      ((await (await fetch(new URL('/jwks', idp.url))).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    await vi.waitFor(async () => expect(await publishedKids()).toContain(next.kid), { timeout: 5000, interval: 100 });
  });
});

describe('keys rotate without --force', { timeout: 60_000 }, () => {
  // A max-age of 0 makes the wait one check interval (1 s), so the test need not move the clock
  // of a separate process.
  const ENV = { TESSERA_JWKS_MAX_AGE: '0', TESSERA_KEY_CHECK_INTERVAL: '1' };
  let idp: RunningIssuer;
  beforeAll(async () => {
    idp = await startIssuer({ env: ENV });
  });
  afterAll(() => idp.cleanup());

  it('promotes the next key once it has been published long enough, and audits it', async () => {
    const next = (await idp.issuer.ctx.store.signingKeys.list()).find((k) => k.state === 'next')!;
    await new Promise((r) => setTimeout(r, Math.max(0, next.createdAt + 1000 - Date.now() + 50)));
    const { code, stdout } = await cli(['keys', 'rotate', '--json'], { ...ENV, TESSERA_DATABASE: idp.database });
    expect(code).toBe(0);
    const rotation = JSON.parse(stdout) as Rotation;
    expect(rotation).toMatchObject({ to: next.kid, forced: false });
    const [event] = await idp.issuer.ctx.store.audit.list({ type: 'key.rotated', limit: 1 });
    expect(event!.detail).toMatchObject({ from: rotation.from, to: next.kid, trigger: 'command', forced: false });
  });
});
