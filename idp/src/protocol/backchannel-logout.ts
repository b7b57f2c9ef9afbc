/**
 * Back-channel logout (OIDC Back-Channel Logout 1.0), the protocol side: when an SSO session
 * ends, which clients are told (§2.1: those that received tokens in it and registered a
 * back-channel logout URI) and the logout token each is sent (§2.4). Delivering them is the
 * background worker's (workers/backchannel-delivery.ts).
 */
import { BACKCHANNEL_LOGOUT_EVENT, TOKEN_TYPES } from '@tessera/shared';
import type { Clock } from '@tessera/shared';
import { epochSeconds } from '@tessera/shared';
import type { Config } from '../config/config.js';
import { randomId } from '../crypto/random.js';
import type { KeyRing } from '../keys/key-ring.js';
import { LOGOUT_TOKEN_TTL_SEC } from '../keys/key-timeline.js';
import type { SsoSession, Store } from '../store/index.js';

/** §2.4: the logout token: iss, aud, iat, exp, jti, events, sid and sub; never a nonce. */
async function mintLogoutToken(
  keys: KeyRing,
  config: Config,
  clock: Clock,
  clientId: string,
  session: SsoSession,
): Promise<string> {
  const iat = epochSeconds(clock);
  return keys.sign(
    {
      iss: config.issuer,
      aud: clientId,
      iat,
      exp: iat + LOGOUT_TOKEN_TTL_SEC,
      jti: randomId(),
      sub: session.userId,
      sid: session.id,
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    },
    TOKEN_TYPES.logoutToken,
  );
}

/** A logout token to POST to one client's back-channel logout URI. */
export interface LogoutNotice {
  clientId: string;
  uri: string;
  logoutToken: string;
}

/** The logout token for every client of the ended session that registered a back-channel logout URI. */
export async function logoutNotices(
  deps: { store: Store; keys: KeyRing; config: Config; clock: Clock },
  session: SsoSession,
): Promise<LogoutNotice[]> {
  const { store, keys, config, clock } = deps;
  const notices: LogoutNotice[] = [];
  for (const clientId of await store.grants.clientIdsForSession(session.id)) {
    const client = await store.clients.findById(clientId);
    if (!client?.backchannelLogoutUri) continue;
    notices.push({
      clientId,
      uri: client.backchannelLogoutUri,
      logoutToken: await mintLogoutToken(keys, config, clock, clientId, session),
    });
  }
  return notices;
}
