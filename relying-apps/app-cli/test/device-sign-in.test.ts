/**
 * The command-line app against a real issuer and a real app B: it asks for a user code, shows it
 * with the URL and a QR code, and waits; a person approves on another device (a browser without
 * JavaScript, over HTTP here; Chromium in the end-to-end tests); the app then calls app B's API as
 * that person. A denial ends the wait with the issuer's access_denied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_CODE_GRANT_TYPE } from '@tessera/shared';
import { createLoopbackFetch } from '@tessera/shared/node';
import { createCookieJarClient, formValue } from '@tessera/shared/testing';
import { registerClient } from '@tessera/idp';
import { PASSWORD } from '../../../idp/test/support/fixture.js';
import { submitSignIn } from '../../../idp/test/support/browser.js';
import { startWorld, type World } from '../../app-b/test/support/world.js';
import { callAppB } from '../src/call-app-b.js';
import { loadConfig } from '../src/config.js';
import { signInOnDevice } from '../src/device-sign-in.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
  const { store, clock } = world.issuer.issuer.ctx;
  // As scripts/src/seed-demo.ts registers the demo's.
  await registerClient(
    { store, clock },
    {
      id: 'app-cli',
      name: 'Tessera CLI',
      type: 'public',
      party: 'first',
      redirectUris: [],
      scopes: ['openid', 'profile', 'email'],
      resources: [world.app],
      grantTypes: [DEVICE_CODE_GRANT_TYPE],
    },
  );
}, 60_000);
afterAll(() => world?.stop());

const fetch = createLoopbackFetch();

/** Runs the app's sign-in; resolves `shown` with what it printed once the code is on screen. */
function startSignIn() {
  const config = loadConfig({ TESSERA_ISSUER: world.idp, APP_B_URL: world.app });
  let printed = '';
  let show: (text: string) => void = () => {};
  const shown = new Promise<string>((resolve) => {
    show = resolve;
  });
  const signedIn = signInOnDevice(config, fetch, (text) => {
    printed += text;
    if (/enter the code/.test(printed)) show(printed);
  });
  return { config, shown, signedIn };
}

/** Alice, in a browser on her phone: signs in, opens the URL with the code, and decides. */
async function decideOnPhone(printed: string, decision: 'approve' | 'deny'): Promise<string> {
  const url = /open (\S+)\n/.exec(printed)![1]!;
  const code = /enter the code\s+([A-Z]{4}-[A-Z]{4})/.exec(printed)![1]!;
  const phone = createCookieJarClient();
  const signIn = new URL('/sign-in', world.idp);
  await (await phone.fetch(signIn)).text();
  await submitSignIn(phone, world.idp, signIn, 'alice@example.com', PASSWORD);
  const page = await (await phone.fetch(new URL(`${url}?user_code=${code}`))).text();
  expect(page).toContain('Tessera CLI');
  const res = await phone.fetch(new URL('/device', world.idp), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: world.idp },
    body: new URLSearchParams({ csrf_token: formValue(page, 'csrf_token') ?? '', user_code: code, decision }),
  });
  return res.text();
}

describe('the command-line app', () => {
  it("shows a code and a QR code, and once approved on a phone, calls app B's API as the person", async () => {
    const { config, shown, signedIn } = startSignIn();
    const printed = await shown;
    expect(printed).toContain(`To sign in, open ${world.idp}/device`);
    // The QR code of the complete URL, drawn with block characters.
    expect(printed).toMatch(/[█▀▄]{10}/);
    expect(await decideOnPhone(printed, 'approve')).toContain('Device connected');

    const person = await signedIn;
    expect(person).toMatchObject({ name: 'Alice Liddell', sub: world.alice.sub });
    const answer = await callAppB(config.appBUrl, person.accessToken, fetch);
    expect(answer).toEqual({
      sub: world.alice.sub,
      name: 'Alice Liddell',
      email: 'alice@example.com',
      client_id: 'app-cli',
      act: null, // the person's own client calls: nobody acts for them
    });
  }, 30_000);

  it('stops with access_denied when the person denies it', async () => {
    const { shown, signedIn } = startSignIn();
    const outcome = signedIn.then(
      () => 'signed in',
      (e: unknown) => (e as { error?: string }).error,
    );
    expect(await decideOnPhone(await shown, 'deny')).toContain('Device refused');
    expect(await outcome).toBe('access_denied');
  }, 30_000);

  it("is refused by app B's API with a token that is not for app B", async () => {
    await expect(callAppB(world.app, 'not-a-token', fetch)).rejects.toThrow("app B's API answered 401");
  });
});
