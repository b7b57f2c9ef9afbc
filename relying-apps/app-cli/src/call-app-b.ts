/** Calling app B's API as the signed-in person: one bearer request, its answer or why it failed. */
import type { FetchLike } from '@tessera/shared';

export interface AppBAnswer {
  sub: string;
  email: string | null;
  name: string | null;
  client_id: string;
}

export async function callAppB(appBUrl: string, accessToken: string, fetch: FetchLike): Promise<AppBAnswer> {
  const res = await fetch(new URL('/api/me', appBUrl), {
    headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(`app B's API answered ${res.status}${body.error ? ` (${String(body.error)})` : ''}`);
  return body as unknown as AppBAnswer;
}
