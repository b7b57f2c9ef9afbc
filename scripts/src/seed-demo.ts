/**
 * Demo seeding: two people and the two apps' clients and APIs, app A registered to exchange the
 * person's token for one for app B's API. Only the demo command calls this; the issuer itself
 * never seeds anything.
 */
import { DEVICE_CODE_GRANT_TYPE } from '@tessera/shared';
import {
  checkNewPassword,
  registerClient,
  registerResource,
  registerUser,
  updateClient,
  type ClientInput,
} from '@tessera/idp';
import { seedDatabase } from './seeding.js';

export const DEMO_USERS = [
  { email: 'alice@example.com', displayName: 'Alice Example' },
  { email: 'bob@example.com', displayName: 'Bob Example' },
] as const;

export interface DemoTopology {
  issuer: string;
  appA: string;
  appB: string;
}

/** Seeds (or refreshes) the demo data; returns app A's client secret, new at every start. */
export async function seedDemo(
  database: string,
  urls: DemoTopology,
  password: string,
): Promise<{ appASecret: string }> {
  // The documented password is a new password like any other (README): refused before anything is written.
  for (const u of DEMO_USERS) {
    const refusal = checkNewPassword(password, u);
    if (refusal) throw new Error(`DEMO_PASSWORD is refused for ${u.email}: ${refusal.reason}`);
  }
  return seedDatabase(database, async ({ store, passwords, clock }) => {
    for (const u of DEMO_USERS) {
      const existing = await store.users.findByEmail(u.email);
      if (!existing) await registerUser({ store, passwords, clock }, { ...u, password });
      // The demo password comes from DEMO_PASSWORD, so keep the stored hash in step with it.
      else if (!(await passwords.verify(existing.passwordHash, password)).ok)
        await store.users.updatePasswordHash(existing.sub, await passwords.hash(password), clock.now());
    }
    for (const [id, name] of [
      [urls.appA, 'App A API'],
      [urls.appB, 'App B API'],
    ] as const) {
      if (!(await store.resources.findById(id))) await registerResource({ store, clock }, { id, name });
    }
    const clients: ClientInput[] = [
      {
        id: 'app-a',
        name: 'App A',
        type: 'confidential',
        party: 'first',
        redirectUris: [`${urls.appA}/callback`],
        postLogoutRedirectUris: [`${urls.appA}/`],
        backchannelLogoutUri: `${urls.appA}/backchannel-logout`,
        scopes: ['openid', 'profile', 'email', 'offline_access'],
        resources: [urls.appA],
        grantTypes: ['refresh_token'],
        // RFC 8693: app A's server may exchange the person's token for one for app B's API, and
        // for no other; it calls app B for the person with it.
        exchangeTargets: [urls.appB],
        // Its pages may sign people in with FedCM (the browser's own dialog) as well as by redirect.
        fedcmOrigins: [new URL(urls.appA).origin],
      },
      {
        id: 'app-b',
        name: 'App B',
        type: 'public',
        party: 'first',
        redirectUris: [`${urls.appB}/`],
        postLogoutRedirectUris: [`${urls.appB}/`],
        backchannelLogoutUri: `${urls.appB}/backchannel-logout`,
        scopes: ['openid', 'profile', 'email', 'offline_access'],
        resources: [urls.appB],
        grantTypes: ['refresh_token'],
        // RFC 9449: its tokens are bound to the page's non-extractable key; copied out, they are useless.
        dpopBound: true,
        fedcmOrigins: [new URL(urls.appB).origin],
      },
      {
        // The command-line app (relying-apps/app-cli): a device without a browser, signing in with
        // the device authorization grant (RFC 8628) to call app B's API.
        id: 'app-cli',
        name: 'Tessera CLI',
        type: 'public',
        party: 'first',
        redirectUris: [],
        scopes: ['openid', 'profile', 'email'],
        resources: [urls.appB],
        grantTypes: [DEVICE_CODE_GRANT_TYPE],
      },
    ];
    let appASecret = '';
    for (const input of clients) {
      const existing = await store.clients.findById(input.id!);
      const { secret } = existing
        ? await updateClient({ store, clock }, existing, input)
        : await registerClient({ store, clock }, input);
      if (input.id === 'app-a') appASecret = secret!;
    }
    return { appASecret };
  });
}
