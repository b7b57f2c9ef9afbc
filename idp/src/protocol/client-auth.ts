/**
 * Client authentication at the token endpoint (RFC 6749 §2.3, OIDC Core §9):
 * client_secret_basic, client_secret_post, or `none` for public clients.
 */
import { OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { digest, safeEqual } from '../crypto/digest.js';
import type { Params } from './params.js';
import type { Client } from '../store/index.js';

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding. */
function parseBasic(header: string): { id: string; secret: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return undefined;
  }
}

export class InvalidClientError extends OAuthError {
  constructor(
    description: string,
    /** True when the client tried HTTP Basic: the 401 then names that scheme (RFC 6749 §5.2). */
    readonly usedBasic: boolean,
  ) {
    super('invalid_client', description, { status: 401 });
  }
}

/** Authenticates the client of a token request; throws invalid_client (401) on any failure. */
export async function authenticateClient(
  ctx: IssuerContext,
  authorization: string | undefined,
  params: Params,
): Promise<Client> {
  const basic = authorization ? parseBasic(authorization) : undefined;
  if (authorization && !basic) throw new InvalidClientError('malformed Authorization header', true);
  const postId = params.get('client_id');
  const postSecret = params.get('client_secret');
  // RFC 6749 §2.3: a client MUST NOT use more than one authentication method in a request.
  if (basic && postSecret !== undefined)
    throw new OAuthError('invalid_request', 'use one client authentication method, not two');
  if (basic && postId !== undefined && postId !== basic.id)
    throw new OAuthError('invalid_request', 'client_id does not match the authenticated client');

  const id = basic?.id ?? postId;
  if (!id) throw new InvalidClientError('client authentication is required', false);
  const secret = basic?.secret ?? postSecret;
  const client = await ctx.store.clients.findById(id);
  if (!client) throw new InvalidClientError('client authentication failed', !!basic);

  if (client.type === 'public') {
    // Public clients authenticate with `none`: sending a secret is a misconfiguration.
    if (secret !== undefined) throw new InvalidClientError('client authentication failed', !!basic);
    return client;
  }
  if (secret === undefined || client.secretDigest === null || !safeEqual(digest(secret), client.secretDigest)) {
    throw new InvalidClientError('client authentication failed', !!basic);
  }
  return client;
}
