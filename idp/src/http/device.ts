/** The device a request comes from: its client IP and user agent. */
import type { Context } from 'hono';
import type { Config } from '../config/config.js';
import { clientAddress } from './client-address.js';
import type { Env } from './env.js';

/** The device a request comes from, as recorded with a session. */
export function deviceOf(c: Context<Env>, config: Config): { userAgent: string; ip: string } {
  const ip = clientAddress(c.env?.incoming?.socket?.remoteAddress, c.req.header('x-forwarded-for'), config.trustProxy);
  return { userAgent: c.req.header('user-agent') ?? '', ip };
}
