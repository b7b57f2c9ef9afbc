/**
 * Attack battery, RFC 8725 (JWT BCP), against app A. App A's API answers from its own session,
 * so the place a forged token could get in is the callback: app A redeems the code at the issuer
 * and verifies the ID token and the access token it gets back before it opens a session. Here a
 * man in the middle of that back channel (or a compromised issuer response) swaps in a forged
 * token; the browser walks the real flow over real HTTP against a real issuer and a real app A.
 * Every forgery must end in the "Sign-in failed" page with code `invalid_token` (502), no
 * session cookie, and /api/me still 401.
 */
import type { JWK, JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FetchLike } from '@tessera/shared';
import {
  RFC8725_FORGERIES,
  createAttacker,
  createCookieJarClient,
  decodePayload as decode,
  nowSec,
  startForeignListener,
  withClaims,
  type Attacker,
  type ForeignListener,
  type ForgeryMaterial,
} from '@tessera/shared/testing';
import { me, sessionCookie, signIn, startWorld, type World } from './support/world.js';

type TokenSlot = 'id_token' | 'access_token';
type Tokens = Record<TokenSlot, string> & Record<string, unknown>;

/** What the man in the middle does to the next token response; undefined lets it through. */
let tamper: ((tokens: Tokens) => Promise<Tokens>) | undefined;

