/**
 * panva's oidc-provider as a server under test, in its own process, configured to do the work
 * Tessera does: an in-memory adapter (or a SQLite one, BENCH_DATABASE), ES256 ID tokens, ES256 JWT
 * access tokens for a resource indicator (RFC 8707, RFC 9068), rotating refresh tokens, PKCE S256,
 * and a password sign-in verified with argon2id at Tessera's parameters (m=19456, t=2, p=1).
 * oidc-provider has no sign-in form of its own: the minimal interaction handler below is one,
 * first-party (the grant is made at sign-in, no consent page, as Tessera does for a first-party
 * client).
 *
 * Environment: PORT, BENCH_CLIENT_SECRET, BENCH_USERS (how many bench-<i>@example.com), BENCH_PASSWORD,
 * and BENCH_DATABASE: a SQLite file to keep the models in (lib/sqlite-adapter.ts) instead of memory.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { MapAdapter } from '../lib/map-adapter.js';
import { sqliteAdapter } from '../lib/sqlite-adapter.js';
import { ARGON2ID_PARAMS, BENCH_CLIENT, BENCH_REDIRECT, BENCH_RESOURCE, benchEmail } from '../lib/constants.js';

const port = Number(process.env.PORT);
const origin = `http://127.0.0.1:${port}`;
const password = process.env.BENCH_PASSWORD ?? '';

const ARGON2ID = { algorithm: 2 as Algorithm.Argon2id, ...ARGON2ID_PARAMS };
const accounts = new Map<string, { id: string; hash: string; name: string }>();
for (let i = 0; i < Number(process.env.BENCH_USERS ?? 8); i++)
  accounts.set(benchEmail(i), { id: `user-${i}`, hash: await hash(password, ARGON2ID), name: `Bench ${i}` });
const byId = new Map([...accounts.entries()].map(([email, a]) => [a.id, { ...a, email }]));

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const database = process.env.BENCH_DATABASE;
const provider = new Provider(origin, {
  adapter: database ? sqliteAdapter(database) : MapAdapter,
  jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'bench', alg: 'ES256', use: 'sig' }] },
  cookies: { keys: ['bench-cookie-key-bench-cookie-key'] },
  clients: [
    {
      client_id: BENCH_CLIENT,
      client_secret: process.env.BENCH_CLIENT_SECRET ?? '',
      redirect_uris: [BENCH_REDIRECT],
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  findAccount: (_ctx, id) => {
    const a = byId.get(id);
    return a && { accountId: id, claims: () => ({ sub: id, email: a.email, name: a.name }) };
  },
  claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => BENCH_RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: BENCH_RESOURCE,
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
  // Refresh tokens without offline_access, as Tessera issues them to clients allowed the grant.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  // Tessera's defaults (idp/src/config.ts).
  ttl: {
    AccessToken: 300,
    IdToken: 300,
    AuthorizationCode: 60,
    Interaction: 600,
    Session: 12 * 3600,
    Grant: 30 * 86400,
    RefreshToken: 7 * 86400,
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.on('server_error', (_ctx, err) => process.stderr.write(`server_error: ${err.stack ?? err}\n`));

const readForm = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString());
};

const page = (res: ServerResponse, status: number, uid: string, error = '') => {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(
    `<!doctype html><title>Sign in</title>${error && `<p>${error}</p>`}` +
      `<form method="post" action="/interaction/${uid}/login">` +
      '<input name="email" type="email"><input name="password" type="password"><button>Sign in</button></form>',
  );
};

/** A first-party grant: the requested OpenID scopes and the API, as Tessera grants a first-party client. */
async function grantFor(accountId: string, clientId: string, scope: string): Promise<string> {
  const grant = new provider.Grant({ accountId, clientId });
  grant.addOIDCScope(scope);
  grant.addResourceScope(BENCH_RESOURCE, 'api');
  return grant.save();
}

async function interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const clientId = String(details.params.client_id);
  const scope = String(details.params.scope ?? 'openid');
  if (req.method === 'GET') {
    if (details.prompt.name === 'login') return page(res, 200, details.uid);
    // Signed in already (an SSO visit whose grant lapsed): first-party, so no consent page.
    const grantId = await grantFor(details.session!.accountId, clientId, scope);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  const form = await readForm(req);
  const account = accounts.get(form.get('email') ?? '');
  // An unknown account costs a verification too, as at Tessera.
  const ok = await verify(account?.hash ?? [...accounts.values()][0]!.hash, form.get('password') ?? '');
  if (!account || !ok) return page(res, 401, details.uid, 'Wrong email or password.');
  const grantId = await grantFor(account.id, clientId, scope);
  return provider.interactionFinished(
    req,
    res,
    { login: { accountId: account.id }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const callback = provider.callback();
createServer((req, res) => {
  if (!req.url?.startsWith('/interaction/')) {
    void callback(req, res);
    return;
  }
  interaction(req, res).catch((e: unknown) => {
    process.stderr.write(`interaction: ${e instanceof Error ? e.stack : String(e)}\n`);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
}).listen(port, '127.0.0.1');

// Exits normally on SIGTERM, so that node --cpu-prof (BENCH_CPU_PROF_DIR) writes its profile.
process.once('SIGTERM', () => process.exit(0));
