/**
 * TESSERA_WORKERS=2: the issuer as production starts it (src/main.ts, a real child process), a
 * cluster primary with two worker processes on one port and one database. Every request here
 * opens a connection of its own, so the primary hands consecutive requests to different workers.
 * Which worker answered is not in any answer: the tests read it where an operator would, from
 * /proc (Linux) and from the primary's log lines.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '@tessera/shared';
import { createCookieJarClient, type CookieJarClient } from '@tessera/shared/testing';
import { loadConfig } from '../src/config/load-config.js';
import { rotateSigningKey } from '../src/keys/key-rotation.js';
import { browserFlow } from './support/browser.js';
import { dropDatabase, freshDatabase, readDatabase, withStore } from './support/databases.js';
import { freePort, spawnIssuer, type IssuerProcess } from './support/issuer-process.js';
import { LOAD_CLIENT, LOAD_PASSWORD, REDIRECT_URI, seedLoadDatabase } from './support/load-driver.js';

/** Races of two concurrent uses of one code, then of one refresh token. */
const RACES = 50;

let database: string;
let issuer: IssuerProcess;
let email: string;

beforeAll(async () => {
  database = await freshDatabase();
  ({
    emails: [email = ''],
  } = await seedLoadDatabase(database, { users: 1 }));
  issuer = await spawnIssuer({
    database,
    port: await freePort(),
    // Workers re-read the key ring on their own only every 300 s: within a test, only what the
    // request path does can show them a change.
    env: { TESSERA_WORKERS: '2', TESSERA_KEY_CHECK_INTERVAL: '300' },
  });
  await until(() => events('cluster.listening').length === 1);
}, 60_000);

afterAll(async () => {
  await issuer?.kill9();
  for (const pid of workerPids()) if (running(pid)) process.kill(pid, 'SIGKILL');
  await dropDatabase(database);
});

const events = (event: string) => issuer.processEvents.filter((e) => e.event === event);

