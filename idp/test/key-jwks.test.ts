/**
 * The JWKS document follows the key ring: it and its ETag are computed when the ring changes
 * (a key published or removed), never per request and never when nothing changed, so caches
 * revalidating with If-None-Match (RFC 9110 §13.1.2) download it again only after a change.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tickKeyRing } from '../src/keys/key-rotation-schedule.js';
import { rotateSigningKey } from '../src/keys/key-rotation.js';
import { startIssuer, type RunningIssuer } from './support/fixture.js';

let idp: RunningIssuer;
beforeEach(async () => {
  idp = await startIssuer({
    env: {
      TESSERA_JWKS_MAX_AGE: '300',
      TESSERA_KEY_CHECK_INTERVAL: '10',
      TESSERA_ACCESS_TOKEN_TTL: '300',
      TESSERA_ID_TOKEN_TTL: '300',
      TESSERA_STATUS_LIST_TTL: '60',
    },
  });
});
afterEach(() => idp.cleanup());

const getJwks = (headers: Record<string, string> = {}) => fetch(new URL('/jwks', idp.url), { headers });
const etagNow = async () => (await getJwks()).headers.get('etag')!;
const tick = () => tickKeyRing(idp.issuer.ctx);
const forceRotation = () => rotateSigningKey(idp.issuer.ctx, { trigger: 'command', force: true });

describe('the JWKS ETag', () => {
  it('stays the same, and the document is not rebuilt, across requests and ticks that change nothing', async () => {
    const document = idp.issuer.ctx.keys.jwks;
    const etag = await etagNow();
    await tick();
    await tick();
    expect(await etagNow()).toBe(etag);
    expect(idp.issuer.ctx.keys.jwks).toBe(document);
  });

  it('changes when a rotation publishes a new next key', async () => {
    const etag = await etagNow();
    const { next } = await forceRotation();
    await tick();
    expect(await etagNow()).not.toBe(etag);
    const { keys } = (await (await getJwks()).json()) as { keys: { kid: string }[] };
    expect(keys.map((k) => k.kid)).toContain(next);
  });

  it('changes when a retired key is removed', async () => {
    await forceRotation();
    await tick();
    const etag = await etagNow();
    idp.clock.advance(10 + 300 + 300); // check interval + token lifetime + the largest verifier leeway
    await tick();
    expect(await etagNow()).not.toBe(etag);
  });

  it('does not change when only states change: the document lists keys by kid, whatever their state', async () => {
    const etag = await etagNow();
    const { store, keys, clock } = idp.issuer.ctx;
    const rows = await store.signingKeys.list();
    const current = rows.find((k) => k.state === 'current')!;
    const next = rows.find((k) => k.state === 'next')!;
    // A bare promotion, without the new next key a rotation would add.
    expect(await store.signingKeys.promote({ currentKid: current.kid, nextKid: next.kid, at: clock.now() })).toBe(true);
    expect(await keys.refresh()).toBe(true);
    expect(keys.kid).toBe(next.kid);
    expect(await etagNow()).toBe(etag);
  });

  it('answers a cache revalidating with the old ETag with the new document after a rotation', async () => {
    const etag = await etagNow();
    expect((await getJwks({ 'if-none-match': etag })).status).toBe(304);
    await forceRotation();
    await tick();
    const res = await getJwks({ 'if-none-match': etag });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).not.toBe(etag);
  });
});
