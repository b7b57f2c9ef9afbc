/**
 * Fuzzing below the fetch API: raw HTTP/1.1 bytes to the issuer's real Node server, so that what
 * a well-behaved client cannot send — any byte in a header value or the request target, odd
 * methods, absolute-form targets, bad Host headers, chunked bodies — goes through the Node
 * adapter too. Whatever arrives, the answer is never a 5xx or a stack trace, and a refusal
 * changes no stored data.
 *
 *   FUZZ_SEED=<seed> FUZZ_RUNS=<n> npx vitest run test/fuzz/raw-http.test.ts
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Logger } from '@tessera/shared';
import { signInAndRedeem } from '../support/browser.js';
import { seed, startIssuer, type RunningIssuer } from '../support/fixture.js';
import { rowCounts, SCRATCH_TABLES, tableDigests } from '../support/db-digest.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_250_607);
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

let idp: RunningIssuer;
let cookies: string;
const unhandled: string[] = [];
const captureLog: Logger = {
  info() {},
  warn() {},
  error(event, fields) {
    unhandled.push(`${event} ${JSON.stringify(fields)}`.slice(0, 800));
  },
};

beforeAll(async () => {
  idp = await startIssuer({
    issuer: {
      passwordParams: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
      log: captureLog,
      fetch: async () => new Response(null, { status: 200 }),
    },
  });
  const fx = await seed(idp);
  const { jar } = await signInAndRedeem(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri });
  cookies =
    `tessera_session=${jar.cookie(idp.url, 'tessera_session')}; ` +
    `tessera_browser=${jar.cookie(idp.url, 'tessera_browser')}`;
});
afterAll(() => idp?.cleanup());

/** One latin1 character in [min, max]: a raw byte on the wire. */
const byte = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCharCode(c));
const PATHS = [
  '/authorize',
  '/token',
  '/sign-in',
  '/logout',
  '/logout/confirm',
  '/revoke',
  '/introspect',
  '/userinfo',
  '/consent',
  '/jwks',
  '/.well-known/openid-configuration',
  '/account',
  '/statuslists/1',
];

const target = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...PATHS),
        fc.string({
          unit: fc.oneof({ weight: 9, arbitrary: byte(0x21, 0x7e) }, { weight: 1, arbitrary: byte(0x80, 0xff) }),
          maxLength: 80,
        }),
      )
      .map(([p, q]) => `${p}?${q}`),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...PATHS),
        fc.constantFrom(
          '',
          '/',
          '//',
          '/..',
          '/%2e%2e/',
          '%zz',
          '%00',
          '\\x',
          ';x=1',
          '#frag',
          '?%',
          '?a=%E0%A4&a=%ED%A0%80',
        ),
      )
      .map(([p, s]) => p + s),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '*',
      'http://evil.example/authorize',
      'https://127.0.0.1/token',
      '//evil.example/token',
      'authorize',
      `/${'a'.repeat(9000)}`,
      `/authorize?${'a=b&'.repeat(5000)}`,
    ),
  },
);

const headerName = fc.string({
  unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz-_!#$%&'*+.^`|~0123456789".split('')),
  minLength: 1,
  maxLength: 20,
});
const headerValue = fc.string({
  unit: fc.oneof(byte(0x20, 0x7e), byte(0x80, 0xff), fc.constant('\t')),
  maxLength: 120,
});

