/**
 * `npm start`: seeds the demo, starts the issuer and the two apps on three distinct sites,
 * prints their URLs and the demo credentials, and stops them all on Ctrl-C.
 *
 * `npm run start:cluster` (`--cluster`): the same three sites, but the issuer is three nodes on
 * one PostgreSQL database (a throwaway server, unless TESSERA_DATABASE names one) behind nginx.
 */
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '@tessera/idp';
import { startThrowawayPostgres, type ThrowawayPostgres } from '@tessera/shared/testing';
import { ROOT, startDemoStack } from './demo-stack.js';
import { DEMO_USERS } from './seed-demo.js';

/** The cluster demo's issuer nodes. */
const CLUSTER_NODES = 3;

/** The documented demo password; override with DEMO_PASSWORD. */
export const DEFAULT_DEMO_PASSWORD = 'tessera-demo-password';

const trimSlash = (url: string) => url.replace(/\/+$/, '');

async function main(): Promise<void> {
  const env = process.env;
  const cluster = process.argv.includes('--cluster');
  const postgres: ThrowawayPostgres | undefined =
    cluster && !env.TESSERA_DATABASE ? await startThrowawayPostgres() : undefined;
  const database = env.TESSERA_DATABASE || postgres?.url || resolve(ROOT, 'data/tessera.db');
  // Validates the issuer's settings before anything starts.
  const config = loadConfig({ ...env, TESSERA_DATABASE: database });
  const urls = {
    issuer: config.issuer,
    appA: trimSlash(env.APP_A_URL || 'http://app-a.localhost:4001'),
    appB: trimSlash(env.APP_B_URL || 'http://app-b.localhost:4002'),
  };
  const password = env.DEMO_PASSWORD || DEFAULT_DEMO_PASSWORD;
  const nodes = cluster ? CLUSTER_NODES : 1;
  const stack = await startDemoStack({ urls, database, password, issuerNodes: nodes }).catch(async (e) => {
    await postgres?.stop();
    throw e;
  });

  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    await postgres?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  void stack.exited.then(({ name, code }) => {
    process.stderr.write(`${name} stopped unexpectedly (exit code ${code}); stopping the demo\n`);
    void shutdown(1);
  });

  process.stdout.write(
    [
      '',
      'Tessera demo is running on three sites:',
      `  issuer  ${urls.issuer}${nodes > 1 ? `   (${nodes} nodes behind nginx, on ${database})` : ''}`,
      `  app A   ${urls.appA}   (server-rendered, session after sign-in)`,
      `  app B   ${urls.appB}   (browser app, DPoP-bound tokens to its API)`,
      '',
      'Open app A, sign in, then open app B: you are signed in there too.',
      'Demo people:',
      ...DEMO_USERS.map((u) => `  ${u.email.padEnd(20)} password: ${password}`),
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

main().catch((e) => {
  process.stderr.write(
    `demo: ${e instanceof ConfigError ? 'configuration error: ' : ''}${e instanceof Error ? e.message : String(e)}\n`,
  );
  process.exit(1);
});
