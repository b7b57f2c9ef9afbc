import { describe, expect, it } from 'vitest';
import { buildEndSessionUrl } from './logout-url.js';

const endSessionEndpoint = 'http://idp.localhost:4000/logout';

describe('buildEndSessionUrl', () => {
  it('builds an RP-initiated logout URL with hint, redirect and state', () => {
    const url = buildEndSessionUrl({
      endSessionEndpoint,
      idTokenHint: 'eyJ.x.y',
      postLogoutRedirectUri: 'http://app-a.localhost:4001/',
      state: 's',
    });
    expect(url.href).toBe(
      'http://idp.localhost:4000/logout?id_token_hint=eyJ.x.y' +
        '&post_logout_redirect_uri=http%3A%2F%2Fapp-a.localhost%3A4001%2F&state=s',
    );
  });

  it('accepts client_id instead of id_token_hint with a post-logout redirect', () => {
    const url = buildEndSessionUrl({
      endSessionEndpoint,
      clientId: 'app-a',
      postLogoutRedirectUri: 'http://app-a.localhost:4001/',
    });
    expect(url.searchParams.get('client_id')).toBe('app-a');
  });

  it('refuses a post-logout redirect the issuer could not attribute to a client', () => {
    expect(() =>
      buildEndSessionUrl({ endSessionEndpoint, postLogoutRedirectUri: 'http://app-a.localhost:4001/' }),
    ).toThrow(TypeError);
  });

  it('refuses a state that would never come back', () => {
    expect(() => buildEndSessionUrl({ endSessionEndpoint, idTokenHint: 'eyJ.x.y', state: 's' })).toThrow(TypeError);
  });
});
