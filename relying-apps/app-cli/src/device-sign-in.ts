/**
 * Signing in on a device without a browser (RFC 8628), with openid-client as any third-party
 * command-line tool would: ask for a user code, show it with the URL (and a QR code of the complete
 * URL, for a phone's camera), then poll until the person has approved or denied on another device.
 */
import * as client from 'openid-client';
import QRCode from 'qrcode';
import type { FetchLike } from '@tessera/shared';
import type { AppCliConfig } from './config.js';

/** Where the app writes what the person must read. */
export type Print = (text: string) => void;

export interface SignedIn {
  accessToken: string;
  /** The person, from the verified ID token. */
  name: string;
  sub: string;
}

export async function signInOnDevice(
  config: AppCliConfig,
  fetch: FetchLike,
  print: Print,
  signal?: AbortSignal,
): Promise<SignedIn> {
  const issuer = await client.discovery(new URL(config.issuer), config.clientId, undefined, client.None(), {
    [client.customFetch]: (url, options) => fetch(url, options as RequestInit),
    // The demo issuer is plain http on loopback; anything else must be https.
    ...(new URL(config.issuer).protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {}),
  });
  const started = await client.initiateDeviceAuthorization(issuer, {
    scope: config.scope,
    resource: config.appBUrl,
  });
  const complete = started.verification_uri_complete ?? started.verification_uri;
  print(
    [
      '',
      `To sign in, open ${started.verification_uri}`,
      `and enter the code  ${started.user_code}`,
      '',
      `or scan this code to open ${complete}:`,
      await QRCode.toString(complete, { type: 'terminal', small: true }),
      `Waiting for you to approve (the code expires in ${Math.round(started.expires_in / 60)} minutes)…`,
    ].join('\n'),
  );
  const tokens = await client.pollDeviceAuthorizationGrant(issuer, started, undefined, signal ? { signal } : {});
  const claims = tokens.claims();
  if (!claims) throw new Error('the issuer sent no ID token');
  // The ID token says who; UserInfo (OIDC Core §5.3) gives the name, checked to be the same person.
  const info = await client.fetchUserInfo(issuer, tokens.access_token, claims.sub);
  return {
    accessToken: tokens.access_token,
    sub: claims.sub,
    name: typeof info.name === 'string' ? info.name : claims.sub,
  };
}
