/**
 * The inserts of refresh and access tokens, prepared once per database. Both the code redemption
 * (grants.ts) and the refresh rotation (refresh-tokens.ts) write them inside their own
 * transaction, so each grant costs one commit.
 */
import { sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { accessTokens, refreshTokens } from './schema.js';
import type { StatusListPosition } from './status-lists.js';

export type RefreshToken = typeof refreshTokens.$inferSelect;

/** An issued access token as recorded: its id, expiry and, when it has one, its status-list place. */
export interface IssuedAccessTokenRow {
  jti: string;
  expiresAt: number;
  status?: StatusListPosition;
}

export interface TokenWrites {
  insertRefreshToken(token: RefreshToken): void;
  insertAccessToken(grantId: string, token: IssuedAccessTokenRow): void;
  /** An access token under no grant: the client credentials grant's. */
  insertClientAccessToken(clientId: string, token: IssuedAccessTokenRow): void;
}

export function prepareTokenWrites(db: Db): TokenWrites {
  const p = sql.placeholder;
  const refresh = db
    .insert(refreshTokens)
    .values({
      digest: p('digest'),
      grantId: p('grantId'),
      createdAt: p('createdAt'),
      expiresAt: p('expiresAt'),
      rotatedAt: p('rotatedAt'),
      revokedAt: p('revokedAt'),
    })
    .prepare();
  const access = db
    .insert(accessTokens)
    .values({
      jti: p('jti'),
      grantId: p('grantId'),
      clientId: p('clientId'),
      expiresAt: p('expiresAt'),
      statusList: p('statusList'),
      statusIndex: p('statusIndex'),
    })
    .prepare();
  return {
    insertRefreshToken: (token) => void refresh.run(token),
    insertAccessToken: (grantId, t) => void access.run(accessTokenRow(t, { grantId, clientId: null })),
    insertClientAccessToken: (clientId, t) => void access.run(accessTokenRow(t, { grantId: null, clientId })),
  };
}

/** The row of an issued access token: under a grant, or (client credentials) under its client alone. */
export function accessTokenRow(t: IssuedAccessTokenRow, owner: { grantId: string | null; clientId: string | null }) {
  return {
    jti: t.jti,
    ...owner,
    expiresAt: t.expiresAt,
    statusList: t.status?.list ?? null,
    statusIndex: t.status?.index ?? null,
  };
}
