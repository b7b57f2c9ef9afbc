/** Cache policy of the responses routes answer themselves. */
import type { Context } from 'hono';
import type { Env } from './env.js';

/** RFC 6749 §5.1, RFC 6750 §5.3: responses carrying tokens, codes or sessions are never cached. */
export function noStore(c: Context<Env>): void {
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
}
