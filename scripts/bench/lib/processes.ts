/** Servers under test, each in a child process of its own: started, waited for, watched, stopped. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Node arguments that run a TypeScript file from this repository's sources. */
export const TSX = ['--conditions=@tessera/source', '--import', 'tsx'];

/** Children still running: none may outlive the benchmark, however it ends. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the servers\n`);
    process.exit(130);
  });

/** A free loopback port (the server must know its port before it starts: it is in its issuer URL). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

export interface ServerProcess {
  name: string;
  origin: string;
  pid: number;
  /** The last lines the server wrote to stderr (it logs there), for a crash report. */
  logTail(): string;
  /** Throws if the process has exited. */
  assertAlive(): void;
  stop(): Promise<void>;
}

/**
 * Spawns `node <args>` with `env`, its output to `logFile`, and waits until `readyPath` answers
 * 200 at `origin` (at most `timeoutMs`).
 */
export async function startServer(options: {
  name: string;
  args: string[];
  env: Record<string, string>;
  origin: string;
  readyPath: string;
  logFile: string;
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const log = createWriteStream(options.logFile);
  await new Promise((r) => log.once('open', r));
  // BENCH_CPU_PROF_DIR=dir: every server writes its CPU profile there when it stops (node --cpu-prof).
  const profile = process.env.BENCH_CPU_PROF_DIR;
  const args = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`, ...options.args] : options.args;
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', log, log],
  });
  running.add(child);
  let exit: string | undefined;
  child.once('exit', (code, signal) => {
    running.delete(child);
    exit = `exited with ${signal ?? code}`;
  });
  const logTail = () => {
    try {
      return readFileSync(options.logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (exit) throw new Error(`${options.name} ${exit} before it was ready:\n${logTail()}`);
    try {
      const res = await fetch(new URL(options.readyPath, options.origin));
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} did not answer ${options.readyPath} in time:\n${logTail()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name: options.name,
    origin: options.origin,
    pid: child.pid!,
    logTail,
    assertAlive() {
      if (exit) throw new Error(`${options.name} ${exit}:\n${logTail()}`);
    },
    async stop() {
      if (exit) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
      log.end();
    },
  };
}

export const logPath = (dir: string, name: string) => join(dir, `${name.replace(/[^a-z0-9-]+/gi, '-')}.log`);
