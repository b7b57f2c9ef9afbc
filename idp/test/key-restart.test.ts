/**
 * The key ring lives in the store: an issuer restarted on the same database finds every key in
 * the state it was left in, with the times its next transitions are counted from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import { tickKeyRing } from '../src/keys/key-rotation-schedule.js';
import { rotateSigningKey } from '../src/keys/key-rotation.js';
import type { StoredSigningKey } from '../src/store/signing-keys.js';
import { seed, startIssuer, type RunningIssuer } from './support/fixture.js';
import { signInAndRedeem } from './support/browser.js';

const ENV = {
  TESSERA_JWKS_MAX_AGE: '300',
  TESSERA_KEY_CHECK_INTERVAL: '10',
  TESSERA_ACCESS_TOKEN_TTL: '300',
  TESSERA_ID_TOKEN_TTL: '300',
  TESSERA_STATUS_LIST_TTL: '60',
};

let first: RunningIssuer;
let second: RunningIssuer;
let fx: Awaited<ReturnType<typeof seed>>;
let before: StoredSigningKey[];
let jwksBefore: { body: string; etag: string | null };

const rowsOf = async (running: RunningIssuer) =>
  (await running.issuer.ctx.store.signingKeys.list()).sort((a, b) => (a.kid < b.kid ? -1 : 1));
const jwksOf = async (running: RunningIssuer) => {
  const res = await fetch(new URL('/jwks', running.url));
  return { body: await res.text(), etag: res.headers.get('etag') };
};

beforeAll(async () => {
  first = await startIssuer({ env: ENV });
  fx = await seed(first);
  // One rotation leaves a key in each state: retired, current, next.
  await rotateSigningKey(first.issuer.ctx, { trigger: 'command', force: true });
  await tickKeyRing(first.issuer.ctx);
  before = await rowsOf(first);
  jwksBefore = await jwksOf(first);
  await first.stop();
  second = await startIssuer({ database: first.database, env: ENV });
});
afterAll(async () => {
  await first.stop();
  await second.cleanup();
});

describe('an issuer restarted on the same database', () => {
  it('finds each key in its state, with its times', async () => {
    expect(before.map((k) => k.state).sort()).toEqual(['current', 'next', 'retired']);
    expect(await rowsOf(second)).toEqual(before);
  });

  it('serves the same JWKS document with the same ETag', async () => {
    expect(await jwksOf(second)).toEqual(jwksBefore);
  });

  it('signs with the key that was current before the restart', async () => {
    const { tokens } = await signInAndRedeem(second.url, {
      clientId: fx.confidential.id,
      redirectUri: fx.redirectUri,
      auth: fx.confidential,
    });
    expect(decodeProtectedHeader(tokens.access_token as string).kid).toBe(
      before.find((k) => k.state === 'current')!.kid,
    );
  });

  it('still removes the retired key once every token it signed has expired', async () => {
    const retired = before.find((k) => k.state === 'retired')!;
    // Both issuers' clocks started from real time: move to retirement + check interval + lifetime + leeway.
    second.clock.advance((retired.retiredAt! - Date.now()) / 1000 + 10 + 300 + 300);
    await tickKeyRing(second.issuer.ctx);
    expect((await rowsOf(second)).map((k) => k.kid)).not.toContain(retired.kid);
  });
});
