import { describe, expect, it } from 'vitest';
import { createCookieJarClient, type CookieJarClient } from '@tessera/shared/testing';
import { me, signIn, useAppA } from './support/world.js';

const world = useAppA();

/** Starts a sign-in in a fresh browser and returns it with the state it was given. */
async function started(): Promise<{ jar: CookieJarClient; state: string }> {
  const jar = createCookieJarClient();
  const res = await jar.fetch(`${world.app}/login`);
  return { jar, state: new URL(res.headers.get('location')!).searchParams.get('state')! };
}

const callback = (params: Record<string, string>) => `${world.app}/callback?${new URLSearchParams(params)}`;

async function expectProblemPage(res: Response, status: number, code: string): Promise<string> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  const body = await res.text();
  expect(body).toContain('<a id="sign-in" class="button" href="/login">Sign in</a>');
  expect(body).toContain(`<code>${code}</code>`);
  return body;
}

describe('the callback refuses what it cannot trust, with a page and never a 500', () => {
  // Each case: the callback, in the browser that started a sign-in, with `params(state)` for the state it was given.
  const CASES: { refusal: string; params: (state: string) => Record<string, string>; status: number; code: string }[] =
    [
      {
        refusal: 'shows access_denied from the issuer as a cancelled sign-in',
        params: (state) => ({ error: 'access_denied', state, iss: world.idp }),
        status: 403,
        code: 'access_denied',
      },
      {
        refusal: 'refuses a response whose state is not the one this browser was given (CSRF)',
        params: () => ({ code: 'x', state: 'A'.repeat(43), iss: world.idp }),
        status: 400,
        code: 'invalid_state',
      },
      {
        refusal: 'refuses a response from another issuer (RFC 9207 mix-up)',
        params: (state) => ({ code: 'x', state, iss: 'http://evil.localhost:4000' }),
        status: 400,
        code: 'invalid_issuer',
      },
      {
        refusal: 'refuses a response without iss',
        params: (state) => ({ code: 'x', state }),
        status: 400,
        code: 'invalid_issuer',
      },
    ];
  it.each(CASES)('$refusal', async ({ params, status, code }) => {
    const { jar, state } = await started();
    await expectProblemPage(await jar.fetch(callback(params(state))), status, code);
  });

  it('shows login_required from the issuer with a sign-in link', async () => {
    const { jar, state } = await started();
    const body = await expectProblemPage(
      await jar.fetch(callback({ error: 'login_required', state, iss: world.idp })),
      400,
      'login_required',
    );
    expect(body).toContain('not signed in');
  });

  it('refuses a callback when no sign-in was started in this browser', async () => {
    await expectProblemPage(
      await fetch(callback({ code: 'x', state: 'y', iss: world.idp })),
      400,
      'no_login_in_progress',
    );
  });

  it('refuses a code the issuer does not know, without a session', async () => {
    const { jar, state } = await started();
    await expectProblemPage(
      await jar.fetch(callback({ code: 'not-a-real-code', state, iss: world.idp })),
      400,
      'invalid_grant',
    );
    expect((await me(world, jar)).status).toBe(401);
  });

  it('does not show an unknown error code from the query string as markup', async () => {
    const { jar, state } = await started();
    const res = await jar.fetch(callback({ error: '<script>alert(1)</script>', state, iss: world.idp }));
    const body = await expectProblemPage(res, 400, 'invalid_response');
    expect(body).not.toContain('<script>');
  });

  it('uses a sign-in response once: the same callback URL a second time is refused', async () => {
    const jar = createCookieJarClient();
    const { hops } = await signIn(world, jar);
    const callbackUrl = hops.map((r) => r.headers.get('location')).find((l) => l?.startsWith(`${world.app}/callback`))!;
    await expectProblemPage(await jar.fetch(callbackUrl), 400, 'no_login_in_progress');
  });
});
