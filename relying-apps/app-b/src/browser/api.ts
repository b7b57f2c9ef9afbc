/**
 * Calls to app B's own API with the DPoP-bound access token (RFC 9449 §7.1): `Authorization: DPoP`
 * and a proof for each request, signed by the key the token is bound to.
 */
import { withDPoP, type DPoPProver } from '@tessera/shared';

export interface Me {
  sub: string;
  email: string | null;
  name: string | null;
  client_id: string;
}

export type MeResult = { kind: 'ok'; me: Me } | { kind: 'unauthorized' } | { kind: 'unavailable' };

export async function fetchMe(accessToken: string, prover: DPoPProver): Promise<MeResult> {
  let response: Response;
  try {
    response = await withDPoP(prover, (input, init) => fetch(input, init))(new URL('/api/me', location.href), {
      headers: { authorization: `DPoP ${accessToken}`, accept: 'application/json' },
      cache: 'no-store',
    });
  } catch {
    return { kind: 'unavailable' };
  }
  if (response.status === 401) return { kind: 'unauthorized' };
  if (!response.ok) return { kind: 'unavailable' };
  return { kind: 'ok', me: (await response.json()) as Me };
}
