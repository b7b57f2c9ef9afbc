/**
 * The issuer as a real child process, the way it runs in production (`src/main.ts`), on a free
 * loopback port: for load and crash tests that need a process to kill.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const IDP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A port nothing listens on right now (the OS picks it; it is closed again at once). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface IssuerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** The last lines the process wrote (stderr and stdout), for diagnosis. */
  output: string[];
  /** Log lines of requests that ended in a 500 (`"event":"unhandled"`). */
  unhandled: string[];
  /** Every log line about the processes (`issuer.*`, `cluster.*` events), parsed, in order. */
  processEvents: Record<string, unknown>[];
  /** SIGTERM and wait for the exit (a clean shutdown). */
  stop(): Promise<void>;
  /** SIGKILL (`kill -9`) and wait for the exit: no shutdown code runs. */
  kill9(): Promise<void>;
}

const MAX_OUTPUT_LINES = 200;

/** Starts `node --conditions=@tessera/source --import tsx src/main.ts` and waits until discovery answers. */
export async function spawnIssuer(options: {
  /** TESSERA_DATABASE: a file path or a postgres:// URL. */
  database: string;
  port: number;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}): Promise<IssuerProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const child = spawn(process.execPath, ['--conditions=@tessera/source', '--import', 'tsx', 'src/main.ts'], {
    cwd: IDP_DIR,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TESSERA_ISSUER: url,
      TESSERA_HOST: '127.0.0.1',
      TESSERA_PORT: String(options.port),
      TESSERA_DATABASE: options.database,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const unhandled: string[] = [];
  const processEvents: Record<string, unknown>[] = [];
  // The pipes are always drained: a child writing to a full pipe would block. A chunk may end
  // inside a line: the rest of it comes with the next chunk of the same pipe.
  const collector = () => {
    let partial = '';
    return (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line) continue;
        if (line.includes('"event":"unhandled"')) unhandled.push(line.slice(0, 2000));
        if (/"event":"(issuer|cluster)\./.test(line)) processEvents.push(JSON.parse(line) as Record<string, unknown>);
        output.push(line.slice(0, 2000));
        if (output.length > MAX_OUTPUT_LINES) output.shift();
      }
    };
  };
  child.stdout!.on('data', collector());
  child.stderr!.on('data', collector());
  const exited = new Promise<void>((r) => child.once('exit', () => r()));

  const waitExit = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const proc: IssuerProcess = {
    url,
    port: options.port,
    child,
    output,
    unhandled,
    processEvents,
    stop: () => waitExit('SIGTERM'),
    kill9: () => waitExit('SIGKILL'),
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`the issuer exited with code ${child.exitCode}:\n${output.join('\n')}`);
    try {
      const res = await fetch(`${url}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return proc;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await proc.kill9();
  throw new Error(`the issuer did not answer at ${url} in time:\n${output.join('\n')}`);
}

/** What a CLI command run as a process printed, and its exit status. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `npm run idp -- …` as an operator runs it: `src/cli/main.ts`, a process of its own on the
 * database `database`, with `env` on top (the settings the issuer runs with).
 */
export function runCli(database: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@tessera/source', '--import', 'tsx', 'src/cli/main.ts', ...args],
      {
        cwd: IDP_DIR,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TESSERA_DATABASE: database, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code: code ?? 1, stdout, stderr }));
  });
}
