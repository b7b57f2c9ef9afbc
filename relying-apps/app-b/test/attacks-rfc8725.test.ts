/**
 * Attack battery, RFC 8725 (JWT BCP), against app B's stateless API: a real issuer, a real app B
 * server, and each forged token sent to GET /api/me as `Authorization: Bearer`. Every forgery
 * must get 401 `invalid_token` (RFC 6750 §3.1) with the fixed description of its refusal; none
 * may reach the route. Tokens with a valid issuer signature but bad claims are minted with the
 * issuer's own key ring, as a compromised or careless issuer could.
 */
import type { JWK, JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RFC8725_FORGERIES,
  createAttacker,
  decodePayload,
  encodeSegment,
  nowSec,
  startForeignListener,
  type ForeignListener,
  type ForgeryMaterial,
} from '@tessera/shared/testing';
import { DPOP_CHALLENGE, callMe, signInToAppB, startWorld, type World } from './support/world.js';

let world: World;
/** A genuine access token for app B's API, and the ID token issued with it. */
let accessToken: string;
let idToken: string;
let material: ForgeryMaterial;
let foreign: ForeignListener;

beforeAll(async () => {
  world = await startWorld();
  ({ accessToken, idToken } = await signInToAppB(world));
  const kid = world.issuer.issuer.ctx.keys.kid;
  const jwks = (await (await fetch(`${world.idp}/jwks`)).json()) as { keys: JWK[] };
  const attacker = await createAttacker();
  foreign = await startForeignListener({ keys: [attacker.es256Jwk] });
  material = {
    genuine: accessToken,
    typ: 'at+jwt',
    issuerJwk: { ...jwks.keys.find((k) => k.kid === kid)!, kid },
    signAsIssuer: (payload) => issuerSigned(payload),
    attacker,
    foreignUrl: foreign.url,
  };
});
afterAll(async () => {
  await foreign.close();
  await world.stop();
});

/** Signed by the issuer's own current key (header alg, kid, typ as the issuer sets them). */
const issuerSigned = (payload: JWTPayload, typ = 'at+jwt') => world.issuer.issuer.ctx.keys.sign(payload, typ);

/** Sends `token` to /api/me and expects the RFC 6750 §3.1 refusal with `description`. */
async function expectRefused(token: string, description: string): Promise<void> {
  const res = await callMe(world, token);
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe(
    `Bearer error="invalid_token", error_description="${description}", ${DPOP_CHALLENGE}`,
  );
  expect(await res.json()).toEqual({ error: 'invalid_token', error_description: description });
}

const D = {
  alg: 'The access token algorithm is not accepted',
  signature: 'The access token signature is invalid',
  kid: 'The access token was signed with an unknown key',
  type: 'The token is not an access token',
  issuer: 'The access token was issued by an untrusted issuer',
  audience: 'The access token is not meant for this resource',
  expired: 'The access token expired',
  notYet: 'The access token is not valid yet',
  malformed: 'The access token is malformed',
} as const;

describe('RFC 8725 at app B’s API: GET /api/me refuses forged bearer tokens with 401 invalid_token', () => {
  it('accepts the genuine token (so each refusal below is the forgery’s doing)', async () => {
    expect((await callMe(world, accessToken)).status).toBe(200);
  });

  it.each(RFC8725_FORGERIES.map((f) => [f.name, f] as const))('refuses %s', async (_, forgery) => {
    await expectRefused(await forgery.forge(material), D[forgery.refusal]);
  });

  it('never asked the foreign jku / x5u listener anything (RFC 8725 §3.10)', async () => {
    for (const forgery of RFC8725_FORGERIES) await callMe(world, await forgery.forge(material));
    expect(foreign.requests).toBe(0);
  });

  it('refuses a token of the wrong typ (JWT instead of at+jwt) (RFC 8725 §3.11, RFC 9068 §4)', async () => {
    await expectRefused(await issuerSigned(decodePayload(accessToken), 'JWT'), D.type);
  });

  it('refuses the ID token presented as an access token (RFC 8725 §3.11)', async () => {
    await expectRefused(idToken, D.type);
  });

  it('refuses a logout token presented as an access token (RFC 8725 §3.11)', async () => {
    const logout = await issuerSigned(
      {
        iss: world.idp,
        aud: world.app,
        sub: world.alice.sub,
        iat: nowSec(),
        exp: nowSec() + 120,
        jti: 'j-1',
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      },
      'logout+jwt',
    );
    await expectRefused(logout, D.type);
  });

  it('refuses a 1 MB token quickly, before the app parses anything (RFC 8725 §3.12 bounded work)', async () => {
    // Node's HTTP server bounds the header block at 16 KiB and answers 431 itself (RFC 6585 §5):
    // the token never reaches the app, the verifier or the JWKS. It may also close the connection
    // while the client is still sending, which is a refusal too. (The verifier's own 16 KiB
    // bound is tested in shared/test/attacks.)
    const header = encodeSegment({ alg: 'ES256', kid: material.issuerJwk.kid, typ: 'at+jwt' });
    const huge = `${header}.${'A'.repeat(1024 * 1024)}.AAAA`;
    const started = performance.now();
    let status: number | 'connection closed';
    try {
      status = (await callMe(world, huge)).status;
    } catch {
      status = 'connection closed';
    }
    expect(performance.now() - started).toBeLessThan(2000);
    expect(status === 431 || status === 'connection closed').toBe(true);
    // The app is unharmed: the genuine token still works.
    expect((await callMe(world, accessToken)).status).toBe(200);
  });

  it('refuses a 12 KB token with 400 invalid_request before verifying (8 KiB header value bound)', async () => {
    const header = encodeSegment({ alg: 'ES256', kid: material.issuerJwk.kid, typ: 'at+jwt' });
    const big = `${header}.${'A'.repeat(12 * 1024)}.AAAA`;
    const res = await callMe(world, big);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_request', error_description: 'a request header is too large' });
  });
});