/** The workers listening now, by the primary's log: started and not died since. */
function workerPids(): number[] {
  const died = new Set(events('cluster.worker_died').map((e) => e.pid));
  return events('cluster.worker_listening')
    .map((e) => e.pid as number)
    .filter((pid) => !died.has(pid));
}

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`not reached in time:\n${issuer.output.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The parent of a process, from /proc/<pid>/stat (field 4). */
const parentOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
};
/** Bytes a process has written so far, sockets included (/proc/<pid>/io, wchar). */
const written = (pid: number) => Number(/^wchar:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);

interface Answer {
  status: number;
  etag: string | undefined;
  body: string;
}

/** One request on a connection of its own (no keep-alive). */
function send(path: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Answer> {
  const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, issuer.url), {
      agent: false,
      method: init.method ?? 'GET',
      headers: body ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          etag: res.headers.etag,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.end(body);
  });
}

const token = (form: Record<string, string>) =>
  send('/token', { method: 'POST', form: { client_id: LOAD_CLIENT, ...form } });

describe('an issuer with TESSERA_WORKERS=2', () => {
  it('serves its port from two worker processes, children of the primary, each answering requests', async () => {
    const pids = workerPids();
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(parentOf(pid)).toBe(issuer.child.pid);
    const before = pids.map(written);
    const answers = [];
    for (let i = 0; i < 40; i++) answers.push(await send('/jwks'));
    for (const a of answers) expect(a.status).toBe(200);
    // Each worker wrote at least a quarter of the answers to its sockets.
    const size = answers[0]!.body.length;
    for (const [i, pid] of pids.entries()) expect(written(pid) - before[i]!).toBeGreaterThanOrEqual(10 * size);
  });

  describe('with each race sent to both workers at once', () => {
    let jar: CookieJarClient;
    beforeAll(async () => {
      jar = createCookieJarClient();
      await browserFlow(
        issuer.url,
        { clientId: LOAD_CLIENT, redirectUri: REDIRECT_URI },
        { email, password: LOAD_PASSWORD },
        jar,
      );
    });

    /** A code for the jar's session (single sign-on: no sign-in page), with its PKCE verifier. */
    const code = async () => {
      const { callback, verifier } = await browserFlow(
        issuer.url,
        { clientId: LOAD_CLIENT, redirectUri: REDIRECT_URI },
        null,
        jar,
      );
      return {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code')!,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
      };
    };
    const lostWithInvalidGrant = (answers: Answer[], race: number) => {
      expect(
        answers.filter((a) => a.status === 200),
        `race ${race}: ${JSON.stringify(answers)}`,
      ).toHaveLength(1);
      const lost = answers.find((a) => a.status !== 200)!;
      expect(lost.status).toBe(400);
      expect(JSON.parse(lost.body)).toMatchObject({ error: 'invalid_grant' });
    };

    it(`redeems a code exactly once over ${RACES} races`, async () => {
      for (let i = 0; i < RACES; i++) {
        const form = await code();
        lostWithInvalidGrant(await Promise.all([token(form), token(form)]), i);
      }
    }, 120_000);

    it(`rotates a refresh token exactly once over ${RACES} races`, async () => {
      // Families of their own: a code redeemed twice above revoked what its first redemption issued.
      const refreshTokens: string[] = [];
      for (let i = 0; i < RACES; i++) {
        const redeemed = await token(await code());
        expect(redeemed.status).toBe(200);
        refreshTokens.push((JSON.parse(redeemed.body) as { refresh_token: string }).refresh_token);
      }
      for (const [i, refreshToken] of refreshTokens.entries()) {
        const form = { grant_type: 'refresh_token', refresh_token: refreshToken };
        lostWithInvalidGrant(await Promise.all([token(form), token(form)]), i);
      }
    }, 120_000);

    it('gave every access token a status-list index of its own, from blocks both workers reserved', async () => {
      await readDatabase(database, async (db) => {
        const [shared] = await db.query(
          'select count(*) as n from (select 1 from access_tokens where status_list is not null ' +
            'group by status_list, status_index having count(*) > 1) as shared',
        );
        expect(Number(shared?.n)).toBe(0);
        // Each process reserves its own block of 256 indices: two blocks in use, two processes issued tokens.
        const [blocks] = await db.query(
          "select count(distinct status_list || '/' || (status_index / 256)) as n from access_tokens",
        );
        expect(Number(blocks?.n)).toBeGreaterThanOrEqual(2);
      });
    });

    it('answered no request with a 500 (no SQLITE_BUSY reached a client)', () => {
      expect(issuer.unhandled).toEqual([]);
    });
  });

  it('publishes the same JWKS from both workers, from the first request after another process rotated', async () => {
    const before = await Promise.all(Array.from({ length: 10 }, () => send('/jwks')));
    for (const a of before) expect(a).toEqual(before[0]);
    // The CLI's rotation, from this process: another connection to the database file.
    const { next } = await withStore(database, (store) => {
      const config = loadConfig({ TESSERA_ISSUER: issuer.url, TESSERA_DATABASE: database });
      return rotateSigningKey({ store, config, clock: systemClock }, { trigger: 'command', force: true });
    });
    const after = await Promise.all(Array.from({ length: 10 }, () => send('/jwks')));
    for (const a of after) expect(a).toEqual(after[0]);
    expect(after[0]!.etag).not.toBe(before[0]!.etag);
    expect(after[0]!.body).toContain(next);
  });

  it('replaces a worker that dies, and answers meanwhile from the other', async () => {
    const [victim, survivor] = workerPids();
    process.kill(victim!, 'SIGKILL');
    await until(() => events('cluster.worker_died').some((e) => e.pid === victim));
    expect(events('cluster.worker_died').find((e) => e.pid === victim)).toMatchObject({ signal: 'SIGKILL' });
    for (let i = 0; i < 10; i++) expect((await send('/.well-known/openid-configuration')).status).toBe(200);
    await until(() => workerPids().length === 2);
    const replacement = workerPids().find((pid) => pid !== survivor)!;
    expect(replacement).not.toBe(victim);
    expect(parentOf(replacement)).toBe(issuer.child.pid);
    const before = written(replacement);
    for (let i = 0; i < 20; i++) expect((await send('/jwks')).status).toBe(200);
    expect(written(replacement)).toBeGreaterThan(before);
  });

  it('waits before replacing a worker that died young, so a crash loop does not spin', async () => {
    // The replacement just started: killed now, it dies young, as one failing at each start would.
    const victim = workerPids().at(-1)!;
    process.kill(victim, 'SIGKILL');
    await until(() => events('cluster.worker_died').some((e) => e.pid === victim));
    const died = events('cluster.worker_died').find((e) => e.pid === victim)!;
    expect(died.age_ms).toBeLessThan(30_000);
    expect(died.restart_in_ms).toBeGreaterThanOrEqual(1000);
    await until(() => workerPids().length === 2);
    const replaced = events('cluster.worker_listening').at(-1)!;
    expect(Date.parse(replaced.time as string) - Date.parse(died.time as string)).toBeGreaterThanOrEqual(1000);
  });

  it('stops every worker on SIGTERM, then exits', async () => {
    const pids = workerPids();
    await issuer.stop();
    expect(issuer.child.exitCode).toBe(0);
    expect(events('cluster.stopped')).toHaveLength(1);
    for (const pid of pids) expect(running(pid)).toBe(false);
  });
});

describe('TESSERA_WORKERS', () => {
  it('refuses to start with a value that is not a number of processes', async () => {
    await expect(spawnIssuer({ database, port: await freePort(), env: { TESSERA_WORKERS: 'many' } })).rejects.toThrow(
      /exited with code 2[\s\S]*TESSERA_WORKERS: must be a number from 1 to 64, or auto/,
    );
  });
});
