/**
 * Operations that are about processes, tested on real ones: production mode's refusals, a
 * graceful stop that lets an in-flight request finish, and a backup taken while the issuer serves,
 * restored into a fresh file that another issuer process then serves.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_KEY_ENCRYPTION_KEY } from '../src/config/config.js';
import { browserFlow, postToken, redeem } from './support/browser.js';
import { dropDatabase, freshDatabase, TEST_ENGINE } from './support/databases.js';
import { freePort, runCli, spawnIssuer, type IssuerProcess } from './support/issuer-process.js';
import { LOAD_API, LOAD_CLIENT, LOAD_PASSWORD, REDIRECT_URI, seedLoadDatabase } from './support/load-driver.js';

const exitOf = (issuer: IssuerProcess) =>
  new Promise<number | null>((resolve) => {
    if (issuer.child.exitCode !== null) resolve(issuer.child.exitCode);
    else issuer.child.once('exit', (code) => resolve(code));
  });

/** Whether a new TCP connection to `port` is accepted now. */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Everything `socket` sends until it ends. */
const readAll = (socket: Socket) =>
  new Promise<string>((resolve, reject) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.once('end', () => resolve(text));
    socket.once('close', () => resolve(text));
    socket.once('error', reject);
  });

describe('NODE_ENV=production', () => {
  let database: string;
  beforeAll(async () => {
    database = await freshDatabase();
  });
  afterAll(() => dropDatabase(database));

  it('refuses to start with unsafe settings, naming each on one line, exit code 2', async () => {
    const start = spawnIssuer({
      database,
      port: await freePort(),
      env: {
        NODE_ENV: 'production',
        TESSERA_KEY_ENCRYPTION_KEY: DEMO_KEY_ENCRYPTION_KEY,
        TESSERA_METRICS_PORT: String(await freePort()),
        TESSERA_METRICS_HOST: '0.0.0.0',
      },
    });
    const refusal = await start.then(
      () => 'started',
      (e: Error) => e.message,
    );
    expect(refusal).toMatch(/exited with code 2:\ntessera: configuration error: /);
    const line = refusal.split('\n').find((l) => l.startsWith('tessera: configuration error'))!;
    expect(line).toContain(
      'TESSERA_KEY_ENCRYPTION_KEY, TESSERA_METRICS_HOST, TESSERA_SMTP_URL: refused when NODE_ENV=production: ',
    );
    expect(line).toContain('TESSERA_KEY_ENCRYPTION_KEY: the demo key is refused');
    expect(line).toContain('TESSERA_METRICS_HOST: 0.0.0.0 is not loopback');
    expect(line).toContain('TESSERA_SMTP_URL is required when NODE_ENV=production');
  });

  it('starts with a key-encryption key of its own, and is ready', async () => {
    const issuer = await spawnIssuer({
      database,
      port: await freePort(),
      env: {
        NODE_ENV: 'production',
        TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
        // Not reached: no mail is sent while the test runs.
        TESSERA_SMTP_URL: 'smtp://127.0.0.1:25',
      },
    });
    try {
      expect((await fetch(`${issuer.url}/readyz`)).status).toBe(200);
      // No warning about the demo key: it is not in use.
      expect(issuer.output.some((line) => line.includes('config.demo_key_encryption_key'))).toBe(false);
    } finally {
      await issuer.stop();
    }
  });
});

describe('a graceful stop (SIGTERM)', () => {
  let database: string;
  beforeAll(async () => {
    database = await freshDatabase();
    await seedLoadDatabase(database, { users: 1 });
  });
  afterAll(() => dropDatabase(database));

  it('stops accepting connections, finishes the request in flight, and exits 0', async () => {
    const port = await freePort();
    const issuer = await spawnIssuer({ database, port });
    try {
      // A request whose body is still coming when the signal arrives: in flight at the issuer.
      const body = new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: LOAD_CLIENT,
        refresh_token: 'no-such-token',
      }).toString();
      const socket = connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const answer = readAll(socket);
      socket.write(
        'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n' +
          `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n` +
          body.slice(0, 10),
      );
      await new Promise((r) => setTimeout(r, 200));
      const exited = exitOf(issuer);
      issuer.child.kill('SIGTERM');
      // The listening socket closes: a new connection is refused while the old one is served.
      const deadline = Date.now() + 5000;
      while ((await accepts(port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await accepts(port)).toBe(false);
      expect(issuer.child.exitCode).toBeNull();
      // Written, not ended: a client that half-closes its side has the request aborted (Node's
      // HTTP server does not allow half-open connections); `Connection: close` ends it after the answer.
      socket.write(body.slice(10));
      const response = await answer;
      expect(response).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: 'invalid_grant' });
      expect(await exited).toBe(0);
    } finally {
      await issuer.kill9();
    }
  });
});

