/**
 * The token endpoint against panva's oidc-provider, side by side in one run over loopback HTTP:
 * authorization_code and refresh_token grants from a confidential client (client_secret_basic,
 * PKCE S256), each answering with an ES256 ID token and a refresh token. The goal
 * (docs/architecture.md, "Performance goals"): ≥ 1.5× oidc-provider.
 *
 * Not equal work, and the difference favours oidc-provider: Tessera writes every code, grant,
 * refresh token and access token to SQLite (WAL) and signs an RFC 9068 JWT access token with a
 * status-list entry; oidc-provider runs here on an in-memory Map adapter (it ships no durable
 * one) with its default opaque access tokens.
 */
import { serve } from '@hono/node-server';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { BENCH_MS, BENCH_ROUNDS, compare, report } from './measure.js';
import { ISSUER, REDIRECT, authorizationCode, benchIssuer, pkce, signIn } from './issuer-fixture.js';
import { MapAdapter } from './lib/map-adapter.js';

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );

// ---- Tessera, served over HTTP ----
const tessera = await benchIssuer();
const tesseraServer = serve({ fetch: tessera.issuer.app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
await new Promise((r) => tesseraServer.once('listening', r));
const tesseraUrl = `http://127.0.0.1:${(tesseraServer.address() as AddressInfo).port}`;
const tesseraHost = { host: new URL(ISSUER).host };
const cookie = await signIn(tessera.issuer);
const tesseraBasic = `Basic ${Buffer.from(`${tessera.web.id}:${tessera.web.secret}`).toString('base64')}`;

const tesseraCode = () => authorizationCode(tessera.issuer, tessera.web.id, cookie);

// ---- oidc-provider, with an ES256 key and the same kind of client ----
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const providerServer = createServer();
const providerUrl = await listen(providerServer);
const provider = new Provider(providerUrl, {
  adapter: MapAdapter,
  jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'bench', alg: 'ES256', use: 'sig' }] },
  clients: [
    {
      client_id: 'bench-web',
      client_secret: 'bench-web-secret-bench-web-secret',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, email: 'bench@example.com', name: 'Bench' }),
  }),
  claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
  pkce: { required: () => true },
  // Refresh tokens without offline_access, as Tessera issues them to clients allowed the grant.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
});
providerServer.on('request', provider.callback());
const providerClient = (await provider.Client.find('bench-web'))!;
const providerBasic = `Basic ${Buffer.from('bench-web:bench-web-secret-bench-web-secret').toString('base64')}`;

async function providerCode(): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  const grant = new provider.Grant({ accountId: 'bench-user', clientId: 'bench-web' });
  grant.addOIDCScope('openid profile email');
  const grantId = await grant.save();
  const code = await new provider.AuthorizationCode({
    accountId: 'bench-user',
    client: providerClient,
    grantId,
    scope: 'openid profile email',
    redirectUri: REDIRECT,
    codeChallenge: challenge,
    codeChallengeMethod: 'S256',
    nonce: 'n',
    authTime: Math.floor(Date.now() / 1000),
    gty: 'authorization_code',
  }).save();
  return { code, verifier };
}

async function token(
  url: string,
  headers: Record<string, string>,
  body: Record<string, string>,
): Promise<{ refresh_token: string }> {
  const res = await fetch(`${url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });
  const json = (await res.json()) as { refresh_token: string; id_token?: string };
  if (res.status !== 200 || !json.refresh_token || !json.id_token)
    throw new Error(`${url} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

const pools = {
  tessera: [] as { code: string; verifier: string }[],
  provider: [] as { code: string; verifier: string }[],
};
const refresh = { tessera: [] as string[], provider: [] as string[] };
// Over HTTP both stay well under 1,200 grants/s here. Codes live 60 s, so each round gets fresh ones.
const perRound = Math.ceil((BENCH_MS / 1000) * 1200);
const fill = async (which: 'tessera' | 'provider') => {
  pools[which] = [];
  while (pools[which].length < perRound)
    pools[which].push(await (which === 'tessera' ? tesseraCode() : providerCode()));
};
const redeem = (which: 'tessera' | 'provider') => async () => {
  const c = pools[which].pop();
  if (!c) throw new Error('ran out of codes');
  const r =
    which === 'tessera'
      ? await token(
          tesseraUrl,
          { ...tesseraHost, authorization: tesseraBasic },
          { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: REDIRECT },
        )
      : await token(
          providerUrl,
          { authorization: providerBasic },
          { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: REDIRECT },
        );
  if (refresh[which].length < 64) refresh[which].push(r.refresh_token);
};
// Each call takes a family's current token out of the pool and puts its successor back, so two
// calls never present one token (either server would rightly treat that as reuse).
const rotate = (which: 'tessera' | 'provider') => async () => {
  const current = refresh[which].shift();
  if (!current) throw new Error('no refresh token free');
  const r =
    which === 'tessera'
      ? await token(
          tesseraUrl,
          { ...tesseraHost, authorization: tesseraBasic },
          { grant_type: 'refresh_token', refresh_token: current },
        )
      : await token(
          providerUrl,
          { authorization: providerBasic },
          { grant_type: 'refresh_token', refresh_token: current },
        );
  refresh[which].push(r.refresh_token);
};

const codes = await compare(
  [
    {
      name: 'oidc-provider: authorization_code grant',
      fn: redeem('provider'),
      concurrency: 8,
      before: () => fill('provider'),
    },
    { name: 'Tessera: authorization_code grant', fn: redeem('tessera'), concurrency: 8, before: () => fill('tessera') },
  ],
  { ms: BENCH_MS, rounds: BENCH_ROUNDS },
);
report('Code grants over loopback HTTP (client in the same process), against oidc-provider', codes);
const refreshes = await compare(
  [
    { name: 'oidc-provider: refresh_token grant (rotating)', fn: rotate('provider'), concurrency: 8 },
    { name: 'Tessera: refresh_token grant (rotating)', fn: rotate('tessera'), concurrency: 8 },
  ],
  { ms: BENCH_MS, rounds: BENCH_ROUNDS },
);
report('Refresh grants over loopback HTTP (client in the same process), against oidc-provider', refreshes);

tesseraServer.close();
providerServer.close();
tessera.close();
