/** App B's browser refresher against the real issuer: rotation, single flight, no self-inflicted reuse. */
import { describe, expect, it } from 'vitest';
import { createTokenRefresher } from '../src/browser/token-refresh.js';
import type { Tokens } from '../src/browser/token-memory.js';
import { createDPoPProver, withDPoP } from '@tessera/shared';
import { callMe, callMeWithBearer, rememberBinding, signInToAppB, useAppB } from './support/world.js';

const world = useAppB();

/** One tab's in-memory tokens and a refresher over them, counting requests to the token endpoint. */
async function tab() {
  const signedIn = await signInToAppB(world);
  let tokens: Tokens | undefined = {
    accessToken: signedIn.accessToken,
    idToken: signedIn.idToken,
    accessTokenExpiresAt: Date.now(),
    refreshToken: signedIn.refreshToken!,
  };
  let requests = 0;
  const refresher = createTokenRefresher({
    tokenEndpoint: `${world.idp}/token`,
    clientId: 'app-b',
    resource: world.app,
    current: () => tokens,
    keep: (t) => {
      tokens = t;
      rememberBinding(t.accessToken, signedIn.dpop);
    },
    dpop: signedIn.dpop,
    fetch: (input, init) => {
      requests++;
      return fetch(input, init);
    },
  });
  return {
    refresher,
    dpop: signedIn.dpop,
    tokens: () => tokens,
    requests: () => requests,
    signOut: () => (tokens = undefined),
  };
}

describe('app B refreshing its access token', () => {
  it('is issued a refresh token with its code and rotates it on refresh', async () => {
    const t = await tab();
    const first = t.tokens()!.refreshToken;
    const outcome = await t.refresher.refresh();
    expect(outcome.kind).toBe('refreshed');
    expect(t.tokens()!.refreshToken).not.toBe(first);
    expect((await callMe(world, t.tokens()!.accessToken)).status).toBe(200);
  });

  it('merges ten concurrent refreshes into one request, so the app itself never trips reuse detection', async () => {
    const t = await tab();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => t.refresher.refresh()));
    expect(t.requests()).toBe(1);
    expect(new Set(outcomes.map((o) => o.kind))).toEqual(new Set(['refreshed']));
    // The family is intact: the next refresh works, and so does the new access token.
    expect((await t.refresher.refresh()).kind).toBe('refreshed');
    expect((await callMe(world, t.tokens()!.accessToken)).status).toBe(200);
  });

  it('keeps two tabs apart: each has its own family, refreshing together trips nothing', async () => {
    const [a, b] = await Promise.all([tab(), tab()]);
    const results = await Promise.all([
      a.refresher.refresh(),
      b.refresher.refresh(),
      a.refresher.refresh(),
      b.refresher.refresh(),
    ]);
    expect(results.every((r) => r.kind === 'refreshed')).toBe(true);
    expect(a.requests()).toBe(1);
    expect(b.requests()).toBe(1);
    expect((await a.refresher.refresh()).kind).toBe('refreshed');
    expect((await b.refresher.refresh()).kind).toBe('refreshed');
  });

  it('would trip reuse detection without single flight: two refreshes with one token revoke the family', async () => {
    const t = await tab();
    const token = t.tokens()!.refreshToken!;
    const raw = () =>
      withDPoP(t.dpop, fetch)(`${world.idp}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: 'app-b' }).toString(),
      });
    const statuses = (await Promise.all([raw(), raw()])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 400]);
    expect((await t.refresher.refresh()).kind).toBe('refused');
  });

  it('reports a refused family so the app can sign in again, and never keeps tokens after a sign-out', async () => {
    const t = await tab();
    const pending = t.refresher.refresh();
    t.signOut();
    expect((await pending).kind).toBe('refused');
    expect(t.tokens()).toBeUndefined();
  });

  it('refreshes only with proofs by the key its tokens are bound to (RFC 9449 §5), binding each new one', async () => {
    const t = await tab();
    const token = t.tokens()!.refreshToken!;
    const refresh = (send: typeof fetch) =>
      send(`${world.idp}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token, client_id: 'app-b' }).toString(),
      });
    // A copy of the refresh token is of no use without the key: without a proof, or with another key's.
    const withoutProof = await refresh(fetch);
    expect(withoutProof.status).toBe(400);
    expect((await withoutProof.json()).error).toBe('invalid_dpop_proof');
    const thief = await refresh(withDPoP(await createDPoPProver(), fetch));
    expect(thief.status).toBe(400);
    expect((await thief.json()).error).toBe('invalid_grant');
    // The owner still refreshes, and gets a DPoP token its API takes only with a proof.
    expect((await t.refresher.refresh()).kind).toBe('refreshed');
    const fresh = t.tokens()!.accessToken;
    expect((await callMe(world, fresh)).status).toBe(200);
    expect((await callMeWithBearer(world, fresh)).status).toBe(401);
  });
});
