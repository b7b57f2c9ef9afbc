/**
 * The key ring's life: next → current → retired → removed (OIDC Core §10.1.1). A key is
 * published for one JWKS max-age before it signs, and stays published until every token it
 * signed has expired. Time is moved with the issuer's TestClock; the scheduler's tick is the
 * same function its timer runs.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeProtectedHeader, type JWK } from 'jose';
import { tickKeyRing } from '../src/keys/key-rotation-schedule.js';
import { KeyRotationError, rotateSigningKey } from '../src/keys/key-rotation.js';
import { generateSigningKey } from '../src/keys/signing-key-material.js';
import type { StoredSigningKey } from '../src/store/signing-keys.js';
import { seed, sql, startIssuer, type RunningIssuer } from './support/fixture.js';
import { signInAndRedeem } from './support/browser.js';

/** Defaults, spelled out because the tests compute with them: 10 s check, 5 min max-age and token lifetimes. */
const ENV = {
  TESSERA_JWKS_MAX_AGE: '300',
  TESSERA_KEY_CHECK_INTERVAL: '10',
  TESSERA_ACCESS_TOKEN_TTL: '300',
  TESSERA_ID_TOKEN_TTL: '300',
  TESSERA_KEY_ROTATION_PERIOD: '30d',
  // Status list tokens live 2 × 60 s: shorter than the tokens above, so they do not set the retention.
  TESSERA_STATUS_LIST_TTL: '60',
};
/** check interval + max-age: how long a next key is published before it may sign. */
const PUBLISH_WAIT = 10 + 300;
/** check interval + longest token lifetime + 300 s verifier leeway (the kit's most): how long a retired key stays. */
const RETENTION = 10 + 300 + 300;

let idp: RunningIssuer;
let fx: Awaited<ReturnType<typeof seed>>;

const open = async (env: Record<string, string> = {}, dir?: string) => {
  idp = await startIssuer({ env: { ...ENV, ...env }, ...(dir ? { dir } : {}) });
  fx = await seed(idp);
};
beforeEach(() => open());
afterEach(() => idp.cleanup());

const ctx = () => idp.issuer.ctx;
const keysIn = async (state: string): Promise<StoredSigningKey[]> =>
  (await ctx().store.signingKeys.list()).filter((k) => k.state === state);
const only = async (state: string): Promise<StoredSigningKey> => {
  const keys = await keysIn(state);
  expect(keys, `keys in state ${state}`).toHaveLength(1);
  return keys[0]!;
};
const publishedKids = async () =>
  ((await (await fetch(new URL('/jwks', idp.url))).json()) as { keys: JWK[] }).keys.map((k) => k.kid);
const tick = () => tickKeyRing(ctx());
const mint = async () =>
  (await signInAndRedeem(idp.url, { clientId: fx.confidential.id, redirectUri: fx.redirectUri, auth: fx.confidential }))
    .tokens;
const kidOf = (token: unknown) => decodeProtectedHeader(token as string).kid;
const rotate = (force = false) => rotateSigningKey(ctx(), { trigger: 'command', force });

describe('a new issuer', () => {
  it('publishes a next key beside the current one from its first start', async () => {
    const current = await only('current');
    const next = await only('next');
    expect((await publishedKids()).sort()).toEqual([current.kid, next.kid].sort());
  });

  it('signs access and ID tokens with the current key, never with the next one', async () => {
    const tokens = await mint();
    expect(kidOf(tokens.access_token)).toBe((await only('current')).kid);
    expect(kidOf(tokens.id_token)).toBe((await only('current')).kid);
  });
});

describe('promotion of the next key', () => {
  it('is refused before the key has been published for one JWKS max-age plus the check interval', async () => {
    const next = await only('next');
    idp.clock.advance(300);
    const refusal = await rotate().catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(KeyRotationError);
    expect(refusal).toMatchObject({ code: 'ERR_NEXT_KEY_TOO_NEW', notBefore: next.createdAt + PUBLISH_WAIT * 1000 });
    expect((await only('next')).kid).toBe(next.kid);
  });

  it('makes the next key current and retires the current one once it has been published long enough', async () => {
    const [current, next] = [await only('current'), await only('next')];
    idp.clock.advance(PUBLISH_WAIT);
    const rotation = await rotate();
    expect(rotation).toMatchObject({ from: current.kid, to: next.kid, forced: false });
    expect(await only('current')).toMatchObject({ kid: next.kid, activatedAt: rotation.at });
    expect(await only('retired')).toMatchObject({ kid: current.kid, retiredAt: rotation.at });
  });

  it('publishes a new next key with the rotation, so the following one never waits for a key', async () => {
    idp.clock.advance(PUBLISH_WAIT);
    const rotation = await rotate();
    const next = await only('next');
    expect(next.kid).toBe(rotation.next);
    expect(next.alg).toBe('ES256');
    await tick();
    expect(await publishedKids()).toContain(next.kid);
  });

  it('happens early when forced, and the rotation says it was forced', async () => {
    const next = await only('next');
    const rotation = await rotate(true);
    expect(rotation).toMatchObject({ to: next.kid, forced: true });
  });

  it('is recorded in the audit trail with from and to', async () => {
    const [current, next] = [await only('current'), await only('next')];
    await rotate(true);
    const events = await ctx().store.audit.list({ type: 'key.rotated', limit: 10 });
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toMatchObject({ from: current.kid, to: next.kid, forced: true, trigger: 'command' });
  });

  it('moves signing to the new key at the next tick, not before', async () => {
    const next = await only('next');
    await rotate(true);
    expect(ctx().keys.kid).not.toBe(next.kid);
    await tick();
    expect(kidOf((await mint()).access_token)).toBe(next.kid);
  });
});

