/**
 * The device authorization request (RFC 8628 §3.1–3.2): a device without a browser (a TV, a
 * console, a command-line tool) asks for a device code to poll with and a user code for a person
 * to enter at the device page, on any other device.
 */
import { DEVICE_CODE_GRANT_TYPE, ISSUER_PATHS, OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { digest } from '../crypto/digest.js';
import { randomSecret } from '../crypto/random.js';
import type { Client } from '../store/index.js';
import { requestedScope } from './authorization-request.js';
import { describeDevice } from './device-description.js';
import type { Params } from './params.js';
import { resolveResource, userinfoEndpointOf } from './resource.js';
import { displayUserCode, newUserCode } from './user-code.js';

/** How long a device code and its user code live: long enough to find another device and sign in. */
export const DEVICE_CODE_LIFETIME_SEC = 600;
/** The least time between polls (RFC 8628 §3.2 `interval`, 5 s by default). */
export const POLL_INTERVAL_SEC = 5;

export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

export async function startDeviceAuthorization(
  ctx: IssuerContext,
  client: Client,
  params: Params,
  device: { userAgent: string; ip: string },
): Promise<DeviceAuthorizationResponse> {
  // RFC 8628 §3.2 refers to RFC 6749 §5.2's errors: a client not registered for the grant.
  if (!client.grantTypes.includes(DEVICE_CODE_GRANT_TYPE))
    throw new OAuthError('unauthorized_client', 'this client may not use the device authorization grant');
  const scope = requestedScope(client, params.get('scope'));
  const resource = resolveResource(client, params.get('resource'), userinfoEndpointOf(ctx.config.issuer));

  const now = ctx.clock.now();
  const deviceCode = randomSecret(32);
  const verificationUri = ctx.config.issuer + ISSUER_PATHS.device;
  // A user code is unique among live ones: on the rare collision, draw another.
  for (let attempt = 0; attempt < 5; attempt++) {
    const userCode = newUserCode();
    const stored = await ctx.store.deviceAuthorizations.create({
      digest: digest(deviceCode),
      userCode,
      clientId: client.id,
      scope: scope.join(' '),
      resource,
      deviceDescription: describeDevice(device.userAgent).slice(0, 200),
      deviceIp: device.ip.slice(0, 64),
      status: 'pending',
      userId: null,
      sessionId: null,
      authTime: null,
      amr: null,
      interval: POLL_INTERVAL_SEC,
      lastPolledAt: null,
      createdAt: now,
      expiresAt: now + DEVICE_CODE_LIFETIME_SEC * 1000,
    });
    if (stored)
      return {
        device_code: deviceCode,
        user_code: displayUserCode(userCode),
        verification_uri: verificationUri,
        verification_uri_complete: `${verificationUri}?user_code=${displayUserCode(userCode)}`,
        expires_in: DEVICE_CODE_LIFETIME_SEC,
        interval: POLL_INTERVAL_SEC,
      };
  }
  throw new OAuthError('temporarily_unavailable', 'no free user code was found; try again', { status: 503 });
}
