/**
 * Attack battery, sessions and browsers (OWASP ASVS V3 session management, V2.2 authentication,
 * V4.2 CSRF, V14.4 headers; RFC 6265bis cookie prefixes), against a real issuer over real HTTP:
 * fixation with a stolen database value, cookie flags on http and https issuers, framing, CSRF on
 * the sign-out confirmation, and account enumeration by answer and by timing. Attacks the feature
 * tests already try (refusals-sign-in, prompt, consent, account, throttle-sign-in) are listed in
 * SECURITY.md, not repeated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCookieJarClient, formValue, type CookieJarClient } from '@tessera/shared/testing';
import { accountThrottleKey } from '../../src/protocol/sign-in-throttle.js';
import { registerUser } from '../../src/protocol/registration.js';
import { authorizeQuery, getAuthorize, locationOf, signInAndRedeem, submitSignIn } from '../support/browser.js';
import { PASSWORD, seed, sql, startIssuer, useIssuer, type RunningIssuer } from '../support/fixture.js';

const { idp, fx } = useIssuer();

/** What prompt=none answers a browser holding only `cookies` (name → value). */
async function promptNone(
  running: RunningIssuer,
  cookies: Record<string, string>,
  clientId = fx.publicClient.id,
): Promise<URL> {
  const jar = createCookieJarClient();
  for (const [name, value] of Object.entries(cookies)) jar.setCookie(running.url, name, value);
  const res = await getAuthorize(
    running.url,
    authorizeQuery({ clientId, redirectUri: fx.redirectUri }, { prompt: 'none' }),
    jar,
  );
  return locationOf(res, running.url)!;
}

/** The Set-Cookie header for cookie `name` in `res`, split into its attributes (lower-cased names). */
function setCookie(res: Response, name: string): { value: string; attributes: Map<string, string> } | undefined {
  const header = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (header === undefined) return undefined;
  const [pair, ...attrs] = header.split(';');
  const attributes = new Map(
    attrs
      .map((a) => a.trim().split('=') as [string, string?])
      .map(([k, v]) => [k.toLowerCase(), v ?? ''] as [string, string]),
  );
  return { value: pair!.slice(name.length + 1), attributes };
}

/** Posts alice's sign-in from a new browser that went through /authorize (from `origin`, the issuer's by default). */
async function postSignIn(running: RunningIssuer, originOverride?: string) {
  const jar = createCookieJarClient();
  const authorize = await getAuthorize(
    running.url,
    authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }),
    jar,
  );
  const signInUrl = new URL(
    locationOf(authorize, running.url)!.pathname + locationOf(authorize, running.url)!.search,
    running.url,
  );
  const page = await (await jar.fetch(signInUrl)).text();
  const signIn = await jar.fetch(new URL('/sign-in', running.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: originOverride ?? new URL(running.url).origin,
    },
    body: new URLSearchParams({
      interaction: formValue(page, 'interaction')!,
      csrf_token: formValue(page, 'csrf_token')!,
      email: 'alice@example.com',
      password: PASSWORD,
    }),
  });
  return { jar, authorize, signIn };
}

/** Signs alice in from a new browser through /authorize; the responses that set the cookies. */
async function signInResponses(running: RunningIssuer, originOverride?: string) {
  const responses = await postSignIn(running, originOverride);
  expect(responses.signIn.status).toBe(303);
  return responses;
}

describe('OWASP ASVS V3.2, V3.4: session fixation and stolen session values', () => {
  it('never accepts the stored digest of a live session as its cookie (a stolen database lets nobody in)', async () => {
    const { jar } = await signInAndRedeem(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri });
    const secret = jar.cookie(idp.url, 'tessera_session')!;
    expect((await promptNone(idp, { tessera_session: secret })).searchParams.has('code')).toBe(true);
    const digests = (await sql(idp, 'select secret_digest from sso_sessions where ended_at is null')).map((r) =>
      String(r.secret_digest),
    );
    expect(digests.length).toBeGreaterThan(0);
    for (const digest of digests) {
      expect((await promptNone(idp, { tessera_session: digest })).searchParams.get('error')).toBe('login_required');
    }
  });

  it('replaces a planted browser-binding cookie that is not a 256-bit secret; sign-in binds a fresh one', async () => {
    const jar = createCookieJarClient();
    jar.setCookie(idp.url, 'tessera_browser', 'attacker-chosen');
    const res = await getAuthorize(
      idp.url,
      authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }),
      jar,
    );
    expect(jar.cookie(idp.url, 'tessera_browser')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const signedIn = await submitSignIn(jar, idp.url, locationOf(res, idp.url)!, 'alice@example.com', PASSWORD);
    expect(signedIn.status).toBe(303);
  });
});