describe('a retired key', () => {
  it('still verifies the tokens it signed: userinfo accepts an access token signed before the rotation', async () => {
    const before = await mint();
    await rotate(true);
    await tick();
    const res = await fetch(new URL('/userinfo', idp.url), {
      headers: { authorization: `Bearer ${before.access_token as string}` },
    });
    expect(res.status).toBe(200);
  });

  it('stays published until every token it signed has expired, leeway included', async () => {
    const { from } = await rotate(true);
    idp.clock.advance(RETENTION - 1);
    await tick();
    expect(await publishedKids()).toContain(from);
    expect((await only('retired')).kid).toBe(from);
  });

  it('is then removed: no longer published, and its row with the encrypted private key deleted', async () => {
    const { from } = await rotate(true);
    idp.clock.advance(RETENTION);
    await tick();
    expect(await publishedKids()).not.toContain(from);
    expect((await ctx().store.signingKeys.list()).map((k) => k.kid)).not.toContain(from);
  });

  it('is kept for the longest token lifetime: an ID token lifetime of 1 h keeps it 1 h 310 s', async () => {
    await idp.cleanup();
    await open({ TESSERA_ID_TOKEN_TTL: '1h' });
    const { from } = await rotate(true);
    idp.clock.advance(10 + 3600 + 300 - 1);
    await tick();
    expect(await publishedKids()).toContain(from);
    idp.clock.advance(1);
    await tick();
    expect(await publishedKids()).not.toContain(from);
  });
});

describe('the scheduler', () => {
  it('does not rotate before the rotation period has passed', async () => {
    const current = await only('current');
    idp.clock.advance(30 * 86400 - 60);
    await tick();
    expect(ctx().keys.kid).toBe(current.kid);
  });

  it('rotates on its own once the rotation period has passed, and audits it', async () => {
    const next = await only('next');
    idp.clock.advance(30 * 86400);
    await tick();
    expect(ctx().keys.kid).toBe(next.kid);
    const [event] = await ctx().store.audit.list({ type: 'key.rotated', limit: 1 });
    expect(event!.detail).toMatchObject({ to: next.kid, forced: false, trigger: 'schedule' });
  });

  it('runs on its own timer', async () => {
    await idp.cleanup();
    await open({ TESSERA_KEY_CHECK_INTERVAL: '1' });
    const next = await only('next');
    idp.clock.advance(30 * 86400);
    await vi.waitFor(() => expect(ctx().keys.kid).toBe(next.kid), { timeout: 5000, interval: 100 });
  });

  it('keeps serving the ring it has when the store holds a key it cannot decrypt', async () => {
    const { store, clock, keys } = ctx();
    const served = keys.jwks;
    const alien = await generateSigningKey('ES256', 'next', randomBytes(32), clock.now());
    expect(await store.signingKeys.createNext(alien, (await only('next')).kid)).toBe(true);
    await expect(tick()).rejects.toThrow(/^TESSERA_KEY_ENCRYPTION_KEY: cannot decrypt signing key/);
    expect(keys.jwks).toBe(served);
  });

  it('puts a next key back when there is none', async () => {
    const next = await only('next');
    await sql(idp, "delete from signing_keys where state = 'next'");
    await tick();
    const again = await only('next');
    expect(again.kid).not.toBe(next.kid);
    expect(await publishedKids()).toContain(again.kid);
  });
});

describe('a change of TESSERA_SIGNING_ALG', () => {
  let first: StoredSigningKey;
  beforeEach(async () => {
    first = await only('current');
    await idp.stop();
    idp = await startIssuer({ database: idp.database, env: { ...ENV, TESSERA_SIGNING_ALG: 'EdDSA' } });
  });

  it('keeps signing with the current key after the restart', async () => {
    expect(ctx().keys.kid).toBe(first.kid);
    expect(ctx().keys.algorithm).toBe('ES256');
  });

  it('replaces the unused next key with one of the new algorithm, published from now on', async () => {
    const next = await only('next');
    expect(next.alg).toBe('EdDSA');
    expect(await publishedKids()).toContain(next.kid);
  });

  it('lists both algorithms in discovery while keys of both are published', async () => {
    const meta = (await (await fetch(new URL('/.well-known/openid-configuration', idp.url))).json()) as Record<
      string,
      unknown
    >;
    expect(meta.id_token_signing_alg_values_supported).toEqual(['ES256', 'EdDSA']);
  });

  it('signs with the new algorithm from the next rotation, its key waiting one max-age like any other', async () => {
    await expect(rotate()).rejects.toMatchObject({ code: 'ERR_NEXT_KEY_TOO_NEW' });
    idp.clock.advance(PUBLISH_WAIT);
    await rotate();
    await tick();
    expect(ctx().keys.algorithm).toBe('EdDSA');
    expect(ctx().keys.algorithms).toEqual(['EdDSA', 'ES256']);
  });

  it('leaves only the new algorithm once the old key is removed', async () => {
    idp.clock.advance(PUBLISH_WAIT);
    await rotate();
    idp.clock.advance(RETENTION);
    await tick();
    expect(ctx().keys.algorithms).toEqual(['EdDSA']);
  });
});
