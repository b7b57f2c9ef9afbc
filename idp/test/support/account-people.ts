/**
 * People with devices, for the account page's password and deletion tests: each device a cookie
 * jar signed in to a relying party whose back-channel logout endpoint records what it is told,
 * with a refresh token to try afterwards.
 */
import { expect } from 'vitest';
import { createMemoryJtiStore, createRemoteKeySet, verifyLogoutToken, type LogoutTokenClaims } from '@tessera/shared';
import { createCookieJarClient, eventually, formValue, type CookieJarClient } from '@tessera/shared/testing';
import { registerUser } from '../../src/protocol/registration.js';
import { browserFlow, redeem } from './browser.js';
import { PASSWORD, registerWebClient, type Fixtures, type RunningIssuer } from './fixture.js';
import { LogoutReceiver } from './logout-receiver.js';

/** The `sid` claim of a logout token, read without verifying it (to pick which to verify). */
const sidOf = (token: string): unknown =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).sid;

export interface Device {
  jar: CookieJarClient;
  sid: string;
  refreshToken: string;
  /** The `jti` of the access token the sign-in's code was redeemed for. */
  accessTokenJti: string;
}

export interface Person {
  email: string;
  sub: string;
}

/** A relying party with a back-channel logout receiver, registered at `idp`. */
export class AccountWorld {
  readonly receiver = new LogoutReceiver();
  readonly rp: { id: string; secret: string };
  private people = 0;

  constructor(
    private readonly idp: RunningIssuer,
    private readonly fx: Fixtures,
    name: string,
  ) {
    this.rp = { id: `${name}-rp`, secret: `${name}-rp-secret-${'0'.repeat(32)}` };
  }

  async start(): Promise<void> {
    await this.receiver.start();
    await registerWebClient(
      this.idp,
      this.fx,
      { ...this.rp, name: `${this.rp.id} app` },
      { backchannelLogoutUri: this.receiver.url, scopes: ['openid', 'profile', 'email', 'offline_access'] },
    );
  }

  stop(): void {
    this.receiver.stop();
  }

  /** A new person per test, with the fixtures' password. */
  async newPerson(prefix: string): Promise<Person> {
    const { store, passwords, clock } = this.idp.issuer.ctx;
    const email = `${prefix}-${++this.people}@example.com`;
    const user = await registerUser(
      { store, passwords, clock },
      { email, displayName: `Person ${this.people}`, password: PASSWORD },
    );
    return { email, sub: user.sub };
  }

  /** Signs in on a new device (its own cookies) and redeems the code; `offline` asks for offline_access. */
  async signInDevice(email: string, options: { password?: string; offline?: boolean } = {}): Promise<Device> {
    const jar = createCookieJarClient();
    const scope = options.offline ? 'openid email offline_access' : 'openid email';
    const { callback, verifier } = await browserFlow(
      this.idp.url,
      { clientId: this.rp.id, redirectUri: this.fx.redirectUri, scope },
      { email, ...(options.password ? { password: options.password } : {}) },
      jar,
    );
    const res = await redeem(
      this.idp.url,
      { code: callback.searchParams.get('code')!, code_verifier: verifier, redirect_uri: this.fx.redirectUri },
      this.rp,
    );
    expect(res.status).toBe(200);
    const idToken = JSON.parse(Buffer.from((res.json.id_token as string).split('.')[1]!, 'base64url').toString()) as {
      sid: string;
    };
    expect(res.json.refresh_token).toEqual(expect.any(String));
    const accessToken = JSON.parse(
      Buffer.from((res.json.access_token as string).split('.')[1]!, 'base64url').toString(),
    ) as { jti: string };
    return { jar, sid: idToken.sid, refreshToken: res.json.refresh_token as string, accessTokenJti: accessToken.jti };
  }

  /** A page of the issuer for this device, and the CSRF token its forms carry. */
  async page(device: Device, path: string): Promise<{ res: Response; html: string; csrfToken: string }> {
    const res = await device.jar.fetch(`${this.idp.url}${path}`);
    const html = await res.text();
    return { res, html, csrfToken: formValue(html, 'csrf_token') ?? '' };
  }

  postForm(
    device: Device,
    path: string,
    form: Record<string, string>,
    headers: Record<string, string> = { origin: this.idp.url },
  ): Promise<Response> {
    return device.jar.fetch(`${this.idp.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
    });
  }

  /** Whether the issuer still has an SSO session for this device: prompt=none gets a code or login_required. */
  async stillSignedIn(device: Device): Promise<boolean> {
    const { callback } = await browserFlow(
      this.idp.url,
      { clientId: this.rp.id, redirectUri: this.fx.redirectUri, extra: { prompt: 'none' } },
      null,
      device.jar,
    );
    if (callback.searchParams.get('code')) return true;
    expect(callback.searchParams.get('error')).toBe('login_required');
    return false;
  }

  /** Refreshes the device's token (rotating it on success); the status and the error code. */
  async refresh(device: Device): Promise<{ status: number; error?: unknown }> {
    const res = await fetch(`${this.idp.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${this.rp.id}:${this.rp.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: device.refreshToken }),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status === 200) device.refreshToken = json.refresh_token as string;
    return { status: res.status, error: json.error };
  }

  /** The verified logout tokens received for `sid`, waiting until `count` have arrived. */
  async logoutTokensFor(sid: string, count = 1): Promise<LogoutTokenClaims[]> {
    const keySet = createRemoteKeySet(`${this.idp.url}/jwks`);
    const verify = (t: string) =>
      verifyLogoutToken(t, { issuer: this.idp.url, audience: this.rp.id, keySet, jtiStore: createMemoryJtiStore() });
    let found: LogoutTokenClaims[] = [];
    await eventually(async () => {
      // Only this session's: other tests' tokens may carry a moved test clock's iat.
      const tokens = this.receiver.tokens.filter((t) => sidOf(t) === sid);
      found = (await Promise.all(tokens.map(verify))).map((v) => v.claims);
      return found.length >= count;
    });
    return found;
  }

  /** Logout tokens received for `sid` so far, unverified (to show none came). */
  logoutTokensSoFar(sid: string): number {
    return this.receiver.tokens.filter(
      (t) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()).sid === sid,
    ).length;
  }
}
