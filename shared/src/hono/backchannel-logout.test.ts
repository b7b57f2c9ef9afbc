import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { MalformedRequestError } from '../http/malformed-request-error.js';
import {
  CLIENT_ID,
  ISSUER,
  createLocalIssuer,
  idTokenClaims,
  logoutTokenClaims,
  sign,
} from '../../test/support/issuer.js';
import type { KeySet } from '../jwks/key-set.js';
import { TokenVerificationError } from '../verify/errors.js';
import { createMemoryJtiStore } from '../verify/jti-store.js';
import type { LogoutTokenClaims } from '../verify/verify-logout-token.js';
import { backchannelLogout, type BackchannelLogoutOptions } from './backchannel-logout.js';

const { issuer, keySet } = await createLocalIssuer();

function endpointWith(extra: Partial<BackchannelLogoutOptions> = {}) {
  const loggedOut: LogoutTokenClaims[] = [];
  const refused: string[] = [];
  const app = new Hono();
  app.post(
    '/backchannel-logout',
    backchannelLogout({
      issuer: ISSUER,
      audience: CLIENT_ID,
      keySet,
      jtiStore: createMemoryJtiStore(),
      onLogout: (claims) => void loggedOut.push(claims),
      onError: (error) => void refused.push(error.code),
      ...extra,
    }),
  );
  app.onError((error, c) =>
    error instanceof MalformedRequestError
      ? c.json({ error: error.error, error_description: error.description }, error.status)
      : c.json({ error: 'server_error' }, 500),
  );
  const post = (body: string, contentType = 'application/x-www-form-urlencoded') =>
    app.request('/backchannel-logout', { method: 'POST', headers: { 'content-type': contentType }, body });
  return { post, loggedOut, refused };
}

const logoutToken = (overrides = {}) => sign(issuer.es256, logoutTokenClaims(overrides), { typ: 'logout+jwt' });
const form = (token: string) => new URLSearchParams({ logout_token: token }).toString();

async function expectRefused(response: Response): Promise<void> {
  expect(response.status).toBe(400);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(await response.json()).toEqual({ error: 'invalid_request' });
}

describe('backchannelLogout', () => {
  it('answers 200, no body, Cache-Control: no-store, after handing onLogout the verified claims (§2.8)', async () => {
    const { post, loggedOut } = endpointWith();
    const response = await post(form(await logoutToken({ sid: 'sid-7' })));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toBe('');
    expect(loggedOut.map((claims) => [claims.sid, claims.sub])).toEqual([['sid-7', 'user-1']]);
  });

  it('refuses a request without logout_token, with two, or not as a form, without calling onLogout', async () => {
    const { post, loggedOut } = endpointWith();
    const token = await logoutToken();
    await expectRefused(await post(''));
    await expectRefused(await post(`logout_token=${token}&logout_token=${token}`));
    await expectRefused(await post(JSON.stringify({ logout_token: token }), 'application/json'));
    expect(loggedOut).toEqual([]);
  });

  it('refuses an ID token presented as a logout token, and reports why to onError', async () => {
    const { post, loggedOut, refused } = endpointWith();
    await expectRefused(await post(form(await sign(issuer.es256, idTokenClaims()))));
    expect([loggedOut, refused]).toEqual([[], ['ERR_TOKEN_TYPE']]);
  });

  it('refuses a replayed logout token (same jti, §2.6)', async () => {
    const { post, loggedOut, refused } = endpointWith();
    const token = await logoutToken();
    expect((await post(form(token))).status).toBe(200);
    await expectRefused(await post(form(token)));
    expect([loggedOut.length, refused]).toEqual([1, ['ERR_TOKEN_REPLAYED']]);
  });

  it('answers 503 temporarily_unavailable when the issuer keys are unavailable, so the issuer retries', async () => {
    const unavailable: KeySet = {
      getKey: async () => {
        throw new TokenVerificationError('ERR_JWKS_UNAVAILABLE', 'down');
      },
    };
    const response = await endpointWith({ keySet: unavailable }).post(form(await logoutToken()));
    expect(response.status).toBe(503);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ error: 'temporarily_unavailable' });
  });

  it('leaves a malformed form body to the root error handler by default', async () => {
    const response = await endpointWith().post('logout_token=%zz');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
  });

  it('reads the form with readForm when given one', async () => {
    const { post, loggedOut } = endpointWith({ readForm: async () => undefined });
    await expectRefused(await post(form(await logoutToken())));
    expect(loggedOut).toEqual([]);
  });

  it('lets an error of onLogout reach the root error handler', async () => {
    const failing = endpointWith({
      onLogout: () => {
        throw new Error('session store down');
      },
    });
    expect((await failing.post(form(await logoutToken()))).status).toBe(500);
  });

  it('takes the same logout token again after onLogout failed: the issuer retries with it', async () => {
    let failures = 1;
    const ended: string[] = [];
    const { post } = endpointWith({
      onLogout: (claims) => {
        if (failures-- > 0) throw new Error('session store down');
        ended.push(claims.sid!);
      },
    });
    const token = form(await logoutToken({ sid: 'sid-retried' }));
    expect((await post(token)).status).toBe(500);
    expect((await post(token)).status).toBe(200);
    expect(ended).toEqual(['sid-retried']);
    await expectRefused(await post(token)); // once acted on, its jti is used (§2.6)
  });

  it('refuses to be built without onLogout (a TypeError at start-up)', () => {
    expect(() =>
      backchannelLogout({
        issuer: ISSUER,
        audience: CLIENT_ID,
        keySet,
        jtiStore: createMemoryJtiStore(),
      } as BackchannelLogoutOptions),
    ).toThrow(TypeError);
  });
});
