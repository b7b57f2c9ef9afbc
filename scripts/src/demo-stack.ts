/**
 * Starts the demo's three sites — the issuer and the two apps — as child processes, seeded and
 * wired to each other. Used by `npm start`, `npm run start:cluster` and the browser end-to-end
 * tests. The issuer is one process, or several nodes on one database behind a load balancer
 * (load-balancer.ts) that answers at the issuer's URL: a browser cannot tell the two apart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './free-ports.js';
import { startLoadBalancer, type LoadBalancer } from './load-balancer.js';
import { seedDemo, type DemoTopology } from './seed-demo.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The demo's services; every issuer node is an `idp`. */
export type ServiceName = 'idp' | 'app-a' | 'app-b';

interface Service {
  kind: ServiceName;
  /** What its output is prefixed with: the kind, or `idp-2` for the second of several nodes. */
  name: string;
  url: string;
  entry: string;
  env: Record<string, string>;
  /** The loopback port it listens on. */
  port: number;
  /** A path that answers 200 once the service is ready. */
  ready: string;
}

/** One issuer process, for tests that take a node down and bring it back. */
export interface IssuerNode {
  name: string;
  /** The loopback port it listens on (the issuer's URL's port when it is the only node). */
  port: number;
  /** Sends `signal` (SIGKILL by default: a crash) and resolves once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again, as it was started first; resolves once it answers. */
  restart(): Promise<void>;
}

export interface DemoStack {
  urls: DemoTopology;
  nodes: IssuerNode[];
  /** Stops every service; resolves when they have exited. */
  stop(): Promise<void>;
  /** Resolves with the name of the first service to exit on its own. */
  exited: Promise<{ name: string; code: number | null }>;
}

export interface DemoStackOptions {
  urls: DemoTopology;
  /** The issuer's database: a SQLite file or a postgres:// URL. */
  database: string;
  password: string;
  /**
   * Issuer nodes (default 1, serving the issuer's URL itself). Above 1, each node listens on a
   * loopback port of its own and nginx balances the issuer's URL over them, round robin.
   */
  issuerNodes?: number;
  /** Extra environment for the issuer node at `index` (from 0), over the rest. */
  nodeEnv?: (index: number) => Record<string, string>;
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
  const probe = `http://127.0.0.1:${service.port}${service.ready}`;
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

/**
 * Where an app keeps its state (`variable`: APP_A_DATABASE, APP_B_DATABASE): as set in `env` or
 * this process's environment; else, beside the issuer's database file (the demo's data dir, a
 * test's temp dir), or in the issuer's PostgreSQL database (the cluster demo): the apps' tables
 * are named apart from the issuer's, and of the two apps only app A keeps sessions.
 */
function appDatabase(options: DemoStackOptions, variable: string, file: string): string {
  const given = options.env?.[variable] || process.env[variable];
  if (given) return given;
  return /^postgres(ql)?:\/\//i.test(options.database) ? options.database : resolve(dirname(options.database), file);
}

/** The issuer's processes: one on the issuer's URL, or `nodes` on ports of their own. */
async function issuerServices(
  issuer: string,
  nodes: number,
  env: Record<string, string>,
  nodeEnv: DemoStackOptions['nodeEnv'],
): Promise<Service[]> {
  const ready = '/.well-known/openid-configuration';
  if (nodes === 1) {
    return [
      {
        kind: 'idp',
        name: 'idp',
        url: issuer,
        port: portOf(issuer),
        entry: IDP,
        env: { ...env, ...nodeEnv?.(0) },
        ready,
      },
    ];
  }
  const ports = await freePorts(nodes);
  return ports.map((port, i) => ({
    kind: 'idp',
    name: `idp-${i + 1}`,
    url: issuer,
    port,
    entry: IDP,
    // Behind the balancer, the client's address is the one nginx saw (X-Forwarded-For).
    env: { ...env, TESSERA_PORT: String(port), TESSERA_TRUST_PROXY: '127.0.0.1', ...nodeEnv?.(i) },
    ready,
  }));
}

const IDP = 'idp/src/main.ts';

/** Seeds the demo data and starts the issuer (and its balancer), then app A and app B. */
export async function startDemoStack(options: DemoStackOptions): Promise<DemoStack> {
  const { urls, database } = options;
  const nodes = options.issuerNodes ?? 1;
  const { appASecret } = await seedDemo(database, urls, options.password);
  const common = { ...options.env, TESSERA_ISSUER: urls.issuer };
  const services: Service[] = [
    ...(await issuerServices(urls.issuer, nodes, { ...common, TESSERA_DATABASE: database }, options.nodeEnv)),
    {
      kind: 'app-a',
      name: 'app-a',
      url: urls.appA,
      port: portOf(urls.appA),
      entry: 'relying-apps/app-a/src/main.ts',
      env: {
        ...common,
        APP_A_URL: urls.appA,
        APP_A_CLIENT_SECRET: appASecret,
        // App A calls app B's API for the person, with a token exchanged for it.
        APP_B_URL: urls.appB,
        APP_A_DATABASE: appDatabase(options, 'APP_A_DATABASE', 'app-a.db'),
      },
      ready: '/',
    },
    {
      kind: 'app-b',
      name: 'app-b',
      url: urls.appB,
      port: portOf(urls.appB),
      entry: 'relying-apps/app-b/src/main.ts',
      env: { ...common, APP_B_URL: urls.appB, APP_B_DATABASE: appDatabase(options, 'APP_B_DATABASE', 'app-b.db') },
      ready: '/',
    },
  ];

  /** The running process of each service, by name; replaced when a node restarts. */
  const children = new Map<string, ChildProcess>();
  /** Nodes taken down on purpose: their exit is not the stack failing. */
  const downOnPurpose = new Set<string>();
  let stopping = false;
  let onExit!: (v: { name: string; code: number | null }) => void;
  const exited = new Promise<{ name: string; code: number | null }>((r) => (onExit = r));
  let balancer: LoadBalancer | undefined;
  const launch = async (s: Service) => {
    const child = start({ ...s, env: { ...s.env, ...options.serviceEnv?.[s.kind] } }, options.output);
    children.set(s.name, child);
    child.once('exit', (code) => {
      if (!stopping && !downOnPurpose.has(s.name)) onExit({ name: s.name, code });
    });
    await waitUntilReady(s, child);
  };
  const stop = async () => {
    stopping = true;
    await balancer?.stop();
    await Promise.all([...children.values()].map((c) => ended(c, 'SIGTERM')));
  };
  try {
    for (const s of services) {
      await launch(s);
      if (s.name === `idp-${nodes}`) {
        const upstreams = services.filter((n) => n.kind === 'idp').map((n) => n.port);
        const output = options.output ?? ((service, line) => process.stderr.write(`[${service}] ${line}\n`));
        balancer = await startLoadBalancer({ port: portOf(urls.issuer), upstreams, output: (l) => output('nginx', l) });
        void balancer.exited.then((code) => {
          if (!stopping) onExit({ name: 'nginx', code });
        });
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const issuerNodes = services
    .filter((s) => s.kind === 'idp')
    .map((s) => ({
      name: s.name,
      port: s.port,
      kill: async (signal: NodeJS.Signals = 'SIGKILL') => {
        downOnPurpose.add(s.name);
        await ended(children.get(s.name)!, signal);
      },
      restart: async () => {
        await launch(s);
        downOnPurpose.delete(s.name);
      },
    }));
  return { urls, nodes: issuerNodes, stop, exited };
}

/** Sends `signal` to a process (then SIGKILL after 3 s) and resolves once it has exited. */
function ended(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.once('exit', () => r());
    child.kill(signal);
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}
