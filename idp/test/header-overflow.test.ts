/**
 * A request whose header block is over Node's 16 KiB limit, over a real socket to each of the
 * three servers as they run in production (their `src/main.ts`): 431 Request Header Fields Too
 * Large (RFC 6585 §5) with a small JSON body and `Connection: close`, not Node's bare status line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabase, freshDatabase } from './support/databases.js';
import { freePort } from './support/issuer-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Sends raw bytes and reads until the server closes (bounded by a timeout). */
function send(port: number, bytes: string): Promise<string> {
  return new Promise((done) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1');
    const finish = () => done(Buffer.concat(chunks).toString('latin1'));
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', finish);
    socket.on('error', () => undefined);
    socket.write(bytes);
  });
}

/** Starts a workspace's `src/main.ts` as the demo launcher does, and waits until it answers HTTP. */
async function start(workspace: string, env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=@tessera/source', '--import', 'tsx', 'src/main.ts'], {
    cwd: join(ROOT, workspace),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const deadline = Date.now() + 40_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${workspace} exited with ${child.exitCode}: ${stderr}`);
    if (/^HTTP\/1\.1 \d{3}/.test(await send(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')))
      return child;
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`${workspace} did not answer in time: ${stderr}`);
}

const children: ChildProcess[] = [];
const ports: Record<string, number> = {};
let database: string;

beforeAll(async () => {
  database = await freshDatabase();
  for (const name of ['idp', 'app-a', 'app-b']) ports[name] = await freePort();
  const issuer = `http://127.0.0.1:${ports.idp}`;
  children.push(
    ...(await Promise.all([
      start(
        'idp',
        {
          TESSERA_ISSUER: issuer,
          TESSERA_PORT: String(ports.idp),
          TESSERA_DATABASE: database,
        },
        ports.idp!,
      ),
      start(
        'relying-apps/app-a',
        { APP_A_URL: `http://127.0.0.1:${ports['app-a']}`, APP_A_CLIENT_SECRET: 'unused', TESSERA_ISSUER: issuer },
        ports['app-a']!,
      ),
      start(
        'relying-apps/app-b',
        { APP_B_URL: `http://127.0.0.1:${ports['app-b']}`, TESSERA_ISSUER: issuer },
        ports['app-b']!,
      ),
    ])),
  );
}, 90_000);

afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((r) => {
          if (child.exitCode !== null || child.signalCode !== null) return r();
          child.once('exit', () => r());
          child.kill('SIGKILL');
        }),
    ),
  );
  if (database) await dropDatabase(database);
});

describe.each(['idp', 'app-a', 'app-b'])('%s, sent a header block over 16 KiB', (name) => {
  it('answers 431 with a JSON body, and closes the connection', async () => {
    const raw = await send(ports[name]!, `GET / HTTP/1.1\r\nHost: x\r\nCookie: a=${'x'.repeat(20_000)}\r\n\r\n`);
    const [head = '', body] = raw.split('\r\n\r\n');
    const lines = head.split('\r\n');
    expect(lines[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(lines).toContain('Connection: close');
    expect(lines).toContain('Content-Type: application/json');
    expect(JSON.parse(body!)).toEqual({
      error: 'invalid_request',
      error_description: expect.stringContaining('header'),
    });
  });

  it('answers a request line that is not HTTP with Node’s own bare 400, as before', async () => {
    const raw = await send(ports[name]!, 'NOT HTTP AT ALL\r\n\r\n');
    expect(raw).toBe('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
});
