/**
 * What an SSO visit and a password sign-in read: the authorization endpoint is on every sign-in to
 * every app, and most of its cost is lookups, so each row it needs is read once (issue 9's
 * profile: SQLite statements are a third of the issuer's CPU on these paths).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { browserFlow, signInAndRedeem } from './support/browser.js';
import { registerWebClient, useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();
const web = { id: 'reads-web', name: 'Reads Web', secret: 'reads-web-secret-reads-web-secret-reads-0123' };

afterEach(() => vi.restoreAllMocks());

describe('an SSO visit', () => {
  it('reads its client and its session once each, and issues the code', async () => {
    await registerWebClient(idp, fx, web);
    const client = { clientId: web.id, redirectUri: fx.redirectUri };
    const first = await signInAndRedeem(idp.url, { ...client, auth: web });
    const { store } = idp.issuer.ctx;
    const clientReads = vi.spyOn(store.clients, 'findById');
    const sessionReads = vi.spyOn(store.sessions, 'findBySecretDigest');
    const visit = await browserFlow(idp.url, client, null, first.jar);
    expect(visit.callback.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(clientReads.mock.calls).toEqual([[web.id]]);
    expect(sessionReads).toHaveBeenCalledTimes(1);
  });
});

describe('a password sign-in', () => {
  it('asks once whether the person has a second factor, and issues the code', async () => {
    const app = { ...web, id: 'reads-web-sign-in' };
    await registerWebClient(idp, fx, app);
    const client = { clientId: app.id, redirectUri: fx.redirectUri };
    const totpReads = vi.spyOn(idp.issuer.ctx.store.secondFactors, 'findTotp');
    const { callback } = await browserFlow(idp.url, client, { email: fx.alice.email });
    expect(callback.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The sign-in's own question (no session before a second factor) answers the authorization's.
    expect(totpReads.mock.calls).toEqual([[fx.alice.sub]]);
  });
});
