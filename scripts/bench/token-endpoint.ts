/**
 * Grants at the token endpoint, in process (the issuer's own work, no sockets), one core:
 * authorization_code (with client authentication, PKCE, an ID token and a refresh token) and
 * refresh_token (rotation): the issuer's own cost per grant, without the HTTP path.
 */
import { BENCH_MS, BENCH_ROUNDS, compare, report } from './measure.js';
import { ISSUER, REDIRECT, authorizationCode, benchIssuer, signIn } from './issuer-fixture.js';

const { issuer, web, close } = await benchIssuer();
const app = issuer.app;
const cookie = await signIn(issuer);
const basic = `Basic ${Buffer.from(`${web.id}:${web.secret}`).toString('base64')}`;

const code = () => authorizationCode(issuer, web.id, cookie);

const token = async (body: Record<string, string>) => {
  const res = await app.request(`${ISSUER}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
    body: new URLSearchParams(body),
  });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { refresh_token: string };
};

// Codes are made ahead of each round so only the redemption is timed.
const codes: { code: string; verifier: string }[] = [];
const refill = async (n: number) => {
  while (codes.length < n) codes.push(await code());
};
const refreshTokens: string[] = [];

const results = await compare(
  [
    {
      name: 'authorization_code grant (code → access, ID and refresh token)',
      // Enough codes for the round at the goal rate, made before the clock starts.
      before: () => refill(Math.ceil((BENCH_MS / 1000) * 2500)),
      fn: async () => {
        const c = codes.pop();
        if (!c) throw new Error('ran out of codes: raise the refill');
        const r = await token({
          grant_type: 'authorization_code',
          code: c.code,
          code_verifier: c.verifier,
          redirect_uri: REDIRECT,
        });
        if (refreshTokens.length < 64) refreshTokens.push(r.refresh_token);
      },
      concurrency: 8,
    },
    {
      name: 'refresh_token grant (rotation → access, ID and refresh token)',
      fn: async (i) => {
        const slot = i % refreshTokens.length;
        const r = await token({ grant_type: 'refresh_token', refresh_token: refreshTokens[slot]! });
        refreshTokens[slot] = r.refresh_token;
      },
      concurrency: 1,
    },
  ],
  { ms: BENCH_MS, rounds: BENCH_ROUNDS },
);
report('Token endpoint grants, in process, one core (code redemptions include only the /token call)', results);
close();
