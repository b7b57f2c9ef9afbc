/**
 * `npm start`: seeds the demo, starts the issuer and the relying apps, prints their URLs and
 * the demo credentials, and stops them all on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, ConfigError } from '@tessera/idp';
import { DEMO_USERS, seedDemo } from './seed-demo.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The documented demo password; override with DEMO_PASSWORD. */
export const DEFAULT_DEMO_PASSWORD = 'tessera-demo-password';

interface Service {
  name: string;
  url: string;
  entry: string;
  env: Record<string, string>;
  /** A path that answers 200 when the service is ready. */
  ready: string;
}

function portOf(url: string): number {
  const u = new URL(url);
  return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
}

function start(service: Service): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=@tessera/source', '--import', 'tsx', service.entry], {
    cwd: ROOT,
    env: { ...process.env, ...service.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => `[${service.name}] ${l}\n`)
      .join('');
  child.stdout!.on('data', (c: Buffer) => process.stdout.write(prefix(c)));
  child.stderr!.on('data', (c: Buffer) => process.stderr.write(prefix(c)));
  return child;
}

async function waitUntilReady(service: Service, child: ChildProcess): Promise<void> {
  const probe = `http://127.0.0.1:${portOf(service.url)}${service.ready}`;
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error(`${service.name} exited with code ${child.exitCode}`);
    try {
      const res = await fetch(probe, { headers: { host: new URL(service.url).host } });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${service.name} did not become ready at ${service.url}`);
}

async function main(): Promise<void> {
  const env = process.env;
  const databaseFile = env.TESSERA_DATABASE || resolve(ROOT, 'data/tessera.db');
  const config = loadConfig({ ...env, TESSERA_DATABASE: databaseFile });
  const urls = {
    issuer: config.issuer,
    appA: (env.APP_A_URL || 'http://app-a.localhost:4001').replace(/\/+$/, ''),
    appB: (env.APP_B_URL || 'http://app-b.localhost:4002').replace(/\/+$/, ''),
  };
  const password = env.DEMO_PASSWORD || DEFAULT_DEMO_PASSWORD;
  await seedDemo(databaseFile, urls, password);

  const services: Service[] = [
    { name: 'idp', url: urls.issuer, entry: 'idp/src/main.ts', env: { TESSERA_DATABASE: databaseFile }, ready: '/.well-known/openid-configuration' },
  ];

  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    setTimeout(() => process.exit(code), 500).unref();
    Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r))))).then(() => process.exit(code));
  };
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));

  for (const s of services) {
    const child = start(s);
    children.push(child);
    child.once('exit', (code) => {
      if (!stopping) {
        process.stderr.write(`${s.name} stopped unexpectedly (exit code ${code}); stopping the demo\n`);
        stopAll(1);
      }
    });
    await waitUntilReady(s, child);
  }

  process.stdout.write(
    [
      '',
      'Tessera demo is running:',
      ...services.map((s) => `  ${s.name.padEnd(6)} ${s.url}`),
      '',
      'Sign in as any of:',
      ...DEMO_USERS.map((u) => `  ${u.email}  password: ${password}`),
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

main().catch((e) => {
  process.stderr.write(`demo: ${e instanceof ConfigError ? 'configuration error: ' : ''}${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
