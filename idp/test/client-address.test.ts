/**
 * The client IP behind reverse proxies (TESSERA_TRUST_PROXY): read from the right of
 * X-Forwarded-For past the trusted hops, so a client cannot choose its address by sending the
 * header itself through a proxy that appends to it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCookieJarClient, formValue } from '@tessera/shared/testing';
import { ConfigError } from '@tessera/shared';
import { loadConfig } from '../src/config/load-config.js';
import type { PasswordParams } from '../src/crypto/passwords.js';
import { clientAddress, parseTrustedProxies, type TrustedProxies } from '../src/http/client-address.js';
import { startIssuer, type RunningIssuer } from './support/fixture.js';

const trust = (raw: string | undefined): TrustedProxies => parseTrustedProxies(raw);

describe('TESSERA_TRUST_PROXY', () => {
  it.each([
    [undefined, { kind: 'none' }],
    ['', { kind: 'none' }],
    ['false', { kind: 'none' }],
    ['0', { kind: 'none' }],
    ['1', { kind: 'hops', hops: 1 }],
    ['2', { kind: 'hops', hops: 2 }],
    ['Off', { kind: 'none' }],
    // What the switch meant before hop counts: one proxy in front.
    ['true', { kind: 'hops', hops: 1 }],
    ['on', { kind: 'hops', hops: 1 }],
    ['YES', { kind: 'hops', hops: 1 }],
  ])('reads %j', (raw, expected) => {
    expect(trust(raw)).toEqual(expected);
  });

  it('reads a list of proxy addresses and CIDR ranges', () => {
    const t = trust(' 10.0.0.1, 192.168.0.0/16 ,2001:db8::/32,::1');
    expect(t).toMatchObject({ kind: 'addresses', addresses: ['10.0.0.1', '192.168.0.0/16', '2001:db8::/32', '::1'] });
  });

  it.each(['maybe', 'proxy.internal', '10.0.0.1,', '10.0.0.0/33', '10.0.0.1/8/2', '17', '1.5', '-1'])(
    'refuses %j with a ConfigError naming the variable',
    (raw) => {
      expect(() => loadConfig({ TESSERA_TRUST_PROXY: raw })).toThrow(ConfigError);
      expect(() => loadConfig({ TESSERA_TRUST_PROXY: raw })).toThrow(/^TESSERA_TRUST_PROXY: /);
    },
  );
});

describe('the client address', () => {
  it('is the TCP peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(clientAddress('203.0.113.9', '198.51.100.1', trust('false'))).toBe('203.0.113.9');
  });

  it('is unknown without a peer address', () => {
    expect(clientAddress(undefined, undefined, trust('false'))).toBe('unknown');
  });

  it('is the rightmost entry behind one proxy, not the one the client put first', () => {
    expect(clientAddress('10.0.0.1', '6.6.6.6, 198.51.100.7', trust('1'))).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.1', '6.6.6.6, 198.51.100.7', trust('true'))).toBe('198.51.100.7');
  });

  it('skips as many entries as there are trusted hops', () => {
    expect(clientAddress('10.0.0.2', '6.6.6.6, 198.51.100.7, 10.0.0.1', trust('2'))).toBe('198.51.100.7');
  });

  it('is the peer without X-Forwarded-For, and the furthest entry when there are fewer than hops', () => {
    expect(clientAddress('10.0.0.1', undefined, trust('1'))).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.2', '198.51.100.7', trust('3'))).toBe('198.51.100.7');
  });

  it('stops at an entry that is not an IP address, at the last real one', () => {
    expect(clientAddress('10.0.0.1', '198.51.100.7, unknown', trust('1'))).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '', trust('1'))).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.2', '6.6.6.6, garbage, 10.0.0.1', trust('2'))).toBe('10.0.0.1');
  });

  it('walks from a listed proxy to the first address not listed', () => {
    const t = trust('10.0.0.0/8, ::1');
    expect(clientAddress('10.0.0.1', '6.6.6.6, 198.51.100.7, 10.1.2.3', t)).toBe('198.51.100.7');
    expect(clientAddress('::ffff:10.0.0.1', '198.51.100.7', t)).toBe('198.51.100.7');
    expect(clientAddress('::1', '2001:db8::7', t)).toBe('2001:db8::7');
  });

  it('ignores X-Forwarded-For from a peer that is not a listed proxy', () => {
    expect(clientAddress('203.0.113.9', '198.51.100.7', trust('10.0.0.0/8'))).toBe('203.0.113.9');
  });

  it('is a listed proxy when the whole chain is listed', () => {
    expect(clientAddress('10.0.0.1', '10.0.0.2', trust('10.0.0.0/8'))).toBe('10.0.0.2');
  });
});

describe('the sign-in throttle behind one proxy that appends to X-Forwarded-For', () => {
  const FAST: PasswordParams = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
  let idp: RunningIssuer;
  beforeAll(async () => {
    idp = await startIssuer({ env: { TESSERA_TRUST_PROXY: '1' }, issuer: { passwordParams: FAST } });
  });
  afterAll(() => idp.cleanup());

  /** A wrong password; the client wrote `claimed`, the proxy appended the real address. */
  async function guess(i: number, claimed: string, real: string): Promise<number> {
    const jar = createCookieJarClient();
    const page = await (await jar.fetch(new URL('/sign-in', idp.url))).text();
    const res = await jar.fetch(new URL('/sign-in', idp.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: new URL(idp.url).origin,
        'x-forwarded-for': `${claimed}, ${real}`,
      },
      body: new URLSearchParams({
        interaction: formValue(page, 'interaction')!,
        csrf_token: formValue(page, 'csrf_token')!,
        email: `nobody-${i}@example.com`,
        password: 'wrong password',
      }),
    });
    await res.arrayBuffer();
    return res.status;
  }

  it('counts every guess against the real address, however the client varies the one it claims', async () => {
    for (let i = 0; i < 10; i++) expect(await guess(i, `203.0.113.${i}`, '198.51.100.66')).toBe(401);
    const events = await idp.issuer.ctx.store.audit.list({ type: 'sign_in.throttled', limit: 10 });
    expect(events.map((e) => [e.ip, e.detail])).toContainEqual([
      '198.51.100.66',
      { scope: 'ip', failures: 10, blocked_until: expect.any(Number) },
    ]);
    expect(events.some((e) => e.ip?.startsWith('203.0.113.'))).toBe(false);
  });
});