const request = fc.record({
  method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'POST', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'FOO'),
  target,
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'),
  host: fc.oneof(
    { weight: 6, arbitrary: fc.constant<string | null>('ISSUER') },
    {
      weight: 1,
      arbitrary: fc.constantFrom<string | null>(
        null,
        '',
        'evil.example',
        '127.0.0.1:99999',
        '[::1',
        'a b',
        'localhost:0',
        '127.0.0.1:1:2',
        '..',
        'x'.repeat(300),
      ),
    },
    { weight: 1, arbitrary: headerValue },
  ),
  contentType: fc.constantFrom(
    undefined,
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=latin1',
    'application/json',
    'multipart/form-data',
    'text/plain; charset=utf-16',
  ),
  withCookies: fc.boolean(),
  cookie: fc.option(headerValue),
  authorization: fc.option(
    fc.oneof(
      headerValue.map((v) => `Basic ${v}`),
      headerValue.map((v) => `Bearer ${v}`),
      headerValue,
    ),
  ),
  extra: fc.array(fc.tuple(headerName, headerValue), { maxLength: 4 }),
  body: fc.oneof(
    fc.constant(''),
    fc.string({ unit: byte(0x00, 0xff), maxLength: 300 }),
    fc
      .array(
        fc.tuple(
          fc.constantFrom(
            'grant_type',
            'code',
            'client_id',
            'token',
            'interaction',
            'csrf_token',
            'email',
            'password',
            'id_token_hint',
            'access_token',
          ),
          fc.string({ unit: byte(0x21, 0xff), maxLength: 40 }),
        ),
        { maxLength: 6 },
      )
      .map((ps) => ps.map(([k, v]) => `${k}=${v}`).join('&')),
  ),
  chunked: fc.boolean(),
});

type RawRequest = typeof request extends fc.Arbitrary<infer R> ? R : never;

function serialize(r: RawRequest): Buffer {
  const host = new URL(idp.url).host;
  const lines = [`${r.method} ${r.target} ${r.version}`];
  if (r.host !== null) lines.push(`Host: ${r.host === 'ISSUER' ? host : r.host}`);
  if (r.contentType) lines.push(`Content-Type: ${r.contentType}`);
  const cookie = [r.withCookies ? cookies : '', r.cookie ?? ''].filter(Boolean).join('; ');
  if (cookie) lines.push(`Cookie: ${cookie}`);
  if (r.authorization) lines.push(`Authorization: ${r.authorization}`);
  for (const [name, value] of r.extra) {
    // Framing headers stay ours: a lying Content-Length only makes the server wait for more.
    if (!/^(content-length|transfer-encoding|connection|host|expect|upgrade)$/i.test(name))
      lines.push(`${name}: ${value}`);
  }
  lines.push('Connection: close');
  const body = Buffer.from(r.body, 'latin1');
  if (r.chunked && r.version === 'HTTP/1.1') {
    lines.push('Transfer-Encoding: chunked');
    const chunks = body.length > 0 ? [Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')] : [];
    return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), ...chunks, Buffer.from('0\r\n\r\n')]);
  }
  lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

/** Sends raw bytes and reads until the server closes (bounded by a timeout). */
function send(bytes: Buffer): Promise<string> {
  const { port } = new URL(idp.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => resolve(Buffer.concat(chunks).toString('latin1'));
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.end(bytes);
  });
}

const STACK_TRACE = [/\n\s+at .+:\d+:\d+/, /node:internal/, /node_modules/, /\/src\/\S+\.ts/];

describe(`raw HTTP requests (seed ${SEED}, ${RUNS} runs)`, () => {
  it('never answer 5xx or a stack trace, and a refusal changes no stored data', async () => {
    const { database } = idp.issuer.ctx.store;
    const statuses = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const bytes = serialize(r);
        const before = await tableDigests(database);
        const scratch = await rowCounts(database, SCRATCH_TABLES);
        const raw = await send(bytes);
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1];
        statuses.set(status ?? 'closed', (statuses.get(status ?? 'closed') ?? 0) + 1);
        const what = () =>
          `${bytes.toString('latin1').slice(0, 600)}\n→ ${raw.slice(0, 400)}\n${unhandled.slice(-2).join('\n')}`;
        if (status === undefined) return; // the server closed without answering (e.g. CONNECT-like input): not a 5xx
        expect(Number(status), what()).toBeLessThan(500);
        for (const pattern of STACK_TRACE) expect(raw, what()).not.toMatch(pattern);
        if (Number(status) >= 400)
          expect(await tableDigests(database), `a refused request changed stored data:\n${what()}`).toEqual(before);
        const after = await rowCounts(database, SCRATCH_TABLES);
        for (const t of SCRATCH_TABLES)
          expect(after[t]! - scratch[t]!, `${t} grew too much:\n${what()}`).toBeLessThanOrEqual(3);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    console.log(
      `raw http: ${[...statuses]
        .sort()
        .map(([s, n]) => `${s}×${n}`)
        .join(' ')}`,
    );
    expect(unhandled).toEqual([]);
  }, 60_000);
});
