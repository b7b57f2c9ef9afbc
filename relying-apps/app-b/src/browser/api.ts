/** Calls to app B's own API, with the access token as a bearer token (RFC 6750 §2.1). */

export interface Me {
  sub: string;
  email: string | null;
  name: string | null;
  client_id: string;
}

export type MeResult = { kind: 'ok'; me: Me } | { kind: 'unauthorized' } | { kind: 'unavailable' };

export async function fetchMe(accessToken: string): Promise<MeResult> {
  let response: Response;
  try {
    response = await fetch('/api/me', {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      cache: 'no-store',
    });
  } catch {
    return { kind: 'unavailable' };
  }
  if (response.status === 401) return { kind: 'unauthorized' };
  if (!response.ok) return { kind: 'unavailable' };
  return { kind: 'ok', me: (await response.json()) as Me };
}