describe('RFC 6265bis §4.1.2, OWASP ASVS V3.4: cookie flags', () => {
  it('sets session and browser cookies HttpOnly, SameSite=Lax, Path=/, no Domain on a loopback issuer', async () => {
    const { authorize, signIn } = await signInResponses(idp);
    for (const [res, name] of [
      [signIn, 'tessera_session'],
      [authorize, 'tessera_browser'],
    ] as const) {
      const cookie = setCookie(res, name);
      expect(cookie, name).toBeDefined();
      expect(cookie!.attributes.has('httponly')).toBe(true);
      expect(cookie!.attributes.get('samesite')).toBe('Lax');
      expect(cookie!.attributes.get('path')).toBe('/');
      expect(cookie!.attributes.has('domain')).toBe(false);
    }
  });

  describe('with an https issuer (TESSERA_ISSUER=https://…, requests still sent to the loopback server)', () => {
    const HTTPS_ISSUER = 'https://idp.example.test';
    let secure: RunningIssuer;
    beforeAll(async () => {
      secure = await startIssuer({ env: { TESSERA_ISSUER: HTTPS_ISSUER } });
      await seed(secure);
    });
    afterAll(() => secure.cleanup());

    it('sets __Host- cookies: Secure, Path=/, no Domain, HttpOnly, SameSite=Lax (RFC 6265bis §4.1.3.2)', async () => {
      const { authorize, signIn } = await signInResponses(secure, HTTPS_ISSUER);
      expect(signIn.headers.getSetCookie().some((c) => c.startsWith('tessera_session='))).toBe(false);
      for (const [res, name] of [
        [signIn, '__Host-tessera_session'],
        [authorize, '__Host-tessera_browser'],
      ] as const) {
        const cookie = setCookie(res, name);
        expect(cookie, name).toBeDefined();
        expect(cookie!.attributes.has('secure')).toBe(true);
        expect(cookie!.attributes.get('path')).toBe('/');
        expect(cookie!.attributes.has('domain')).toBe(false);
        expect(cookie!.attributes.has('httponly')).toBe(true);
        expect(cookie!.attributes.get('samesite')).toBe('Lax');
      }
    });

    it('ignores the session secret without the prefix: a sibling subdomain can set it (cookie tossing)', async () => {
      const { jar } = await signInResponses(secure, HTTPS_ISSUER);
      const secret = jar.cookie(secure.url, '__Host-tessera_session')!;
      expect((await promptNone(secure, { '__Host-tessera_session': secret })).searchParams.has('code')).toBe(true);
      expect((await promptNone(secure, { tessera_session: secret })).searchParams.get('error')).toBe('login_required');
    });

    it('refuses a sign-in posted with the loopback origin instead of the issuer’s https origin (403)', async () => {
      // Posted from the loopback origin the test reaches the issuer on, not from its https issuer URL.
      const { signIn: res } = await postSignIn(secure);
      expect(res.status).toBe(403);
      expect(res.headers.getSetCookie().some((c) => c.includes('tessera_session='))).toBe(false);
    });
  });
});

