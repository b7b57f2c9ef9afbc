/**
 * Starts the demo's three sites — the issuer and the two apps — as child processes, seeded and
 * wired to each other. Used by `npm start` and by the browser end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedDemo, type DemoTopology } from './seed-demo.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The demo's services, by the name their output is prefixed with. */
export type ServiceName = 'idp' | 'app-a' | 'app-b';

interface Service {
  name: ServiceName;
  url: string;
  entry: string;
  env: Record<string, string>;
  /** A path that answers 200 once the service is ready. */
  ready: string;
}

export interface DemoStack {
  urls: DemoTopology;
  /** Stops every service; resolves when they have exited. */
  stop(): Promise<void>;
  /** Resolves with the name of the first service to exit on its own. */
  exited: Promise<{ name: string; code: number | null }>;
}

export interface DemoStackOptions {
  urls: DemoTopology;
  databaseFile: string;
  password: string;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /**
   * Extra environment for one service alone, over `env`: what a test sets where only one site
   * differs (NODE_OPTIONS with a preload, say, to run the issuer on a clock of its own).
   */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Where service output goes (default: this process's stdout/stderr, prefixed by service). */
  output?: (service: string, line: string) => void;
}

function portOf(url: string): number {
  const u = new URL(url);
  return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
}

function start(service: Service, output: DemoStackOptions['output']): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=@tessera/source', '--import', 'tsx', service.entry], {
    cwd: ROOT,
    env: { ...process.env, ...service.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const write = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      if (output) output(service.name, line);
      else stream.write(`[${service.name}] ${line}\n`);
    }
  };
  child.stdout!.on('data', write(process.stdout));
  child.stderr!.on('data', write(process.stderr));
  return child;
}

async function waitUntilReady(service: Service, child: ChildProcess): Promise<void> {
  // Node does not resolve *.localhost, so probe the loopback address the service listens on.
  const probe = `http://127.0.0.1:${portOf(service.url)}${service.ready}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${service.name} exited with code ${child.exitCode}`);
    try {
      const res = await fetch(probe, { headers: { host: new URL(service.url).host } });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${service.name} did not become ready at ${service.url}`);
}

/** Seeds the demo data and starts the issuer, then app A and app B. */
export async function startDemoStack(options: DemoStackOptions): Promise<DemoStack> {
  const { urls, databaseFile } = options;
  const { appASecret } = await seedDemo(databaseFile, urls, options.password);
  const common = { ...options.env, TESSERA_ISSUER: urls.issuer };
  const services: Service[] = [
    {
      name: 'idp',
      url: urls.issuer,
      entry: 'idp/src/main.ts',
      env: { ...common, TESSERA_DATABASE: databaseFile },
      ready: '/.well-known/openid-configuration',
    },
    {
      name: 'app-a',
      url: urls.appA,
      entry: 'relying-apps/app-a/src/main.ts',
      env: { ...common, APP_A_URL: urls.appA, APP_A_CLIENT_SECRET: appASecret },
      ready: '/',
    },
    {
      name: 'app-b',
      url: urls.appB,
      entry: 'relying-apps/app-b/src/main.ts',
      env: { ...common, APP_B_URL: urls.appB },
      ready: '/',
    },
  ];

  const children: ChildProcess[] = [];
  let stopping = false;
  let onExit!: (v: { name: string; code: number | null }) => void;
  const exited = new Promise<{ name: string; code: number | null }>((r) => (onExit = r));
  const stop = async () => {
    stopping = true;
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((r) => {
            if (c.exitCode !== null || c.signalCode !== null) return r();
            c.once('exit', () => r());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 3000).unref();
          }),
      ),
    );
  };
  try {
    for (const s of services) {
      const child = start({ ...s, env: { ...s.env, ...options.serviceEnv?.[s.name] } }, options.output);
      children.push(child);
      child.once('exit', (code) => {
        if (!stopping) onExit({ name: s.name, code });
      });
      await waitUntilReady(s, child);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { urls, stop, exited };
}