/** App A's server-side HTTP client, with the man in the middle on the token endpoint. */
const mitmFetch: FetchLike = async (input, init) => {
  const res = await fetch(input, init);
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  if (tamper === undefined || url.pathname !== '/token' || res.status !== 200) return res;
  const forged = await tamper((await res.json()) as Tokens);
  return new Response(JSON.stringify(forged), {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
};

let world: World;
let issuerJwk: JWK & { kid: string };
let attacker: Attacker;
let foreign: ForeignListener;

beforeAll(async () => {
  world = await startWorld({ fetch: mitmFetch });
  const kid = world.issuer.issuer.ctx.keys.kid;
  const jwks = (await (await fetch(`${world.idp}/jwks`)).json()) as { keys: JWK[] };
  issuerJwk = { ...jwks.keys.find((k) => k.kid === kid)!, kid };
  attacker = await createAttacker();
  foreign = await startForeignListener({ keys: [attacker.es256Jwk] });
});
afterAll(async () => {
  await foreign.close();
  await world.stop();
});

/** The typ the issuer puts on each token (none on ID tokens but `JWT`). */
const TYP: Record<TokenSlot, string> = { id_token: 'JWT', access_token: 'at+jwt' };

const issuerSigned = (payload: JWTPayload, typ: string) => world.issuer.issuer.ctx.keys.sign(payload, typ);

/** A forgery of the token in `slot`, made from the genuine token response. */
type Forge = (tokens: Tokens, slot: TokenSlot) => Promise<string>;

/** What the attacker has to forge the token in `slot`: the issuer's real token is where it starts. */
const materialFor = (tokens: Tokens, slot: TokenSlot): ForgeryMaterial => ({
  genuine: tokens[slot],
  typ: TYP[slot],
  issuerJwk,
  signAsIssuer: (payload) => issuerSigned(payload, TYP[slot]),
  attacker,
  foreignUrl: foreign.url,
});

/** Every forgery of the shared catalogue, and two the callback meets before any verifier does. */
const ATTACKS: [name: string, forge: Forge][] = [
  ...RFC8725_FORGERIES.map((f): [string, Forge] => [f.name, (t, s) => f.forge(materialFor(t, s))]),
  [
    'a wrong typ, signed with the issuer’s key (RFC 8725 §3.11)',
    async (t, s) => issuerSigned(decode(t[s]), s === 'id_token' ? 'at+jwt' : 'JWT'),
  ],
  [
    'a 32 KB token (over the verifier’s 16 KiB bound, RFC 8725 §3.12)',
    async (t, s) => `${t[s].split('.')[0]}.${'A'.repeat(32 * 1024)}.${t[s].split('.')[2]}`,
  ],
];

/** Signs alice in through a man in the middle that replaces `slot` with `forge`'s token. */
async function signInThrough(forge: (tokens: Tokens) => Promise<Partial<Tokens>>) {
  tamper = async (tokens) => ({ ...tokens, ...(await forge(tokens)) });
  try {
    const jar = createCookieJarClient();
    const { page } = await signIn(world, jar);
    return { jar, page };
  } finally {
    tamper = undefined;
  }
}

/** The failed sign-in: 502 page with `code`, no app session, /api/me still refused. */
async function expectSignInRefused(
  result: Awaited<ReturnType<typeof signInThrough>>,
  code = 'invalid_token',
  status = 502,
) {
  const { jar, page } = result;
  expect(page.status).toBe(status);
  expect(await page.text()).toContain(`<code>${code}</code>`);
  expect(sessionCookie(world, jar)).toBeUndefined();
  expect((await me(world, jar)).status).toBe(401);
}

describe('the battery itself', () => {
  it('signs in through the man in the middle when it changes nothing', async () => {
    const { jar, page } = await signInThrough(async () => ({}));
    expect(page.status).toBe(200);
    expect(sessionCookie(world, jar)).toBeDefined();
    expect((await me(world, jar)).status).toBe(200);
  });
});

describe.each<TokenSlot>(['id_token', 'access_token'])(
  'RFC 8725 at app A’s callback: a forged %s is refused and opens no session',
  (slot) => {
    it.each(ATTACKS)(`refuses %s (${slot})`, async (_, forge) => {
      await expectSignInRefused(await signInThrough(async (tokens) => ({ [slot]: await forge(tokens, slot) })));
    });
  },
);

describe('RFC 8725 §3.11 at app A’s callback: one kind of token never passes for another', () => {
  it('refuses the access token in place of the ID token', async () => {
    await expectSignInRefused(await signInThrough(async (t) => ({ id_token: t.access_token })));
  });

  it('refuses the ID token in place of the access token', async () => {
    await expectSignInRefused(await signInThrough(async (t) => ({ access_token: t.id_token })));
  });

  it('refuses a logout token, signed by the issuer for app A, in place of the ID token', async () => {
    await expectSignInRefused(
      await signInThrough(async (t) => {
        const id = decode(t.id_token);
        const logout = {
          // An ID token always has iss, aud and sub (OIDC Core §2).
          iss: id.iss!,
          aud: id.aud!,
          sub: id.sub!,
          sid: id.sid,
          iat: nowSec(),
          exp: nowSec() + 120,
          jti: 'lt-1',
          events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
        };
        return { id_token: await issuerSigned(logout, 'logout+jwt') };
      }),
    );
  });
});

describe('app A’s callback refuses what no RFC 8725 header check would catch', () => {
  it('refuses an issuer-signed ID token with another browser’s nonce (OIDC Core §3.1.3.7 step 11)', async () => {
    await expectSignInRefused(
      await signInThrough(async (t) => ({
        id_token: await issuerSigned(withClaims(decode(t.id_token), { nonce: 'someone-elses-nonce' }), 'JWT'),
      })),
    );
  });

  it('refuses an issuer-signed ID token without nonce (OIDC Core §3.1.3.7 step 11)', async () => {
    await expectSignInRefused(
      await signInThrough(async (t) => ({
        id_token: await issuerSigned(withClaims(decode(t.id_token), { nonce: undefined }), 'JWT'),
      })),
    );
  });

  it('refuses tokens about different people: an access token of another subject (token substitution)', async () => {
    await expectSignInRefused(
      await signInThrough(async (t) => ({
        access_token: await issuerSigned(withClaims(decode(t.access_token), { sub: 'someone-else' }), 'at+jwt'),
      })),
    );
  });

  it('refuses a 1 MB token response before parsing it (bounded read: 502 bad_gateway)', async () => {
    const started = performance.now();
    const result = await signInThrough(async (t) => ({
      id_token: `${t.id_token.split('.')[0]}.${'A'.repeat(1024 * 1024)}.AAAA`,
    }));
    await expectSignInRefused(result, 'bad_gateway');
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('never fetched anything from the foreign jku / x5u listener', () => {
    expect(foreign.requests).toBe(0);
  });
});
