/**
 * The key ring with several issuer processes on one database file (workers, or separate processes
 * behind one address): the JWKS and discovery every process publishes are the same at every
 * moment, from the first request after any of them changed the ring, and a due rotation happens
 * once however many processes find it due. The two issuers here are two connections to one file,
 * as two processes are to SQLite; neither runs its scheduler's tick unless a test says so.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeProtectedHeader, type JWK } from 'jose';
import { tickKeyRing } from '../src/keys/key-rotation-schedule.js';
import { rotateSigningKey } from '../src/keys/key-rotation.js';
import { generateSigningKey } from '../src/keys/signing-key-material.js';
import { seed, startIssuer, type RunningIssuer } from './support/fixture.js';
import { signInAndRedeem } from './support/browser.js';

const ENV = {
  TESSERA_KEY_CHECK_INTERVAL: '10',
  TESSERA_JWKS_MAX_AGE: '0',
  TESSERA_KEY_ROTATION_PERIOD: '60',
};

let first: RunningIssuer;
let second: RunningIssuer;
beforeEach(async () => {
  first = await startIssuer({ env: ENV });
  second = await startIssuer({ database: first.database, env: ENV });
});
afterEach(async () => {
  await second.stop();
  await first.cleanup();
});

const jwksAt = async (idp: RunningIssuer, headers: Record<string, string> = {}) => {
  const res = await fetch(new URL('/jwks', idp.url), { headers });
  return { status: res.status, etag: res.headers.get('etag'), body: await res.text() };
};
const kids = (body: string) => (JSON.parse(body) as { keys: JWK[] }).keys.map((k) => k.kid);
const algorithmsAt = async (idp: RunningIssuer) =>
  (
    (await (await fetch(new URL('/.well-known/openid-configuration', idp.url))).json()) as {
      id_token_signing_alg_values_supported: string[];
    }
  ).id_token_signing_alg_values_supported;

describe('the JWKS published by two processes on one database', () => {
  it('is the same document with the same ETag', async () => {
    const [a, b] = [await jwksAt(first), await jwksAt(second)];
    expect(b).toEqual(a);
  });

  it("is the same from the first request after one process changed the ring, before the other's tick", async () => {
    const before = await jwksAt(second);
    // A rotation at the first process: a new next key is published.
    const { next } = await rotateSigningKey(first.issuer.ctx, { trigger: 'command', force: true });
    const atFirst = await jwksAt(first);
    expect(kids(atFirst.body)).toContain(next);
    // A cache that just revalidated at the first process asks the second with the new ETag …
    expect((await jwksAt(second, { 'if-none-match': atFirst.etag! })).status).toBe(304);
    // … and one that still holds the old document gets the new one.
    const atSecond = await jwksAt(second, { 'if-none-match': before.etag! });
    expect(atSecond).toEqual({ ...atFirst, status: 200 });
  });

  it('names, in discovery, the algorithm of a key the other process published', async () => {
    const rows = await first.issuer.ctx.store.signingKeys.list();
    expect(await algorithmsAt(second)).toEqual(['ES256']);
    // The first process replaces its next key with an EdDSA one (TESSERA_SIGNING_ALG changed there).
    const next = rows.find((k) => k.state === 'next')!;
    const { config, clock } = first.issuer.ctx;
    const key = await generateSigningKey('EdDSA', 'next', config.keyEncryptionKey, clock.now());
    expect(await first.issuer.ctx.store.signingKeys.createNext(key, next.kid)).toBe(true);
    expect(await algorithmsAt(second)).toEqual(['ES256', 'EdDSA']);
    expect(await algorithmsAt(first)).toEqual(['ES256', 'EdDSA']);
  });
});

describe('a rotation that falls due at two processes at once', () => {
  it('happens once: one key promoted, one next key made, one audit event', async () => {
    const fx = await seed(first);
    const ring = async () => (await first.issuer.ctx.store.signingKeys.list()).map((k) => [k.kid, k.state] as const);
    const before = await first.issuer.ctx.store.signingKeys.list();
    const current = before.find((k) => k.state === 'current')!;
    const next = before.find((k) => k.state === 'next')!;
    // Past the rotation period, and the next key published for longer than check interval + max-age.
    first.clock.advance(61);
    second.clock.advance(61);
    await Promise.all([tickKeyRing(first.issuer.ctx), tickKeyRing(second.issuer.ctx)]);

    const after = new Map(await ring());
    expect(after.size).toBe(3);
    expect(after.get(current.kid)).toBe('retired');
    expect(after.get(next.kid)).toBe('current');
    expect([...after.values()].sort()).toEqual(['current', 'next', 'retired']);
    const rotations = await first.issuer.ctx.store.audit.list({ type: 'key.rotated', limit: 10 });
    expect(rotations).toHaveLength(1);
    // Both processes sign with the promoted key, and both publish it.
    for (const idp of [first, second]) {
      const { tokens } = await signInAndRedeem(idp.url, {
        clientId: fx.confidential.id,
        redirectUri: fx.redirectUri,
        auth: fx.confidential,
      });
      expect(decodeProtectedHeader(tokens.id_token as string).kid).toBe(next.kid);
      expect(kids((await jwksAt(idp)).body)).toContain(next.kid);
    }
  });
});
