/**
 * Load for the fault tests: people signed in through the issuer's URL (the load balancer) who
 * then rotate their refresh tokens as fast as they can, app B's way (a public client, RFC 6749
 * §6, its tokens bound to a DPoP key of each person's, RFC 9449 §5). Every rotation the issuer
 * acknowledges (a 200) is a write it promised to keep: the last acknowledged refresh token of each
 * person must still work after any fault.
 *
 * A failed rotation is ambiguous — the node may have committed it before it died — and sending
 * the old token again would be a reuse, which revokes the family (RFC 9700 §4.14.2). So after a
 * failure a person signs in afresh and the old family is left out of the check.
 */
import { createDPoPProver, withDPoP, type DPoPProver } from '@tessera/shared';
import { createLoopbackFetch } from '@tessera/shared/node';
import { createCookieJarClient, formValue, pkcePair } from '@tessera/shared/testing';

const CLIENT_ID = 'app-b';

export interface Outcome {
  at: number;
  status: number;
}

export interface RefreshLoad {
  /** Every rotation's answer (status 0: no HTTP answer at all), in order. */
  outcomes: Outcome[];
  /** Stops the load; resolves with each person's last acknowledged refresh token still owed. */
  stop(): Promise<HeldRefreshToken[]>;
}

/** A refresh token and the DPoP key it is bound to: rotating it takes a proof by that key. */
export interface HeldRefreshToken {
  refreshToken: string;
  dpop: DPoPProver;
}

interface Person {
  /** The refresh token of the latest acknowledged rotation, or undefined after a failure. */
  token: HeldRefreshToken | undefined;
}

const loopbackFetch = createLoopbackFetch({ maxRedirects: 0 }) as typeof fetch;

/** Signs `email` in from a fresh browser and redeems the code with a new DPoP key: a refresh token bound to it. */
export async function signIn(issuer: string, appB: string, email: string, password: string): Promise<HeldRefreshToken> {
  const jar = createCookieJarClient(loopbackFetch);
  const { verifier, challenge } = pkcePair();
  const redirectUri = `${appB}/`;
  const authorize = new URL('/authorize', issuer);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri,
    scope: 'openid offline_access',
    state: 's',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  const toSignIn = await jar.follow(authorize, { stopWhen: (u) => u.pathname === '/sign-in' });
  if (toSignIn.location?.pathname !== '/sign-in') throw new Error(`no sign-in page: ${toSignIn.last.status}`);
  const page = await (await jar.fetch(toSignIn.location)).text();
  const signedIn = await jar.fetch(new URL('/sign-in', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(issuer).origin },
    body: new URLSearchParams({
      interaction: formValue(page, 'interaction') ?? '',
      csrf_token: formValue(page, 'csrf_token') ?? '',
      email,
      password,
    }),
  });
  const next = signedIn.headers.get('location');
  if (!next) throw new Error(`sign-in did not redirect: ${signedIn.status}`);
  // The sign-in answers with the callback itself, or with a step on the way to it.
  let callback = new URL(next, issuer);
  if (!callback.href.startsWith(redirectUri)) {
    const back = await jar.follow(callback, { stopWhen: (u) => u.href.startsWith(redirectUri) });
    if (!back.location) throw new Error(`no redirect to the app: ${back.last.status}`);
    callback = back.location;
  }
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code: ${callback.href}`);
  const dpop = await createDPoPProver();
  const res = await token(
    issuer,
    {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      client_id: CLIENT_ID,
    },
    dpop,
  );
  const refresh = res.json?.refresh_token;
  if (res.status !== 200 || typeof refresh !== 'string') throw new Error(`no refresh token: ${res.status}`);
  return { refreshToken: refresh, dpop };
}

/** One rotation: the new refresh token, or the answer's status (0: none) when refused. */
export async function rotate(
  issuer: string,
  held: HeldRefreshToken,
): Promise<{ status: number; token?: HeldRefreshToken }> {
  const body = { grant_type: 'refresh_token', refresh_token: held.refreshToken, client_id: CLIENT_ID };
  const res = await token(issuer, body, held.dpop);
  const next = res.json?.refresh_token;
  return res.status === 200 && typeof next === 'string'
    ? { status: 200, token: { refreshToken: next, dpop: held.dpop } }
    : { status: res.status };
}

async function token(
  issuer: string,
  body: Record<string, string>,
  dpop: DPoPProver,
): Promise<{ status: number; json?: Record<string, unknown> }> {
  try {
    // The proof carries the issuer's nonce once it has given one (every answer does); a first
    // request to a node is answered use_dpop_nonce and sent again by withDPoP.
    const res = await withDPoP(dpop, loopbackFetch)(new URL('/token', issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // nginx's own error pages are HTML
    }
    return { status: res.status, ...(json && { json }) };
  } catch {
    return { status: 0 };
  }
}

/** Starts `people` signed-in people rotating in a loop through `issuer`. */
export async function startRefreshLoad(o: {
  issuer: string;
  appB: string;
  email: string;
  password: string;
  people: number;
}): Promise<RefreshLoad> {
  const outcomes: Outcome[] = [];
  let running = true;
  // Each person signs in first, in the loop, so a sign-in refused by a faulty node is tried again.
  const people: Person[] = Array.from({ length: o.people }, () => ({ token: undefined }));
  const loops = people.map(async (person) => {
    while (running) {
      if (person.token === undefined) {
        try {
          person.token = await signIn(o.issuer, o.appB, o.email, o.password);
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
        continue;
      }
      const result = await rotate(o.issuer, person.token);
      outcomes.push({ at: Date.now(), status: result.status });
      person.token = result.token;
      if (result.token === undefined) await new Promise((r) => setTimeout(r, 50));
    }
  });
  return {
    outcomes,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return people.flatMap((p) => (p.token === undefined ? [] : [p.token]));
    },
  };
}
