/** An in-process issuer on a temp database with one person and two clients, for benchmarks. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIssuer, loadConfig, registerClient, registerResource, registerUser, type Issuer } from '@tessera/idp';

export const PASSWORD = 'benchmark password 1';
export const ISSUER = 'http://idp.localhost:4000';
export const REDIRECT = 'http://app.localhost:4001/callback';
const quiet = { info() {}, warn() {}, error() {} };

export async function benchIssuer(): Promise<{ issuer: Issuer; web: { id: string; secret: string }; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const config = loadConfig({ TESSERA_ISSUER: ISSUER, TESSERA_DATABASE: join(dir, 'bench.db') });
  const issuer = await createIssuer(config, { log: quiet });
  const { store, clock, passwords } = issuer.ctx;
  await registerUser(
    { store, passwords, clock },
    { email: 'bench@example.com', displayName: 'Bench', password: PASSWORD },
  );
  await registerResource({ store, clock }, { id: 'https://api.example', name: 'API' });
  const { client, secret } = await registerClient(
    { store, clock },
    {
      id: 'bench-web',
      name: 'Bench',
      type: 'confidential',
      party: 'first',
      redirectUris: [REDIRECT],
      resources: ['https://api.example'],
      grantTypes: ['refresh_token'],
    },
  );
  return {
    issuer,
    web: { id: client.id, secret: secret! },
    async close() {
      await issuer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Signs in once through the real sign-in form and returns the session cookie header. */
export async function signIn(issuer: Issuer): Promise<string> {
  const app = issuer.app;
  const page = await app.request(`${ISSUER}/sign-in`);
  const browser = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const html = await page.text();
  const field = (n: string) => new RegExp(`name="${n}" value="([^"]*)"`).exec(html)![1]!;
  const res = await app.request(`${ISSUER}/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ISSUER, cookie: browser },
    body: new URLSearchParams({
      interaction: field('interaction'),
      csrf_token: field('csrf_token'),
      email: 'bench@example.com',
      password: PASSWORD,
    }),
  });
  // A refused sign-in (a throttle, say) must not count as one.
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
  const session = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  return `${browser}; ${session}`;
}

/** A fresh authorization code for `clientId`, issued through the session `cookie` holds, and its PKCE verifier. */
export async function authorizationCode(
  issuer: Issuer,
  clientId: string,
  cookie: string,
): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope: 'openid profile email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 's',
    nonce: 'n',
  });
  const res = await issuer.app.request(`${ISSUER}/authorize?${q}`, { headers: { cookie } });
  return { code: new URL(res.headers.get('location')!).searchParams.get('code')!, verifier };
}
