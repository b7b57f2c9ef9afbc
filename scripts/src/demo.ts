/**
 * `npm start`: seeds the demo, starts the issuer and the two apps on three distinct sites,
 * prints their URLs and the demo credentials, and stops them all on Ctrl-C.
 */
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from '@tessera/idp';
import { ROOT, startDemoStack } from './demo-stack.js';
import { DEMO_USERS } from './seed-demo.js';

/** The documented demo password; override with DEMO_PASSWORD. */
export const DEFAULT_DEMO_PASSWORD = 'tessera-demo-password';

const trimSlash = (url: string) => url.replace(/\/+$/, '');

async function main(): Promise<void> {
  const env = process.env;
  const databaseFile = env.TESSERA_DATABASE || resolve(ROOT, 'data/tessera.db');
  // Validates the issuer's settings before anything starts.
  const config = loadConfig({ ...env, TESSERA_DATABASE: databaseFile });
  const urls = {
    issuer: config.issuer,
    appA: trimSlash(env.APP_A_URL || 'http://app-a.localhost:4001'),
    appB: trimSlash(env.APP_B_URL || 'http://app-b.localhost:4002'),
  };
  const password = env.DEMO_PASSWORD || DEFAULT_DEMO_PASSWORD;
  const stack = await startDemoStack({ urls, databaseFile, password });

  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
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
      `  issuer  ${urls.issuer}`,
      `  app A   ${urls.appA}   (server-rendered, session after sign-in)`,
      `  app B   ${urls.appB}   (browser app, bearer tokens to its API)`,
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
