/**
 * A command-line app that signs in with the device authorization grant and then calls app B's API
 * for the person — sign-in across devices: the code is typed (or scanned) on a phone or laptop
 * where the person may already be signed in, and this terminal never sees a password.
 *
 *   npm run app-cli            (with the demo running: npm start)
 */
import { createLoopbackFetch } from '@tessera/shared/node';
import { callAppB } from './call-app-b.js';
import { ConfigError, loadConfig, type AppCliConfig } from './config.js';
import { signInOnDevice } from './device-sign-in.js';

async function main(): Promise<number> {
  let config: AppCliConfig;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  // *.localhost names resolve to loopback here as they do in a browser.
  const fetch = createLoopbackFetch();
  const print = (text: string) => process.stdout.write(`${text}\n`);
  try {
    const person = await signInOnDevice(config, fetch, print);
    print(`Signed in as ${person.name}.`);
    const answer = await callAppB(config.appBUrl, person.accessToken, fetch);
    print(
      `App B's API (${config.appBUrl}) says: you are ${answer.name ?? answer.sub}` +
        `${answer.email ? ` <${answer.email}>` : ''}, calling through ${answer.client_id}.`,
    );
    return 0;
  } catch (e) {
    // openid-client's errors carry the OAuth error code (access_denied, expired_token…).
    const code = e && typeof e === 'object' && 'error' in e ? ` (${String(e.error)})` : '';
    process.stderr.write(`Sign-in failed${code}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

process.exitCode = await main();
