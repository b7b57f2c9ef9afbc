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

  it('by default writes to stderr, and the lines survive process.exit right after them', async () => {
    // The servers exit with process.exit on SIGTERM: asynchronous output must still be flushed.
    const script = [
      "import { createLogger } from './src/log/pino-logger.ts';",
      "const log = createLogger('idp');",
      "for (let i = 0; i < 1000; i++) log.info('tick', { i });",
      'process.exit(0);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: SHARED,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const code = await new Promise<number | null>((done) => child.once('close', done));
    expect(code).toBe(0);
    expect(stdout).toBe('');
    const lines = stderr
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(1000);
    expect(lines.at(-1)).toMatchObject({ level: 'info', app: 'idp', event: 'tick', i: 999 });
  });
});