describe('OWASP Clickjacking Defense: no issuer page can be framed', () => {
  async function expectUnframeable(res: Response): Promise<void> {
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/(^|;)\s*frame-ancestors 'none'\s*(;|$)/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    await res.arrayBuffer();
  }

  it('sends frame-ancestors none and X-Frame-Options DENY on the sign-in page', async () => {
    const jar = createCookieJarClient();
    const res = await getAuthorize(
      idp.url,
      authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }),
      jar,
    );
    await expectUnframeable(await jar.fetch(locationOf(res, idp.url)!));
    await expectUnframeable(await jar.fetch(new URL('/sign-in', idp.url)));
  });

  it('sends them on the consent page', async () => {
    const jar = createCookieJarClient();
    const res = await getAuthorize(
      idp.url,
      authorizeQuery({ clientId: fx.thirdParty.id, redirectUri: fx.redirectUri }),
      jar,
    );
    const signedIn = await submitSignIn(jar, idp.url, locationOf(res, idp.url)!, 'alice@example.com', PASSWORD);
    const consent = locationOf(signedIn, idp.url)!;
    expect(consent.pathname).toBe('/consent');
    await expectUnframeable(await jar.fetch(consent));
  });

  it('sends them on the sign-out confirmation page and on the error page', async () => {
    const { jar } = await signInAndRedeem(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri });
    const confirm = await jar.fetch(`${idp.url}/logout`);
    expect(confirm.status).toBe(200);
    await expectUnframeable(confirm);
    await expectUnframeable(
      await getAuthorize(idp.url, authorizeQuery({ clientId: 'no-such-client', redirectUri: fx.redirectUri })),
    );
  });
});

