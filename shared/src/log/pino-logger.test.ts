import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger } from './pino-logger.js';

const SHARED = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function collect(): { lines: Record<string, unknown>[]; write(line: string): void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes one JSON line per event: level, ISO time, app, the fields, and the event', () => {
    const destination = collect();
    const log = createLogger('app-a', { destination });
    log.info('listening', { port: 4001 });
    log.warn('config.demo_key_encryption_key');
    log.error('unhandled', { path: '/token', error: 'TypeError' });
    expect(destination.lines.map(({ time, ...rest }) => rest)).toEqual([
      { level: 'info', app: 'app-a', port: 4001, event: 'listening' },
      { level: 'warn', app: 'app-a', event: 'config.demo_key_encryption_key' },
      { level: 'error', app: 'app-a', path: '/token', error: 'TypeError', event: 'unhandled' },
    ]);
    for (const { time } of destination.lines) expect(new Date(time as string).toISOString()).toBe(time);
  });

  it('by default writes to stderr, and the lines survive process.exit right after them, in order', async () => {
    // The servers exit with process.exit on SIGTERM: every line must be out by then, in the order
    // logged — also when whoever reads stderr is slow and the pipe is full (a loaded machine).
    const count = 5000;
    const script = [
      "import { pbkdf2 } from 'node:crypto';",
      "import { createLogger } from './src/log/pino-logger.ts';",
      // libuv's four threads busy, as argon2id keeps them during sign-ins: no write can start there.
      "for (let t = 0; t < 4; t++) pbkdf2('password', 'salt', 3_000_000, 32, 'sha256', () => {});",
      "const log = createLogger('idp');",
      `for (let i = 0; i < ${count}; i++) log.info('tick', { i });`,
      "process.stdout.write('logged');",
      'process.exit(0);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: SHARED,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    // A slow reader: stderr is read only a moment after the child started writing, so its pipe fills up.
    child.stderr.pause();
    setTimeout(() => child.stderr.on('data', (chunk: Buffer) => (stderr += chunk)).resume(), 1000);
    const code = await new Promise<number | null>((done) => child.once('close', done));
    expect(code).toBe(0);
    expect(stdout).toBe('logged');
    const lines = stderr
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(count);
    expect(lines.map((line) => line.i)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(lines.at(-1)).toMatchObject({ level: 'info', app: 'idp', event: 'tick', i: count - 1 });
  });
});