describe.skipIf(TEST_ENGINE !== 'sqlite')('a backup while the issuer serves, restored into a fresh file', () => {
  let database: string;
  let dir: string;
  let email: string;
  beforeAll(async () => {
    database = await freshDatabase();
    ({
      emails: [email = ''],
    } = await seedLoadDatabase(database, { users: 1 }));
    dir = mkdtempSync(join(tmpdir(), 'tessera-backup-'));
  });
  afterAll(async () => {
    await dropDatabase(database);
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the tokens issued before it: the access token verifies, the client's refresh token works", async () => {
    const port = await freePort();
    const first = await spawnIssuer({ database, port });
    const backup = join(dir, 'tessera-backup.db');
    let tokens: Record<string, unknown>;
    try {
      const flow = await browserFlow(
        first.url,
        { clientId: LOAD_CLIENT, redirectUri: REDIRECT_URI },
        { email, password: LOAD_PASSWORD },
      );
      const redeemed = await redeem(first.url, {
        code: flow.callback.searchParams.get('code')!,
        code_verifier: flow.verifier,
        redirect_uri: REDIRECT_URI,
        client_id: LOAD_CLIENT,
      });
      expect(redeemed.status).toBe(200);
      tokens = redeemed.json;
      // The issuer keeps serving (and writing: sign-ins, codes) while the backup is taken.
      let serving = true;
      const traffic = (async () => {
        let answered = 0;
        while (serving) {
          const again = await browserFlow(
            first.url,
            { clientId: LOAD_CLIENT, redirectUri: REDIRECT_URI },
            { email, password: LOAD_PASSWORD },
          );
          expect(again.callback.searchParams.get('code')).toBeTruthy();
          answered++;
        }
        return answered;
      })();
      const run = await runCli(database, ['backup', backup, '--json']);
      serving = false;
      expect(await traffic).toBeGreaterThan(0);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(run.stdout)).toMatchObject({ file: backup });
      // A second backup to the same file is refused rather than overwriting the first.
      expect(await runCli(database, ['backup', backup])).toMatchObject({ code: 1 });
    } finally {
      await first.stop();
    }

    // Restore: the backup copied into a fresh file, and an issuer started on it at the same address.
    const restored = join(dir, 'restored', 'tessera.db');
    mkdirSync(join(dir, 'restored'));
    copyFileSync(backup, restored);
    expect(existsSync(`${restored}-wal`)).toBe(false);
    const second = await spawnIssuer({ database: restored, port });
    try {
      expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
      const jwks = createRemoteJWKSet(new URL(`${second.url}/jwks`));
      const { payload } = await jwtVerify(tokens.access_token as string, jwks, {
        issuer: second.url,
        audience: LOAD_API,
      });
      expect(payload.client_id).toBe(LOAD_CLIENT);
      const refreshed = await postToken(second.url, {
        grant_type: 'refresh_token',
        client_id: LOAD_CLIENT,
        refresh_token: tokens.refresh_token as string,
      });
      expect(refreshed.status).toBe(200);
      expect(refreshed.json.access_token).toBeTypeOf('string');
    } finally {
      await second.stop();
    }
  }, 120_000);
});

describe.skipIf(TEST_ENGINE !== 'postgres')('backup on PostgreSQL', () => {
  let database: string;
  beforeAll(async () => {
    database = await freshDatabase();
  });
  afterAll(() => dropDatabase(database));

  it("is pg_dump's: the command says so and writes nothing", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tessera-backup-')), 'backup.db');
    const run = await runCli(database, ['backup', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/PostgreSQL: back it up with pg_dump/);
    expect(existsSync(file)).toBe(false);
  });
});