describe('OWASP ASVS V4.2.2, RP-Initiated Logout 1.0 §6: the sign-out confirmation refuses cross-site posts', () => {
  async function confirmationOf(): Promise<{ jar: CookieJarClient; csrfToken: string }> {
    const { jar } = await signInAndRedeem(idp.url, { clientId: fx.publicClient.id, redirectUri: fx.redirectUri });
    const page = await (await jar.fetch(`${idp.url}/logout`)).text();
    return { jar, csrfToken: formValue(page, 'csrf_token')! };
  }

  const confirm = (jar: CookieJarClient, csrfToken: string, headers: Record<string, string>) =>
    jar.fetch(`${idp.url}/logout/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ csrf_token: csrfToken }),
    });

  const stillSignedIn = async (jar: CookieJarClient) => {
    const res = await getAuthorize(
      idp.url,
      authorizeQuery({ clientId: fx.publicClient.id, redirectUri: fx.redirectUri }, { prompt: 'none' }),
      jar,
    );
    return locationOf(res, idp.url)!.searchParams.has('code');
  };

  it.each([
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['Origin: null from a cross-site context', { origin: 'null', 'sec-fetch-site': 'cross-site' }],
  ])('refuses a confirmation with the right token but %s (403), keeping the session', async (_, headers) => {
    const { jar, csrfToken } = await confirmationOf();
    expect((await confirm(jar, csrfToken, headers)).status).toBe(403);
    expect(await stillSignedIn(jar)).toBe(true);
  });

  it('refuses the CSRF token of another browser’s session (403), keeping the session', async () => {
    const a = await confirmationOf();
    const b = await confirmationOf();
    expect((await confirm(a.jar, b.csrfToken, { origin: idp.url })).status).toBe(403);
    expect(await stillSignedIn(a.jar)).toBe(true);
  });
});

describe('OWASP ASVS V2.2, Authentication Cheat Sheet: no account enumeration', () => {
  let real: RunningIssuer;
  /** Accounts that each get one wrong password, so no account throttle mixes into the timing. */
  const victims = Array.from({ length: 22 }, (_, i) => `victim-${i}@example.com`);

  beforeAll(async () => {
    // The real argon2id parameters; X-Forwarded-For trusted so each attempt comes from an IP of its own.
    real = await startIssuer({ env: { TESSERA_TRUST_PROXY: 'true' } });
    const { store, passwords, clock } = real.issuer.ctx;
    for (const email of [...victims, 'locked@example.com'])
      await registerUser({ store, passwords, clock }, { email, displayName: email, password: PASSWORD });
    // The locked account: blocked for an hour from the start (as after 20 failures).
    await store.signInThrottles.countFailure(
      'setup',
      [
        {
          key: accountThrottleKey(real.issuer.ctx.config, 'locked@example.com'),
          policy: { forgetAfter: 3_600_000, blockedUntil: (_, at) => at + 3_600_000 },
        },
      ],
      clock.now(),
    );
  }, 60_000);
  afterAll(() => real.cleanup());

  let ipCounter = 0;
  /**
   * One sign-in attempt from a new browser and a new IP; the POST alone is timed, in CPU time of
   * this process (the issuer runs in it, argon2id on its threads, nothing else meanwhile).
   */
  async function attempt(
    email: string,
    password: string,
  ): Promise<{ status: number; page: string; cpuMs: number; form: { interaction: string; csrfToken: string } }> {
    const jar = createCookieJarClient();
    const formPage = await (await jar.fetch(new URL('/sign-in', real.url))).text();
    const form = { interaction: formValue(formPage, 'interaction')!, csrfToken: formValue(formPage, 'csrf_token')! };
    ipCounter++;
    const started = process.cpuUsage();
    const res = await jar.fetch(new URL('/sign-in', real.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: new URL(real.url).origin,
        'x-forwarded-for': `198.51.100.${ipCounter % 250}`,
      },
      body: new URLSearchParams({ interaction: form.interaction, csrf_token: form.csrfToken, email, password }),
    });
    const page = await res.text();
    const { user, system } = process.cpuUsage(started);
    return { status: res.status, page, cpuMs: (user + system) / 1000, form };
  }

  /**
   * The page without what differs per form anyway: interaction, CSRF token, CSP nonce, the passkey
   * form's WebAuthn challenge, the email echoed back.
   */
  const normalized = (a: { page: string; form: { interaction: string; csrfToken: string } }) =>
    a.page
      .replaceAll(a.form.interaction, 'INTERACTION')
      .replaceAll(a.form.csrfToken, 'CSRF')
      .replace(/nonce="[^"]*"/g, 'nonce="N"')
      .replace(/&quot;challenge&quot;:&quot;[^&]*&quot;/g, '&quot;challenge&quot;:&quot;CH&quot;')
      .replace(/value="[^"]*@example\.com"/g, 'value="EMAIL"');

  it('answers unknown email, wrong password, locked account (right password) with one status and page', async () => {
    const unknown = await attempt('nobody-here@example.com', 'wrong password');
    const wrong = await attempt(victims[victims.length - 1]!, 'wrong password');
    const locked = await attempt('locked@example.com', PASSWORD);
    expect([unknown.status, wrong.status, locked.status]).toEqual([401, 401, 401]);
    expect(normalized(wrong)).toBe(normalized(unknown));
    expect(normalized(locked)).toBe(normalized(unknown));
    expect(unknown.page).toContain('Incorrect email or password.');
  });

  it('spends the CPU time of a wrong password on an unknown email (lower quartiles of 21 within 25%)', async () => {
    // One warm-up pair, not counted: the first argon2id run pays for allocating its memory.
    await attempt('warm-up-unknown@example.com', 'wrong password');
    await attempt(victims[21]!, 'wrong password');
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 21; i++) {
      // Interleaved, so a busy machine slows both alike; each try on its own account and IP.
      unknown.push((await attempt(`nobody-${i}@example.com`, 'wrong password')).cpuMs);
      wrong.push((await attempt(victims[i]!, 'wrong password')).cpuMs);
    }
    // What an attacker times is the work the issuer does per answer. Measured as CPU time, the
    // other processes of a loaded machine do not add to it (wall time under full load moved the
    // quartiles by a third); the lower quartile still drops what little noise is left (cache, GC).
    // Skipping argon2id for unknown emails would put it at a fraction of the other.
    const quantile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)]!;
    const [qu, qw] = [quantile(unknown, 0.25), quantile(wrong, 0.25)];
    const median = (xs: number[]) => quantile(xs, 0.5).toFixed(1);
    const medians = `medians: unknown ${median(unknown)} ms, wrong ${median(wrong)} ms`;
    expect(
      Math.abs(qu - qw) / Math.max(qu, qw),
      `CPU-time lower quartiles: unknown ${qu.toFixed(1)} ms, wrong ${qw.toFixed(1)} ms; ${medians}`,
    ).toBeLessThan(0.25);
  }, 60_000);
});
