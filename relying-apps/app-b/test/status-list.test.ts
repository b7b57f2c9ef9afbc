/**
 * Stateless revocation reaching app B's API through the issuer's token status list alone:
 * back-channel logout to app B is switched off here, so only the status list can tell the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCookieJarClient, formValue } from '@tessera/shared/testing';
import { callMe, eventually, signInToAppB, startWorld, type World } from './support/world.js';

const TTL_SECONDS = 2;
let world: World;

beforeAll(async () => {
  world = await startWorld(
    {},
    { backchannelLogout: false, issuerEnv: { TESSERA_STATUS_LIST_TTL: String(TTL_SECONDS) } },
  );
});
afterAll(() => world.stop());

const sidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).sid as string;

describe('the token status list in app B’s API', () => {
  it('refuses a device’s unexpired access token within the ttl once the account page ends the device', async () => {
    const device1 = await signInToAppB(world, createCookieJarClient());
    const device2 = await signInToAppB(world, createCookieJarClient());
    expect((await callMe(world, device1.accessToken)).status).toBe(200);
    expect((await callMe(world, device2.accessToken)).status).toBe(200);

    // Device 2 opens the account page and signs device 1 out.
    const page = await device2.jar.fetch(`${world.idp}/account`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const sid1 = sidOf(device1.idToken);
    expect(html).toContain(`/account/devices/${sid1}/end`);
    const ended = await device2.jar.fetch(`${world.idp}/account/devices/${sid1}/end`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: world.idp },
      body: new URLSearchParams({ csrf_token: formValue(html, 'csrf_token')! }),
    });
    expect(ended.status).toBe(303);
    const endedAt = Date.now();

    // Within the ttl (plus a margin for the clock and the first cache), the API refuses it.
    await eventually(async () => (await callMe(world, device1.accessToken)).status === 401, (TTL_SECONDS + 3) * 1000);
    expect(Date.now() - endedAt).toBeLessThan((TTL_SECONDS + 3) * 1000);
    const exp = JSON.parse(Buffer.from(device1.accessToken.split('.')[1]!, 'base64url').toString()).exp as number;
    expect(exp * 1000).toBeGreaterThan(Date.now()); // still unexpired: only the status list refused it
    // No back-channel logout was involved.
    const [deliveries] = (await world.issuer.issuer.ctx.store.database.query(
      "select count(*) as n from backchannel_deliveries where client_id = 'app-b'",
    )) as { n: number }[];
    expect(deliveries!.n).toBe(0);
    // Device 2 is untouched.
    expect((await callMe(world, device2.accessToken)).status).toBe(200);
  });
});

describe('with APP_B_STATUS_LIST=off', () => {
  let off: World;
  beforeAll(async () => {
    off = await startWorld(
      {},
      { backchannelLogout: false, issuerEnv: { TESSERA_STATUS_LIST_TTL: '1' }, appEnv: { APP_B_STATUS_LIST: 'off' } },
    );
  });
  afterAll(() => off.stop());

  it('does not consult the list, so without back-channel logout a revoked token passes until it expires', async () => {
    const device = await signInToAppB(off);
    await device.jar.fetch(`${off.idp}/logout?${new URLSearchParams({ id_token_hint: device.idToken })}`);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await callMe(off, device.accessToken)).status).toBe(200);
  });
});
