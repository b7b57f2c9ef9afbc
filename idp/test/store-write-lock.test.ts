/**
 * Another process holding SQLite's write lock on the issuer's file (another issuer worker, the
 * CLI): every write of ours waits for it (busy_timeout) and then succeeds. The other writer runs
 * in a thread with its own connection, so it commits while this thread is blocked inside a
 * statement, as another process would. The transactions under test read before they write: begun
 * deferred, the read pins a snapshot that the other writer's commit makes stale, and SQLite
 * refuses the write at once with SQLITE_BUSY instead of waiting (store/database.ts).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { signInAndRedeem } from './support/browser.js';
import { useIssuer } from './support/fixture.js';

const { idp, fx } = useIssuer();

/** How long the other writer keeps the lock: long enough that our statement meets it taken. */
const HOLD_MS = 300;

/**
 * A connection in another thread takes the write lock (BEGIN IMMEDIATE and a write) and commits
 * HOLD_MS later. Resolves once the lock is held, with a promise of the commit.
 */
function otherWriter(file: string): Promise<{ committed: Promise<void> }> {
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.driver);
    const db = new Database(workerData.file);
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN IMMEDIATE');
    db.prepare("INSERT INTO resources (id, name, created_at) VALUES (?, 'other writer', 0)")
      .run('https://other-writer.example.test/' + Date.now() + Math.random());
    parentPort.postMessage('locked');
    setTimeout(() => { db.exec('COMMIT'); db.close(); parentPort.postMessage('committed'); }, workerData.holdMs);
    `,
    {
      eval: true,
      workerData: { file, driver: createRequire(import.meta.url).resolve('better-sqlite3'), holdMs: HOLD_MS },
    },
  );
  const message = (expected: string) =>
    new Promise<void>((resolve, reject) => {
      worker.on('message', (m) => m === expected && resolve());
      worker.once('error', reject);
    });
  const committed = message('committed').finally(() => worker.terminate());
  return message('locked').then(() => ({ committed }));
}

/** A grant in a session, with an access token that has a status-list entry. */
async function grantInSession(): Promise<{ sid: string; jti: string }> {
  const { tokens } = await signInAndRedeem(idp.url, {
    clientId: fx.confidential.id,
    redirectUri: fx.redirectUri,
    auth: fx.confidential,
    extra: { resource: fx.api.id },
  });
  return {
    sid: decodeJwt(tokens.id_token as string).sid as string,
    jti: decodeJwt(tokens.access_token as string).jti as string,
  };
}

describe('a transaction that reads before it writes, while another connection holds the write lock', () => {
  const now = () => idp.issuer.ctx.clock.now();

  it('remembers a consent once the other writer commits', async () => {
    const { store } = idp.issuer.ctx;
    const { committed } = await otherWriter(idp.database);
    await store.consents.remember(fx.alice.sub, fx.thirdParty.id, ['openid'], now());
    await committed;
    expect(await store.consents.grantedScopes(fx.alice.sub, fx.thirdParty.id)).toEqual(['openid']);
  });

  it("revokes a session's grants once the other writer commits", async () => {
    const { store } = idp.issuer.ctx;
    const { sid, jti } = await grantInSession();
    const { committed } = await otherWriter(idp.database);
    expect(await store.refreshTokens.revokeSessionGrants(sid, now())).toEqual([jti]);
    await committed;
    expect(await store.grants.isAccessTokenActive(jti)).toBe(false);
  });

  it("moves a revoked token's status-list version once the other writer commits", async () => {
    const { store } = idp.issuer.ctx;
    const { jti } = await grantInSession();
    await store.grants.revokeAccessToken(jti, now());
    const { committed } = await otherWriter(idp.database);
    const changes = await store.statusLists.markRevoked([jti], now());
    await committed;
    expect(changes).toHaveLength(1);
    expect(changes[0]!.version).toBeGreaterThan(changes[0]!.previousVersion);
  });
});
